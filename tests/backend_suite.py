"""The backend-agnostic test suite: every real Backend must pass it on the tiny GGUF.

Use it from a test module by importing the tests and providing a `backend` fixture that yields a
ready Backend serving the `tiny_gguf` model (in-process, or through a server on loopback):

    from backend_suite import *  # noqa: F403

    @pytest.fixture
    async def backend(tiny_gguf): ...

The tiny model has random weights, so the tests never look at what it says, only at how it is
said: token counts, streaming, stop strings, seeds, the chat template, embeddings, cancellation,
and budget forcing steered with logit biases on the `<think>`/`</think>` tokens.
"""

from __future__ import annotations

import asyncio
from contextlib import aclosing

import pytest
from support.tiny_gguf import IM_END_ID, THINK_CLOSE_ID, THINK_OPEN_ID, vocabulary

from engine.llm.base import (
    Backend,
    ChatMessage,
    Delta,
    GenerationRequest,
    GenerationResult,
    SamplingParams,
    ThinkingBudget,
)

__all__ = [
    "test_budget_cap_closes_thinking_when_the_budget_is_spent",
    "test_budget_extension_replaces_an_early_close_with_the_continuation",
    "test_budget_is_a_noop_for_a_model_that_does_not_think",
    "test_cancelling_a_stream_frees_the_backend",
    "test_chat_messages_go_through_the_models_own_template",
    "test_embeddings_are_one_vector_per_text",
    "test_generate_many_gives_each_request_what_a_separate_call_gives",
    "test_generation_is_real_and_counted",
    "test_loop_guard_stops_a_looping_sequence_and_cuts_its_answer",
    "test_same_seed_same_text_other_seed_other_text",
    "test_stop_strings_end_the_answer_before_the_stop",
    "test_stream_yields_deltas_then_one_result",
]

CHAT = [ChatMessage("system", "You solve problems."), ChatMessage("user", "Add two numbers.")]
NO_EOS = ((IM_END_ID, -100.0),)  # random weights end early by chance; tests need length
A_ID = vocabulary()[0].index("a")  # biased up, the model writes "aaaa...": a loop


def _params(**changes: object) -> SamplingParams:
    base = {"temperature": 0.0, "max_tokens": 24, "seed": 0, "logit_bias": NO_EOS}
    base.update(changes)
    return SamplingParams(**base)  # type: ignore[arg-type]


async def _collect(backend: Backend, prompt: object, params: SamplingParams,
                   budget: ThinkingBudget | None = None
                   ) -> tuple[list[Delta], GenerationResult]:
    deltas: list[Delta] = []
    result: GenerationResult | None = None
    async for item in backend.stream(prompt, params, budget=budget):  # type: ignore[arg-type]
        assert result is None, "nothing may follow the GenerationResult"
        if isinstance(item, GenerationResult):
            result = item
        else:
            deltas.append(item)
    assert result is not None, "the stream must end with a GenerationResult"
    return deltas, result


def _thinking_prompt(backend: Backend) -> str:
    """A raw prompt whose template opened a think block for the model (DeepSeek-R1 style)."""
    return backend.render_chat(CHAT) + "<think>\n"


async def test_generation_is_real_and_counted(backend: Backend) -> None:
    result = await backend.generate(CHAT, _params(max_tokens=16))
    assert result.prompt_tokens > 5
    assert result.completion_tokens == 16 and result.finish_reason == "length"
    assert result.answer + result.thinking
    assert result.elapsed_s >= result.time_to_first_token_s > 0
    assert result.tokens_per_s > 0


async def test_stream_yields_deltas_then_one_result(backend: Backend) -> None:
    deltas, result = await _collect(backend, CHAT, _params(temperature=0.8, max_tokens=20))
    assert len(deltas) > 1, "tokens arrive as they are generated, not in one piece"
    answer = "".join(d.text for d in deltas if d.channel == "answer")
    thinking = "".join(d.text for d in deltas if d.channel == "thinking")
    assert (answer, thinking) == (result.answer, result.thinking)


async def test_stop_strings_end_the_answer_before_the_stop(backend: Backend) -> None:
    prompt = backend.render_chat(CHAT) + "<think>\n\n</think>\n\n"  # answer at once
    free = await backend.generate(prompt, _params(max_tokens=40))
    text = free.answer
    # a stop string taken from the middle of what the model writes greedily
    stop = next((text[k:k + 2] for k in range(4, len(text) - 2)
                 if text[k:k + 2].isascii() and text[k:k + 2].strip() == text[k:k + 2]
                 and text.find(text[k:k + 2]) == k), None)
    assert stop, f"no usable stop string in {text!r}"
    stopped = await backend.generate(prompt, _params(max_tokens=40, stop=(stop,)))
    assert stopped.answer == text[: text.find(stop)]
    assert stopped.finish_reason == "stop"
    assert stopped.completion_tokens < free.completion_tokens


async def test_same_seed_same_text_other_seed_other_text(backend: Backend) -> None:
    params = _params(temperature=1.0, top_k=0, top_p=1.0, max_tokens=24, seed=7)
    first = await backend.generate(CHAT, params)
    again = await backend.generate(CHAT, params)
    other = await backend.generate(CHAT, _params(temperature=1.0, top_k=0, top_p=1.0,
                                                 max_tokens=24, seed=8))
    assert (first.thinking, first.answer) == (again.thinking, again.answer)
    assert (first.thinking, first.answer) != (other.thinking, other.answer)


async def test_chat_messages_go_through_the_models_own_template(backend: Backend) -> None:
    rendered = backend.render_chat(CHAT)
    assert rendered == (
        "<|im_start|>system\nYou solve problems.<|im_end|>\n"
        "<|im_start|>user\nAdd two numbers.<|im_end|>\n<|im_start|>assistant\n"
    )
    assert not backend.render_chat(CHAT, add_generation_prompt=False).endswith("assistant\n")
    via_chat = await backend.generate(CHAT, _params())
    via_raw = await backend.generate(rendered, _params())
    assert (via_chat.thinking, via_chat.answer) == (via_raw.thinking, via_raw.answer)
    assert via_chat.prompt_tokens == via_raw.prompt_tokens


async def test_embeddings_are_one_vector_per_text(backend: Backend) -> None:
    first = await backend.embed("def solve(n): return n * 2")
    again = await backend.embed("def solve(n): return n * 2")
    other = await backend.embed("print(sum(map(int, input().split())))")
    assert len(first) == backend.info.embedding_size == len(other)
    assert first == pytest.approx(again, rel=1e-4, abs=1e-5)
    assert first != pytest.approx(other, rel=1e-2)
    assert any(abs(x) > 1e-6 for x in first)


async def test_cancelling_a_stream_frees_the_backend(backend: Backend) -> None:
    params = _params(temperature=0.8, max_tokens=3000)
    received = 0
    async with aclosing(backend.stream(CHAT, params)) as items:
        async for item in items:
            assert isinstance(item, Delta), "cancelled long before the end"
            received += 1
            if received == 3:
                break
    # the backend is free again at once: a short call completes
    result = await asyncio.wait_for(backend.generate(CHAT, _params(max_tokens=4)), timeout=60)
    assert result.completion_tokens == 4


async def test_budget_cap_closes_thinking_when_the_budget_is_spent(backend: Backend) -> None:
    never_close = ((THINK_CLOSE_ID, -100.0), *NO_EOS)
    budget = ThinkingBudget(min_tokens=0, max_tokens=12)
    deltas, result = await _collect(
        backend, _thinking_prompt(backend), _params(max_tokens=30, logit_bias=never_close),
        budget)
    assert result.budget.capped and result.budget.extensions == 0
    assert 12 <= result.budget.thinking_tokens <= 13  # a server may send two tokens at once
    assert result.completion_tokens == 30 and result.answer.strip()
    assert "".join(d.text for d in deltas if d.channel == "thinking") == result.thinking
    # without the budget the same model thinks until max_tokens
    free = await backend.generate(_thinking_prompt(backend),
                                  _params(max_tokens=30, logit_bias=never_close))
    assert free.answer == "" and not free.budget.capped


async def test_budget_extension_replaces_an_early_close_with_the_continuation(
    backend: Backend,
) -> None:
    always_close = ((THINK_CLOSE_ID, 100.0), *NO_EOS)
    budget = ThinkingBudget(min_tokens=50, max_tokens=200, continuation="\nWait,",
                            max_extensions=2)
    result = await backend.generate(_thinking_prompt(backend),
                                    _params(max_tokens=20, logit_bias=always_close),
                                    budget=budget)
    assert result.budget.extensions == 2 and not result.budget.capped
    assert result.thinking.count("Wait,") == 2
    assert result.answer  # the third close was accepted and the answer followed


async def test_budget_is_a_noop_for_a_model_that_does_not_think(backend: Backend) -> None:
    never_open = ((THINK_OPEN_ID, -100.0), *NO_EOS)
    prompt = backend.render_chat(CHAT)  # no think block opened by the template
    budget = ThinkingBudget(min_tokens=10, max_tokens=2)
    forced = await backend.generate(prompt, _params(logit_bias=never_open), budget=budget)
    plain = await backend.generate(prompt, _params(logit_bias=never_open))
    assert forced.budget.thinking_tokens == 0 and not forced.budget.capped
    assert forced.budget.extensions == 0 and forced.thinking == ""
    assert forced.answer == plain.answer


async def test_generate_many_gives_each_request_what_a_separate_call_gives(
    backend: Backend,
) -> None:
    answer_now = backend.render_chat(CHAT) + "<think>\n\n</think>\n\n"
    requests = [
        GenerationRequest(CHAT, _params(max_tokens=12)),
        GenerationRequest(CHAT, _params(temperature=1.0, top_k=0, top_p=1.0, max_tokens=20,
                                        seed=3)),
        GenerationRequest(answer_now, _params(temperature=1.0, top_k=0, top_p=1.0,
                                              max_tokens=16, seed=4)),
    ]
    together = await backend.generate_many(requests)
    alone = [await backend.generate(r.prompt, r.params, budget=r.budget) for r in requests]
    assert [(r.thinking, r.answer) for r in together] == [(r.thinking, r.answer) for r in alone]
    assert [r.completion_tokens for r in together] == [12, 20, 16]
    assert all(r.finish_reason == "length" for r in together)


async def test_loop_guard_stops_a_looping_sequence_and_cuts_its_answer(backend: Backend) -> None:
    prompt = backend.render_chat(CHAT) + "<think>\n\n</think>\n\n"  # answer at once
    looping = _params(max_tokens=800, logit_bias=((A_ID, 100.0), *NO_EOS), loop_guard=True)
    result = await backend.generate(prompt, looping)
    assert result.finish_reason == "loop"
    assert result.completion_tokens < 600, "stopped soon after the loop began"
    assert result.answer.endswith("a") and len(result.answer) < 20  # the loop cut to a period
    [many] = await backend.generate_many([GenerationRequest(prompt, looping)])
    assert (many.finish_reason, many.answer) == ("loop", result.answer)
