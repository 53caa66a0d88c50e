"""ScriptedBackend, the test double the pipeline tests drive: same protocol as a real backend."""

from __future__ import annotations

import re
from contextlib import aclosing

import pytest

from engine.llm.base import (
    Backend,
    BackendError,
    ChatMessage,
    Delta,
    GenerationRequest,
    GenerationResult,
    SamplingParams,
    ThinkingBudget,
)
from engine.llm.scripted import ScriptedBackend

PARAMS = SamplingParams(seed=1)


async def test_answers_are_keyed_by_the_prompts_purpose() -> None:
    backend = ScriptedBackend({"constraints": "1. n <= 10", re.compile(r"plan \d"): "a plan"},
                              default="fallback")
    assert isinstance(backend, Backend)
    assert (await backend.generate("List the constraints.", PARAMS)).answer == "1. n <= 10"
    assert (await backend.generate("Write plan 2", PARAMS)).answer == "a plan"
    chat = [ChatMessage("system", "You repair code."), ChatMessage("user", "fix it")]
    assert (await backend.generate(chat, PARAMS)).answer == "fallback"
    assert [c.key for c in backend.calls][:2] == ["constraints", backend._rules[1][0]]


async def test_sequences_answer_in_turn_and_unmatched_prompts_fail_clearly() -> None:
    backend = ScriptedBackend({"code": ["first", "second"]})
    answers = [(await backend.generate("code please", PARAMS)).answer for _ in range(3)]
    assert answers == ["first", "second", "second"]
    with pytest.raises(BackendError, match="no script key matches"):
        await backend.generate("something else", PARAMS)
    failing = ScriptedBackend({"x": BackendError("server down")})
    with pytest.raises(BackendError, match="server down"):
        await failing.generate("x", PARAMS)


async def test_stream_tells_thinking_from_answer_and_ends_with_one_result() -> None:
    backend = ScriptedBackend(default="<think>\nhmm, n is small</think>\n\nprint(1)")
    items = [item async for item in backend.stream("solve", PARAMS)]
    deltas = [i for i in items if isinstance(i, Delta)]
    result = items[-1]
    assert isinstance(result, GenerationResult)
    assert not any(isinstance(i, GenerationResult) for i in items[:-1])
    assert "".join(d.text for d in deltas if d.channel == "thinking") == result.thinking
    assert result.thinking.strip() == "hmm, n is small"
    assert result.answer.strip() == "print(1)"
    assert result.budget.thinking_tokens == 4 and not result.budget.capped


async def test_stop_strings_max_tokens_and_budget_cap() -> None:
    backend = ScriptedBackend(default="<think>a b c d e f</think>one two END three")
    stopped = await backend.generate("q", SamplingParams(stop=("END",)))
    assert stopped.answer == "one two " and stopped.finish_reason == "stop"
    short = await backend.generate("q", SamplingParams(max_tokens=3))
    assert short.finish_reason == "length" and short.completion_tokens == 3
    capped = await backend.generate("q", PARAMS, budget=ThinkingBudget(max_tokens=2))
    assert capped.budget.capped and capped.thinking.split() == ["a", "b"]
    assert capped.answer.startswith("one two")


async def test_embeddings_are_deterministic_per_text() -> None:
    backend = ScriptedBackend(embedding_size=16)
    a, b, c = [await backend.embed(t) for t in ("x = 1", "x = 1", "x = 2")]
    assert len(a) == 16 and a == b and a != c


async def test_stream_many_interleaves_sequences_and_cancels_one() -> None:
    backend = ScriptedBackend({"long": "w " * 200, "short": "one two three"},
                              token_delay_s=0.001)
    requests = [GenerationRequest("long", PARAMS), GenerationRequest("short", PARAMS),
                GenerationRequest("short", SamplingParams(max_tokens=2))]
    order: list[int] = []
    results: dict[int, GenerationResult] = {}
    stream = backend.stream_many(requests)
    async with aclosing(stream):
        async for index, item in stream:
            order.append(index)
            if isinstance(item, GenerationResult):
                results[index] = item
                stream.cancel(0)  # the long one goes once another has finished
    assert sorted(results) == [1, 2] and results[1].answer.split() == ["one", "two", "three"]
    assert results[2].finish_reason == "length"
    assert order[:3] == [0, 1, 2], "the sequences run at once, not one after another"
    assert order.count(0) < 100


async def test_generate_many_keeps_request_order_and_raises_a_failure() -> None:
    backend = ScriptedBackend({"a": "alpha", "b": "beta", "x": BackendError("server down")})
    results = await backend.generate_many([GenerationRequest("b", PARAMS),
                                           GenerationRequest("a", PARAMS)])
    assert [r.answer for r in results] == ["beta", "alpha"]
    with pytest.raises(BackendError, match="server down"):
        await backend.generate_many([GenerationRequest("a", PARAMS),
                                     GenerationRequest("x", PARAMS)])
    stream = backend.stream_many([GenerationRequest("a", PARAMS), GenerationRequest("b", PARAMS)])
    stream.cancel(0)  # before it started
    assert [i async for i, item in stream if isinstance(item, GenerationResult)] == [1]
    with pytest.raises(IndexError):
        stream.cancel(2)


async def test_loop_guard_stops_a_scripted_loop() -> None:
    backend = ScriptedBackend(default="print(1)\n" + "x = 1\n" * 300)
    guarded = await backend.generate("q", SamplingParams(loop_guard=True))
    assert guarded.finish_reason == "loop" and guarded.answer == "print(1)\nx = 1"
    assert guarded.completion_tokens < 300
    free = await backend.generate("q", SamplingParams())
    assert free.finish_reason == "stop" and free.answer.count("x = 1") == 300
