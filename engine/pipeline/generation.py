"""Model calls as events: GenerationStarted, batched TokenDeltas, GenerationFinished.

The prompt is a named template rendered with the problem (from the view only); the event
records the template, its version and the full prompt text, so every answer can be traced to
what produced it. Deltas are batched (`config.token_batch` per event) so viewers are not
flooded one token at a time. `generate` makes one call; `generate_many` asks for several
answers at once (`Backend.stream_many`: one batch in-process, concurrent requests to a server),
each with its own stream id, events and seed.

Every call is bounded: a token limit for its purpose (`PipelineConfig.token_limit`), and the
backend's loop guard (`SamplingParams.loop_guard`, engine/llm/guard.py), which stops a stream
whose text repeats itself and keeps what came before the loop. Both stops are in the
GenerationFinished event (finish_reason "length" or "loop") and a GenerationStopped event says
what was cut, so the workbench and reports show it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from contextlib import aclosing
from dataclasses import dataclass, field

from engine import events as ev
from engine.extract import extract_code
from engine.llm.base import (
    BudgetTier,
    ChatMessage,
    Delta,
    GenerationRequest,
    GenerationResult,
    Prompt,
    SamplingParams,
    ThinkingBudget,
)
from engine.pipeline.context import Run
from engine.problems.model import TestKind


@dataclass(frozen=True, slots=True)
class Generation:
    stream_id: str
    result: GenerationResult

    @property
    def text(self) -> str:
        return self.result.answer


@dataclass(frozen=True, slots=True)
class Ask:
    """One answer to ask for: a template and its variables, and how to sample it.

    `prefill`: the first words of the answer, written for the model (a model that does not
    think only; `answer_prefill` in the config). Small models that ignore "write tests in this
    shape" continue `assert f(` faithfully. The answer returned starts with the prefill."""

    template: str
    purpose: str
    step: str
    temperature: float
    variables: dict[str, object] = field(default_factory=dict)
    tier: BudgetTier | None = None
    prefill: str = ""
    stop: tuple[str, ...] = ()  # the answer ends where one of these would start


@dataclass(frozen=True, slots=True)
class _Call:
    ask: Ask
    stream_id: str
    prompt: Prompt
    params: SamplingParams
    budget: ThinkingBudget | None
    prefill: str


async def generate(
    run: Run,
    *,
    template: str,
    purpose: str,
    step: str,
    temperature: float,
    tier: BudgetTier | None = None,
    prefill: str = "",
    stop: tuple[str, ...] = (),
    **variables: object,
) -> Generation:
    """Render `template`, stream the model's answer as events, return the whole result.
    BackendError (after the backend's own retries) propagates to the runner."""
    ask = Ask(template, purpose, step, temperature, variables, tier, prefill, stop)
    call = await _start(run, ask)
    sink = _Deltas(run, call.stream_id)
    result: GenerationResult | None = None
    stream = run.backend.stream(call.prompt, call.params, budget=call.budget)
    async with aclosing(stream) as items:
        async for item in items:
            if isinstance(item, Delta):
                await sink.add(item)
            else:
                result = item
    await sink.flush()
    if result is None:
        raise RuntimeError("the backend's stream ended without a result")
    return await _finish(run, call, result)


async def generate_many(run: Run, asks: Sequence[Ask]) -> list[Generation]:
    """Several answers in one call to the backend, in the order asked; each is its own stream
    of events, as if asked for one by one."""
    if len(asks) == 1:
        (ask,) = asks
        return [await generate(run, template=ask.template, purpose=ask.purpose, step=ask.step,
                               temperature=ask.temperature, tier=ask.tier, prefill=ask.prefill,
                               stop=ask.stop, **ask.variables)]
    calls = [await _start(run, ask) for ask in asks]
    sinks = [_Deltas(run, call.stream_id) for call in calls]
    results: dict[int, GenerationResult] = {}
    requests = [GenerationRequest(c.prompt, c.params, c.budget) for c in calls]
    async with aclosing(run.backend.stream_many(requests)) as many:
        async for index, item in many:
            if isinstance(item, Delta):
                await sinks[index].add(item)
            else:
                await sinks[index].flush()
                results[index] = item
    missing = [calls[i].stream_id for i in range(len(calls)) if i not in results]
    if missing:
        raise RuntimeError(f"the backend's streams {missing} ended without a result")
    return [await _finish(run, call, results[i]) for i, call in enumerate(calls)]


async def _start(run: Run, ask: Ask) -> _Call:
    """Render the prompt, settle the sampling and budget, emit GenerationStarted."""
    system = run.templates["system"].render()
    prompt_template = run.templates[ask.template]
    user = prompt_template.render(**ask.variables)
    messages: list[ChatMessage] = [ChatMessage("system", system), ChatMessage("user", user)]
    prefill = ask.prefill
    if not (prefill and run.config.answer_prefill and run.model_thinks is False):
        prefill = ""
    prompt: Prompt = messages
    if prefill:
        prompt = run.backend.render_chat(messages) + prefill
    tier = ask.tier or run.tier_for(ask.step)
    thinks = run.model_thinks is not False
    budget = ThinkingBudget.for_tier(tier) if run.config.budget_forcing and thinks else None
    seed = None if run.config.seed is None else run.config.seed + run.usage.generations
    max_tokens = run.config.token_limit(ask.purpose, budget.max_tokens if budget else 0)
    params = SamplingParams(
        temperature=ask.temperature, max_tokens=max_tokens, seed=seed, purpose=ask.purpose,
        loop_guard=run.config.loop_guard, stop=ask.stop,
    )
    if run.sampling is not None and ask.temperature > 0:
        params = dataclasses.replace(
            params, top_p=run.sampling.top_p, top_k=run.sampling.top_k
        )
    run.usage.generations += 1

    stream_id = run.next_id("g")
    await run.emit(
        ev.GenerationStarted,
        stream_id=stream_id,
        purpose=ask.purpose,
        template=prompt_template.name,
        template_version=prompt_template.version,
        prompt=f"[system]\n{system}\n\n[user]\n{user}"
        + (f"\n\n[assistant, prefilled]\n{prefill}" if prefill else ""),
        budget_tier=tier.value if budget else "none",
        temperature=ask.temperature,
    )
    if prefill:
        await run.emit(ev.TokenDelta, stream_id=stream_id, text=prefill, tokens=0)
    return _Call(ask, stream_id, prompt, params, budget, prefill)


async def _finish(run: Run, call: _Call, result: GenerationResult) -> Generation:
    """Count the call, emit GenerationFinished (and GenerationStopped when it was cut)."""
    if call.prefill:
        result = dataclasses.replace(result, answer=call.prefill + result.answer)
    if run.model_thinks is None:
        run.model_thinks = bool(result.thinking.strip() or result.budget.thinking_tokens)
    run.usage.prompt_tokens += result.prompt_tokens
    run.usage.completion_tokens += result.completion_tokens
    if run.answer_tokens is None:
        run.answer_tokens = result.completion_tokens
    await run.emit(
        ev.GenerationFinished,
        stream_id=call.stream_id,
        prompt_tokens=result.prompt_tokens,
        completion_tokens=result.completion_tokens,
        thinking_tokens=result.budget.thinking_tokens,
        elapsed_s=result.elapsed_s,
        tokens_per_s=result.tokens_per_s,
        budget_capped=result.budget.capped,
        budget_extensions=result.budget.extensions,
        finish_reason=result.finish_reason,
    )
    purpose = call.ask.purpose
    if result.finish_reason in ("length", "loop"):
        await run.emit(
            ev.GenerationStopped,
            stream_id=call.stream_id,
            purpose=purpose,
            reason=result.finish_reason,
            message=(
                f"{purpose}: stopped at its token limit ({call.params.max_tokens})"
                if result.finish_reason == "length"
                else f"{purpose}: stopped after {result.completion_tokens} tokens, the text "
                "was repeating itself; what came before the loop is kept"
            ),
        )
    return Generation(call.stream_id, result)


class _Deltas:
    """One stream's text as TokenDelta events, `config.token_batch` tokens at a time."""

    def __init__(self, run: Run, stream_id: str) -> None:
        self._run = run
        self._stream_id = stream_id
        self._batch: list[str] = []
        self._channel = "answer"

    async def add(self, delta: Delta) -> None:
        if delta.channel != self._channel:
            await self.flush()
            self._channel = delta.channel
        self._batch.append(delta.text)
        if len(self._batch) >= self._run.config.token_batch:
            await self.flush()

    async def flush(self) -> None:
        if self._batch:
            await self._run.emit(
                ev.TokenDelta, stream_id=self._stream_id, text="".join(self._batch),
                channel=self._channel, tokens=len(self._batch),
            )
            self._batch.clear()


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
