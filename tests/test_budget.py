"""Budget forcing's driver and the thinking/answer splitter, on a replayed raw completion.

The real-model checks of cap, extension and no-op are in tests/backend_suite.py (run on
llama.cpp and on a server); here the model's output is fixed so that edge cases (tags split
across chunks, stop strings inside thinking, a zero budget) happen for certain.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from engine.llm.base import Delta, GenerationResult, SamplingParams, ThinkingBudget, ThinkTags
from engine.llm.budget import RawChunk, RawEnd, generate_stream
from engine.llm.thinking import ThinkSplitter, prompt_opens_thinking

PROMPT = "<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n"


class ReplayRaw:
    """A raw completion whose output is `respond(prompt)`, token by token; honours max_tokens
    and stop strings like a server, and records every call."""

    def __init__(self, respond: Callable[[str], list[str]]) -> None:
        self.respond = respond
        self.calls: list[tuple[str, SamplingParams]] = []
        self.counted: list[str] = []

    async def complete_raw(self, prompt: str, params: SamplingParams
                           ) -> AsyncIterator[RawChunk | RawEnd]:
        self.calls.append((prompt, params))
        text, n = "", 0
        for token in self.respond(prompt):
            if n == params.max_tokens:
                yield RawEnd("length", len(prompt), n)
                return
            n += 1
            text += token
            hits = [text.find(s) for s in params.stop if s in text]
            if hits:
                cut = min(hits) - (len(text) - len(token))
                yield RawChunk(token[:max(cut, 0)])
                yield RawEnd("stop", len(prompt), n)
                return
            yield RawChunk(token)
        yield RawEnd("stop", len(prompt), n)

    async def count_tokens(self, text: str) -> int:
        self.counted.append(text)
        return len(text)


async def run(raw: ReplayRaw, prompt: str, params: SamplingParams,
              budget: ThinkingBudget | None) -> tuple[list[Delta], GenerationResult]:
    items = [item async for item in generate_stream(raw, prompt, params, budget)]
    result = items[-1]
    assert isinstance(result, GenerationResult)
    return [i for i in items if isinstance(i, Delta)], result


def test_splitter_holds_back_tags_split_across_pieces() -> None:
    splitter = ThinkSplitter()
    deltas = [d for piece in ["<thi", "nk>ab", "c</th", "ink>an", "s"]
              for d in splitter.feed(piece)] + splitter.flush()
    assert [(d.channel, d.text) for d in deltas] == [
        ("thinking", "ab"), ("thinking", "c"), ("answer", "an"), ("answer", "s")]
    assert all("<" not in d.text for d in deltas)


def test_only_one_think_block_and_only_before_the_answer() -> None:
    late = ThinkSplitter()
    late.feed("x = '<think>'")
    assert late.answer_text == "x = '<think>'" and late.thinking_text == ""
    second = ThinkSplitter(thinking=True)
    second.feed("a</think>b<think>c")
    assert (second.thinking_text, second.answer_text) == ("a", "b<think>c")
    assert prompt_opens_thinking(PROMPT + "<think>\n")
    assert not prompt_opens_thinking(PROMPT + "<think>\n\n</think>\n\n")
    assert not prompt_opens_thinking(PROMPT)


async def test_an_early_close_split_across_chunks_is_replaced_by_the_cue() -> None:
    def respond(prompt: str) -> list[str]:
        return ["a", " b", "</th", "ink>", "ans"] if prompt.count("Wait,") < 1 else \
            ["c", " d", " e", "</think>", "final"]

    raw = ReplayRaw(respond)
    budget = ThinkingBudget(min_tokens=5, max_tokens=100, max_extensions=3)
    deltas, result = await run(raw, PROMPT + "<think>\n", SamplingParams(), budget)
    assert result.budget.extensions == 1 and not result.budget.capped
    assert result.thinking == "a b\nWait,c d e" and result.answer == "final"
    continued = raw.calls[1][0]
    assert continued.endswith("a b\nWait,") and "</th" not in continued.removeprefix(PROMPT)
    assert "".join(d.text for d in deltas if d.channel == "thinking") == result.thinking


async def test_stop_strings_apply_to_the_answer_not_to_thinking() -> None:
    def respond(prompt: str) -> list[str]:
        if "</think>" in prompt.removeprefix(PROMPT):
            return ["x", "END", "y"]
        return ["<think>", "plan END plan", "</think>", "\n", "x", "END", "y"]

    raw = ReplayRaw(respond)
    budget = ThinkingBudget(min_tokens=0, max_tokens=100)
    _, result = await run(raw, PROMPT, SamplingParams(stop=("END",)), budget)
    assert result.thinking == "plan END plan"
    # the answer segment was reopened with the stop string as soon as thinking closed
    assert result.answer == "x" and result.finish_reason == "stop"
    assert raw.calls[0][1].stop == () and raw.calls[-1][1].stop == ("END",)


async def test_a_zero_budget_closes_thinking_at_once() -> None:
    def respond(prompt: str) -> list[str]:
        if prompt.endswith("</think>\n\n"):
            return ["the", " answer"]
        return ["<think>", "long", " thoughts"]

    raw = ReplayRaw(respond)
    _, result = await run(raw, PROMPT, SamplingParams(), ThinkingBudget(0, 0))
    assert result.budget.capped and result.budget.thinking_tokens == 1  # the open tag
    assert result.thinking.strip() == "" and result.answer.endswith("the answer")
    assert raw.counted == [PROMPT]  # the first completion was cut: prompt tokens counted apart


async def test_without_a_budget_one_plain_completion_is_made() -> None:
    raw = ReplayRaw(lambda _: ["<think>", "hm", "</think>", "ok"])
    _, result = await run(raw, PROMPT, SamplingParams(max_tokens=3), None)
    assert len(raw.calls) == 1 and result.finish_reason == "length"
    assert (result.thinking, result.answer) == ("hm", "")
    assert result.prompt_tokens == len(PROMPT) and raw.counted == []


async def test_the_tags_are_configurable() -> None:
    tags = ThinkTags("<reasoning>", "</reasoning>")

    def respond(prompt: str) -> list[str]:
        if prompt.endswith("</reasoning>\n\n"):
            return ["done"]
        return ["<reasoning>", *[" r"] * 50]

    raw = ReplayRaw(respond)
    items = [i async for i in generate_stream(raw, PROMPT, SamplingParams(),
                                              ThinkingBudget(max_tokens=5), tags)]
    result = items[-1]
    assert isinstance(result, GenerationResult)
    assert result.budget.capped and result.thinking == " r" * 4 + "\n"
    assert result.answer == "\n\ndone"
