"""Budget forcing as one stop-and-continue driver, shared by every backend.

A backend provides one primitive, `RawCompletion.complete_raw`: stream a completion of a raw
prompt (no chat template), chunk by chunk, stopping when the consumer closes the stream. This
module turns that into the Backend's Delta/GenerationResult stream, with a thinking budget:

- Cap: once the model has spent `budget.max_tokens` thinking tokens, the stream is closed, the
  close tag is appended to what it wrote, and a new completion continues from there with the
  answer.
- Extend: when the model writes the close tag before `budget.min_tokens`, the stream is closed,
  the tag is replaced by `budget.continuation` ("Wait,"), and thinking goes on (at most
  `budget.max_extensions` times).
- A model that does not think (its first words are not the open tag, and the prompt did not open
  one) is left alone: the budget is a no-op.

Each continuation re-sends prompt + text so far; llama.cpp reuses the common prefix in its KV
cache (in-process and in llama-server), vLLM and SGLang have prefix caching, so a restart costs
about one token of prompt processing. The user's stop strings apply to the answer only: a segment
that may contain thinking runs without them, and once the answer starts a new segment is opened
with them.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass, replace
from typing import Literal, Protocol

from engine.llm.base import (
    BudgetOutcome,
    Delta,
    GenerationResult,
    SamplingParams,
    ThinkingBudget,
    ThinkTags,
)
from engine.llm.thinking import DEFAULT_TAGS, ThinkSplitter, prompt_opens_thinking


@dataclass(frozen=True, slots=True)
class RawChunk:
    """Text of one or more generated tokens (`tokens` says how many)."""

    text: str
    tokens: int = 1


@dataclass(frozen=True, slots=True)
class RawEnd:
    """The last item of a raw completion that ran to its end."""

    finish_reason: str  # "stop" (end of text or a stop string) or "length"
    prompt_tokens: int
    completion_tokens: int


class RawCompletion(Protocol):
    """What a backend provides for the driver. Closing the iterator must stop generation."""

    def complete_raw(
        self, prompt: str, params: SamplingParams
    ) -> AsyncGenerator[RawChunk | RawEnd, None]: ...

    async def count_tokens(self, text: str) -> int:
        """Tokens in `text` (an estimate where the server cannot say)."""
        ...


Mode = Literal["undecided", "thinking", "answer"]


async def generate_stream(
    raw: RawCompletion,
    prompt: str,
    params: SamplingParams,
    budget: ThinkingBudget | None = None,
    tags: ThinkTags = DEFAULT_TAGS,
) -> AsyncGenerator[Delta | GenerationResult, None]:
    """Deltas as they come, then one GenerationResult. Without a budget: one plain completion,
    thinking still told apart from answer."""
    driver = _Driver(raw, prompt, params, budget, tags)
    async for delta in driver.run():
        yield delta
    yield await driver.result()


class _Driver:
    def __init__(self, raw: RawCompletion, prompt: str, params: SamplingParams,
                 budget: ThinkingBudget | None, tags: ThinkTags) -> None:
        self.raw, self.prompt, self.params = raw, prompt, params
        self.budget, self.tags = budget, tags
        opens = prompt_opens_thinking(prompt, tags)
        self.mode: Mode = "thinking" if opens else "undecided"
        self.splitter = ThinkSplitter(tags, thinking=opens)
        self.generated = ""  # everything after the prompt: model text and inserted text
        self.think_from = 0  # where in `generated` the current thinking began
        self.completion_tokens = 0
        self.thinking_tokens = 0
        self.extensions = 0
        self.capped = False
        self.segments = 0
        self.prompt_tokens: int | None = None
        self.finish = "stop"
        self.started = time.perf_counter()
        self.first_token_at: float | None = None

    async def run(self) -> AsyncGenerator[Delta, None]:
        if self.budget is None:
            async for delta in self._plain():
                yield delta
            return
        while True:
            if self.mode == "thinking" and self.thinking_tokens >= self.budget.max_tokens:
                for delta in self._insert(self._close_text()):
                    yield delta
                self.capped = True
                self.mode = "answer"
            remaining = self.params.max_tokens - self.completion_tokens
            if remaining <= 0:
                self.finish = "length"
                return
            segment = replace(self.params, max_tokens=remaining,
                              stop=self.params.stop if self.mode == "answer" else ())
            ended = False
            async with aclosing(self._segment(segment)) as pieces:
                async for item in pieces:
                    if isinstance(item, RawEnd):
                        ended = True
                    else:
                        yield item
            if ended:
                return

    async def _plain(self) -> AsyncGenerator[Delta, None]:
        async with aclosing(self.raw.complete_raw(self.prompt, self.params)) as chunks:
            async for item in chunks:
                if isinstance(item, RawEnd):
                    self._end(item)
                    continue
                self._count(item, thinking=self.splitter.thinking)
                self.generated += item.text
                for delta in self.splitter.feed(item.text):
                    yield delta
        for delta in self.splitter.flush():
            yield delta

    async def _segment(self, params: SamplingParams) -> AsyncGenerator[Delta | RawEnd, None]:
        """One completion from prompt + text so far. Returns early (closing the model's stream)
        when the driver must intervene; yields the RawEnd when the model finished on its own."""
        assert self.budget is not None
        self.segments += 1
        chunks = self.raw.complete_raw(self.prompt + self.generated, params)
        async with aclosing(chunks):
            async for item in chunks:
                if isinstance(item, RawEnd):
                    self._end(item)
                    for delta in self.splitter.flush():
                        yield delta
                    yield item
                    return
                if self.mode == "undecided":
                    self._decide(item.text)
                self._count(item, thinking=self.mode == "thinking")
                before = len(self.generated)
                self.generated += item.text
                if self.mode != "thinking":
                    for delta in self.splitter.feed(item.text):
                        yield delta
                    if self.mode == "answer" and self.params.stop and not params.stop:
                        return  # the answer began: reopen with the user's stop strings
                    continue
                close_at = self.generated.find(
                    self.tags.close, max(self.think_from, before - len(self.tags.close) + 1))
                if close_at < 0:
                    for delta in self.splitter.feed(item.text):
                        yield delta
                    if self.thinking_tokens >= self.budget.max_tokens:
                        return  # budget spent: the loop closes thinking
                    continue
                if (self.thinking_tokens < self.budget.min_tokens
                        and self.extensions < self.budget.max_extensions):
                    kept = self.generated[before:close_at]
                    self.generated = self.generated[:close_at]
                    if close_at < before:  # the tag began in an earlier chunk, held back
                        self.splitter.drop_pending()
                    for delta in self.splitter.feed(kept):
                        yield delta
                    for delta in self._insert(self.budget.continuation):
                        yield delta
                    self.extensions += 1
                    return
                self.mode = "answer"
                for delta in self.splitter.feed(item.text):
                    yield delta
                if self.params.stop:
                    return

    def _decide(self, text: str) -> None:
        """Before the first words, tell a thinking model from one that answers at once."""
        head = (self.generated + text).lstrip()
        if head.startswith(self.tags.open):
            self.mode = "thinking"
            self.think_from = len(self.generated) + len(text)
        elif head and not self.tags.open.startswith(head):
            self.mode = "answer"

    def _close_text(self) -> str:
        newline = "" if self.generated.endswith("\n") else "\n"
        return f"{newline}{self.tags.close}\n\n"

    def _insert(self, text: str) -> list[Delta]:
        """Text the driver writes for the model (it becomes part of the next prompt)."""
        self.generated += text
        if self.mode == "thinking" and self.tags.close not in text:
            self.think_from = len(self.generated)
        return self.splitter.feed(text)

    def _count(self, chunk: RawChunk, *, thinking: bool) -> None:
        self.first_token_at = self.first_token_at or time.perf_counter()
        self.completion_tokens += chunk.tokens
        if thinking:
            self.thinking_tokens += chunk.tokens

    def _end(self, end: RawEnd) -> None:
        self.finish = end.finish_reason
        if self.segments <= 1:
            self.prompt_tokens = end.prompt_tokens

    async def result(self) -> GenerationResult:
        if self.prompt_tokens is None:
            self.prompt_tokens = await self.raw.count_tokens(self.prompt)
        now = time.perf_counter()
        return GenerationResult(
            thinking=self.splitter.thinking_text,
            answer=self.splitter.answer_text,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            finish_reason=self.finish,
            time_to_first_token_s=(self.first_token_at or now) - self.started,
            elapsed_s=now - self.started,
            budget=BudgetOutcome(
                thinking_tokens=self.thinking_tokens,
                capped=self.capped,
                extensions=self.extensions,
            ),
        )
