"""The budget driver's stream, with the loop guard a request may ask for (`params.loop_guard`).

The guard (engine/llm/guard.py) watches the raw completion under the budget driver: once the
text has fallen into a loop, that completion is closed (which stops the model) and ends with
finish_reason "loop", so the driver ends the generation as it would at a stop, with its exact
token counts and budget outcome. The answer is then cut to what came before the loop plus one
period. One guard watches every segment of a budget-forced generation, so a loop that spans a
continuation is still seen.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import replace

from engine.llm.base import Delta, GenerationResult, SamplingParams, ThinkingBudget, ThinkTags
from engine.llm.budget import RawChunk, RawCompletion, RawEnd, generate_stream
from engine.llm.guard import LoopGuard, find_loop
from engine.llm.thinking import DEFAULT_TAGS


async def guarded_stream(
    raw: RawCompletion,
    prompt: str,
    params: SamplingParams,
    budget: ThinkingBudget | None = None,
    tags: ThinkTags = DEFAULT_TAGS,
) -> AsyncGenerator[Delta | GenerationResult, None]:
    """`generate_stream`, stopped early with finish_reason "loop" when `params.loop_guard` is
    on and the text loops."""
    if not params.loop_guard:
        source = generate_stream(raw, prompt, params, budget, tags)
    else:
        source = generate_stream(_Watched(raw), prompt, params, budget, tags)
    async with aclosing(source) as items:
        async for item in items:
            if isinstance(item, GenerationResult) and item.finish_reason == "loop":
                item = replace(item, answer=cut_loop(item.answer))
            yield item


def cut_loop(text: str, guard: LoopGuard | None = None) -> str:
    """`text` up to its looping tail plus one period (all of it when its tail does not loop)."""
    guard = guard or LoopGuard()
    found = find_loop(text, guard.max_period, guard.min_span, guard.min_repeats)
    return text if found is None else text[: found[0] + found[1]]


class _Watched:
    """A RawCompletion whose completions end with "loop" once the guard trips."""

    def __init__(self, raw: RawCompletion) -> None:
        self._raw = raw
        self._guard = LoopGuard()

    async def complete_raw(self, prompt: str, params: SamplingParams
                           ) -> AsyncGenerator[RawChunk | RawEnd, None]:
        tokens = 0
        async with aclosing(self._raw.complete_raw(prompt, params)) as chunks:
            async for item in chunks:
                yield item
                if isinstance(item, RawEnd):
                    return
                tokens += item.tokens
                if self._guard.feed(item.text):
                    break  # closing the completion stops the model
        yield RawEnd("loop", await self._raw.count_tokens(prompt), tokens)

    async def count_tokens(self, text: str) -> int:
        return await self._raw.count_tokens(text)
