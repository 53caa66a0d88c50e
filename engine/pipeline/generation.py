"""One model call as events: GenerationStarted, batched TokenDeltas, GenerationFinished.

The prompt is a named template rendered with the problem (from the view only); the event
records the template, its version and the full prompt text, so every answer can be traced to
what produced it. Deltas are batched (`config.token_batch` per event) so viewers are not
flooded one token at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine import events as ev
from engine.extract import extract_code
from engine.llm.base import (
    BudgetTier,
    ChatMessage,
    Delta,
    GenerationResult,
    SamplingParams,
    ThinkingBudget,
)
from engine.pipeline.context import Run


@dataclass(frozen=True, slots=True)
class Generation:
    stream_id: str
    result: GenerationResult

    @property
    def text(self) -> str:
        return self.result.answer


async def generate(
    run: Run,
    *,
    template: str,
    purpose: str,
    step: str,
    temperature: float,
    tier: BudgetTier | None = None,
    **variables: object,
) -> Generation:
    """Render `template`, stream the model's answer as events, return the whole result.
    BackendError (after the backend's own retries) propagates to the runner."""
    system = run.templates["system"].render()
    prompt_template = run.templates[template]
    user = prompt_template.render(**variables)
    messages = [ChatMessage("system", system), ChatMessage("user", user)]
    tier = tier or run.tier_for(step)
    budget = ThinkingBudget.for_tier(tier) if run.config.budget_forcing else None
    seed = None if run.config.seed is None else run.config.seed + run.usage.generations
    params = SamplingParams(
        temperature=temperature, max_tokens=run.config.max_tokens, seed=seed, purpose=purpose
    )
    run.usage.generations += 1

    stream_id = run.next_id("g")
    await run.emit(
        ev.GenerationStarted,
        stream_id=stream_id,
        purpose=purpose,
        template=prompt_template.name,
        template_version=prompt_template.version,
        prompt=f"[system]\n{system}\n\n[user]\n{user}",
        budget_tier=tier.value if budget else "none",
        temperature=temperature,
    )
    result = await _stream(run, stream_id, messages, params, budget)
    run.usage.prompt_tokens += result.prompt_tokens
    run.usage.completion_tokens += result.completion_tokens
    await run.emit(
        ev.GenerationFinished,
        stream_id=stream_id,
        prompt_tokens=result.prompt_tokens,
        completion_tokens=result.completion_tokens,
        thinking_tokens=result.budget.thinking_tokens,
        elapsed_s=result.elapsed_s,
        tokens_per_s=result.tokens_per_s,
        budget_capped=result.budget.capped,
        budget_extensions=result.budget.extensions,
        finish_reason=result.finish_reason,
    )
    return Generation(stream_id, result)


async def _stream(
    run: Run,
    stream_id: str,
    messages: list[ChatMessage],
    params: SamplingParams,
    budget: ThinkingBudget | None,
) -> GenerationResult:
    batch: list[str] = []
    channel = "answer"
    result: GenerationResult | None = None

    async def flush() -> None:
        if batch:
            text = "".join(batch)
            await run.emit(
                ev.TokenDelta, stream_id=stream_id, text=text, channel=channel, tokens=len(batch)
            )
            batch.clear()

    async for item in run.backend.stream(messages, params, budget=budget):
        if isinstance(item, Delta):
            if item.channel != channel:
                await flush()
                channel = item.channel
            batch.append(item.text)
            if len(batch) >= run.config.token_batch:
                await flush()
        else:
            result = item
    await flush()
    if result is None:
        raise RuntimeError("the backend's stream ended without a result")
    return result


async def code_from(run: Run, generation: Generation) -> str | None:
    """The program in a generation's answer, or None with a NoCodeFound event."""
    code = extract_code(generation.text, func_name=run.view.func_name)
    if code is None or not code.strip():
        reason = "empty answer" if not generation.text.strip() else "no code block in the answer"
        if generation.result.finish_reason == "length":
            reason += " (it stopped at the token limit)"
        await run.emit(ev.NoCodeFound, stream_id=generation.stream_id, reason=reason)
        return None
    return code
