"""One model call as events: GenerationStarted, batched TokenDeltas, GenerationFinished.

The prompt is a named template rendered with the problem (from the view only); the event
records the template, its version and the full prompt text, so every answer can be traced to
what produced it. Deltas are batched (`config.token_batch` per event) so viewers are not
flooded one token at a time.

Every call is bounded: a token limit for its purpose (`PipelineConfig.token_limit`), and a loop
guard that closes the stream once the text repeats itself (`engine.llm.guard`), keeping what
came before the loop. Both stops are in the GenerationFinished event (finish_reason "length" or
"loop") and a GenerationStopped event says what was cut, so the workbench and reports show it.
"""

from __future__ import annotations

import dataclasses
import time
from contextlib import aclosing
from dataclasses import dataclass

from engine import events as ev
from engine.extract import extract_code
from engine.llm.base import (
    BudgetTier,
    ChatMessage,
    Delta,
    GenerationResult,
    Prompt,
    SamplingParams,
    ThinkingBudget,
)
from engine.llm.guard import LoopGuard
from engine.pipeline.context import Run
from engine.problems.model import TestKind


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
    prefill: str = "",
    **variables: object,
) -> Generation:
    """Render `template`, stream the model's answer as events, return the whole result.
    BackendError (after the backend's own retries) propagates to the runner.

    `prefill`: the first words of the answer, written for the model (a model that does not
    think only; `answer_prefill` in the config). Small models that ignore "write tests in this
    shape" continue `assert f(` faithfully. The answer returned starts with the prefill."""
    system = run.templates["system"].render()
    prompt_template = run.templates[template]
    user = prompt_template.render(**variables)
    messages: list[ChatMessage] = [ChatMessage("system", system), ChatMessage("user", user)]
    if not (prefill and run.config.answer_prefill and run.model_thinks is False):
        prefill = ""
    prompt: Prompt = messages
    if prefill:
        prompt = run.backend.render_chat(messages) + prefill
    tier = tier or run.tier_for(step)
    thinks = run.model_thinks is not False
    budget = ThinkingBudget.for_tier(tier) if run.config.budget_forcing and thinks else None
    seed = None if run.config.seed is None else run.config.seed + run.usage.generations
    max_tokens = run.config.token_limit(purpose, budget.max_tokens if budget else 0)
    params = SamplingParams(
        temperature=temperature, max_tokens=max_tokens, seed=seed, purpose=purpose
    )
    if run.sampling is not None and temperature > 0:
        params = dataclasses.replace(
            params, top_p=run.sampling.top_p, top_k=run.sampling.top_k
        )
    run.usage.generations += 1

    stream_id = run.next_id("g")
    await run.emit(
        ev.GenerationStarted,
        stream_id=stream_id,
        purpose=purpose,
        template=prompt_template.name,
        template_version=prompt_template.version,
        prompt=f"[system]\n{system}\n\n[user]\n{user}"
        + (f"\n\n[assistant, prefilled]\n{prefill}" if prefill else ""),
        budget_tier=tier.value if budget else "none",
        temperature=temperature,
    )
    if prefill:
        await run.emit(ev.TokenDelta, stream_id=stream_id, text=prefill, tokens=0)
    result = await _stream(run, stream_id, prompt, params, budget)
    if prefill:
        result = dataclasses.replace(result, answer=prefill + result.answer)
    if run.model_thinks is None:
        run.model_thinks = bool(result.thinking.strip() or result.budget.thinking_tokens)
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
    if result.finish_reason in ("length", "loop"):
        await run.emit(
            ev.GenerationStopped,
            stream_id=stream_id,
            purpose=purpose,
            reason=result.finish_reason,
            message=(
                f"{purpose}: stopped at its token limit ({max_tokens})"
                if result.finish_reason == "length"
                else f"{purpose}: stopped after {result.completion_tokens} tokens, the text "
                "was repeating itself; what came before the loop is kept"
            ),
        )
    return Generation(stream_id, result)


async def _stream(
    run: Run,
    stream_id: str,
    prompt: Prompt,
    params: SamplingParams,
    budget: ThinkingBudget | None,
) -> GenerationResult:
    batch: list[str] = []
    channel = "answer"
    result: GenerationResult | None = None
    guards = {"answer": LoopGuard(), "thinking": LoopGuard()} if run.config.loop_guard else {}
    tokens = 0
    started = time.monotonic()
    first_token_at: float | None = None

    async def flush() -> None:
        if batch:
            text = "".join(batch)
            await run.emit(
                ev.TokenDelta, stream_id=stream_id, text=text, channel=channel, tokens=len(batch)
            )
            batch.clear()

    async with aclosing(run.backend.stream(prompt, params, budget=budget)) as stream:
        async for item in stream:
            if isinstance(item, Delta):
                if item.channel != channel:
                    await flush()
                    channel = item.channel
                batch.append(item.text)
                tokens += 1
                first_token_at = first_token_at or time.monotonic()
                guard = guards.get(item.channel)
                if guard is not None and guard.feed(item.text):
                    break  # closing the stream stops the model within a token or two
                if len(batch) >= run.config.token_batch:
                    await flush()
            else:
                result = item
    await flush()
    if result is not None:
        return result
    tripped = [name for name, guard in guards.items() if guard.tripped]
    if not tripped:
        raise RuntimeError("the backend's stream ended without a result")
    # The loop guard closed the stream: the backend's own result never came.
    now = time.monotonic()
    return GenerationResult(
        thinking=guards["thinking"].usable_text(),
        answer=guards["answer"].usable_text(),
        prompt_tokens=0,  # unknown: the backend reports it only with its result
        completion_tokens=tokens,
        finish_reason="loop",
        time_to_first_token_s=(first_token_at or now) - started,
        elapsed_s=now - started,
    )


async def code_from(run: Run, generation: Generation) -> str | None:
    """The program in a generation's answer, or None with a NoCodeFound event."""
    stdin = run.view.test_kind is TestKind.STDIN
    code = extract_code(generation.text, func_name=run.view.func_name, stdin=stdin)
    if code is None or not code.strip():
        reason = "empty answer" if not generation.text.strip() else "no code block in the answer"
        if generation.result.finish_reason == "length":
            reason += " (it stopped at the token limit)"
        await run.emit(ev.NoCodeFound, stream_id=generation.stream_id, reason=reason)
        return None
    return code
