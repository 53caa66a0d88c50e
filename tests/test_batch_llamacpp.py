"""Batched in-process generation on the tiny GGUF: several sequences in one decode, a shared
prompt prefix prefilled once, and each sequence with its own sampler, stop strings, token
limit, budget forcing, loop guard and cancellation.

Sameness: on this llama.cpp build (CPU) a sequence decoded in a batch with others gets the same
tokens as alone, so these tests compare exactly. Batching may change the order of floating-
point sums in some kernels (GPU matrix products picked by batch size); the real-model test in
tests/test_batch_real_model.py measures how far that goes on the project's default model.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from pathlib import Path

import pytest
from support.tiny_gguf import IM_END_ID, THINK_CLOSE_ID, vocabulary

from engine.llm.base import (
    BackendError,
    ChatMessage,
    Delta,
    GenerationRequest,
    GenerationResult,
    SamplingParams,
    ThinkingBudget,
)
from engine.llm.llamacpp import LlamaCppBackend, LlamaCppConfig

NO_EOS = ((IM_END_ID, -100.0),)
SYSTEM = ChatMessage("system", "You solve competitive programming problems. " * 8)


@pytest.fixture
async def backend(tiny_gguf: Path) -> AsyncIterator[LlamaCppBackend]:
    opened = await LlamaCppBackend.open(tiny_gguf, LlamaCppConfig(n_ctx=2048))
    yield opened
    await opened.close()


def _answer_now(backend: LlamaCppBackend, question: str) -> str:
    """A raw prompt with an empty think block closed: the model answers at once."""
    chat = [SYSTEM, ChatMessage("user", question)]
    return backend.render_chat(chat) + "<think>\n\n</think>\n\n"


def _params(**changes: object) -> SamplingParams:
    base: dict[str, object] = {"temperature": 0.0, "max_tokens": 24, "seed": 0,
                               "logit_bias": NO_EOS}
    return SamplingParams(**{**base, **changes})  # type: ignore[arg-type]


def _seeded(seed: int, **changes: object) -> SamplingParams:
    return _params(**{"temperature": 1.0, "top_k": 0, "top_p": 1.0, "seed": seed, **changes})


async def _alone(backend: LlamaCppBackend, requests: list[GenerationRequest]
                 ) -> list[GenerationResult]:
    return [await backend.generate(r.prompt, r.params, budget=r.budget) for r in requests]


def _texts(results: list[GenerationResult]) -> list[tuple[str, str]]:
    return [(r.thinking, r.answer) for r in results]


async def test_k_answers_to_one_prompt_prefill_it_once(backend: LlamaCppBackend) -> None:
    prompt = _answer_now(backend, "Sum the numbers.")
    n = await backend.count_tokens(prompt)
    counters = backend.counters
    decoded, reused = counters.prompt_tokens_decoded, counters.prefix_tokens_reused
    requests = [GenerationRequest(prompt, _seeded(seed)) for seed in range(6)]
    results = await backend.generate_many(requests)
    # the prompt once; each other sequence decodes only the prompt's last token, for logits
    assert counters.prompt_tokens_decoded - decoded == n + 5
    assert counters.prefix_tokens_reused - reused == 5 * (n - 1)
    assert all(r.completion_tokens == 24 and r.prompt_tokens == n for r in results)
    assert len({r.answer for r in results}) == 6, "each sequence has its own seed"


async def test_prompts_sharing_a_prefix_decode_it_once(backend: LlamaCppBackend) -> None:
    questions = ["Sum the numbers.", "Reverse the string.", "Count the vowels in a word."]
    prompts = [_answer_now(backend, q) for q in questions]
    sizes = [await backend.count_tokens(p) for p in prompts]
    shared = await backend.count_tokens(backend.render_chat([SYSTEM], add_generation_prompt=False))
    before = backend.counters.prompt_tokens_decoded
    await backend.generate_many([GenerationRequest(p, _params(max_tokens=4)) for p in prompts])
    decoded = backend.counters.prompt_tokens_decoded - before
    # the shared part (the system message and the next turn's header) once, then each suffix
    assert max(sizes) < decoded <= sum(sizes) - 2 * shared


async def test_batched_tokens_are_the_tokens_of_separate_runs(backend: LlamaCppBackend) -> None:
    questions = ["Sum the numbers.", "Reverse the string.", "Sort a list of pairs by key."]
    requests = [
        *(GenerationRequest(_answer_now(backend, q), _params(max_tokens=30)) for q in questions),
        *(GenerationRequest(_answer_now(backend, questions[0]), _seeded(seed, max_tokens=30))
          for seed in (11, 12, 13)),
        GenerationRequest([SYSTEM, ChatMessage("user", "Explain.")], _seeded(5, max_tokens=18)),
        GenerationRequest("def solve(n):", _seeded(9, max_tokens=40, top_k=20, top_p=0.9,
                                                   min_p=0.05)),
    ]
    together = await backend.generate_many(requests)
    assert _texts(together) == _texts(await _alone(backend, requests))
    assert [r.completion_tokens for r in together] == [30] * 6 + [18, 40]


async def test_stop_strings_and_token_limits_are_per_sequence(backend: LlamaCppBackend) -> None:
    prompts = [_answer_now(backend, q) for q in ("Sum.", "Reverse.", "Count.")]
    free = await backend.generate_many([GenerationRequest(p, _params(max_tokens=40))
                                        for p in prompts])
    stops = [_a_stop(r.answer) for r in free]
    requests = [
        GenerationRequest(prompts[0], _params(max_tokens=40, stop=(stops[0],))),
        GenerationRequest(prompts[1], _params(max_tokens=7)),
        GenerationRequest(prompts[2], _params(max_tokens=40, stop=(stops[2], "\x00never"))),
    ]
    together = await backend.generate_many(requests)
    assert together[0].answer == free[0].answer[: free[0].answer.find(stops[0])]
    assert together[2].answer == free[2].answer[: free[2].answer.find(stops[2])]
    assert [r.finish_reason for r in together] == ["stop", "length", "stop"]
    assert together[1].completion_tokens == 7 and free[1].answer.startswith(together[1].answer)
    assert _texts(together) == _texts(await _alone(backend, requests))


def _a_stop(text: str) -> str:
    """Two printable characters from the middle of `text` that first occur there."""
    for k in range(4, len(text) - 2):
        piece = text[k:k + 2]
        if piece.isascii() and piece.strip() == piece and text.find(piece) == k:
            return piece
    raise AssertionError(f"no usable stop string in {text!r}")


async def test_budget_forcing_is_per_sequence(backend: LlamaCppBackend) -> None:
    thinking = backend.render_chat([SYSTEM, ChatMessage("user", "2+2?")]) + "<think>\n"
    never_close = _params(max_tokens=30, logit_bias=((THINK_CLOSE_ID, -100.0), *NO_EOS))
    always_close = _params(max_tokens=20, logit_bias=((THINK_CLOSE_ID, 100.0), *NO_EOS))
    requests = [
        GenerationRequest(thinking, never_close, ThinkingBudget(max_tokens=8)),
        GenerationRequest(thinking, never_close, ThinkingBudget(max_tokens=16)),
        GenerationRequest(thinking, always_close,
                          ThinkingBudget(min_tokens=50, max_tokens=200, max_extensions=2)),
        GenerationRequest(thinking, never_close),  # no budget: thinks to the token limit
    ]
    capped8, capped16, extended, free = await backend.generate_many(requests)
    assert (capped8.budget.thinking_tokens, capped8.budget.capped) == (8, True)
    assert (capped16.budget.thinking_tokens, capped16.budget.capped) == (16, True)
    assert capped8.answer.strip() and capped16.answer.strip()
    assert extended.budget.extensions == 2 and extended.thinking.count("Wait,") == 2
    assert free.answer == "" and not free.budget.capped and free.completion_tokens == 30
    assert _texts([capped8, capped16, extended, free]) == _texts(await _alone(backend, requests))


async def test_cancelling_one_sequence_leaves_the_others_running(
    backend: LlamaCppBackend,
) -> None:
    prompt = _answer_now(backend, "Sum the numbers.")
    requests = [GenerationRequest(prompt, _params(max_tokens=3000)),
                *(GenerationRequest(prompt, _seeded(seed, max_tokens=60)) for seed in (1, 2))]
    results: dict[int, GenerationResult] = {}
    seen = {0: 0, 1: 0, 2: 0}
    stream = backend.stream_many(requests)
    async with aclosing(stream):
        async for index, item in stream:
            if isinstance(item, Delta):
                seen[index] += 1
                if index == 0 and seen[0] == 3:
                    at_cancel = backend.counters.tokens_generated
                    stream.cancel(0)
            else:
                results[index] = item
    await backend.count_tokens("x")  # after the owner thread has dropped the cancelled one
    assert sorted(results) == [1, 2], "the cancelled sequence gives no result"
    assert all(r.completion_tokens == 60 and r.finish_reason == "length"
               for r in results.values())
    assert backend.counters.cancelled == 1
    # after the cancel: the two others' remaining tokens, and at most two more of the first
    assert backend.counters.tokens_generated - at_cancel <= 2 * 60 + 2
    assert seen[0] <= 5


async def test_more_sequences_than_slots_wait_their_turn(tiny_gguf: Path) -> None:
    config = LlamaCppConfig(n_ctx=2048, n_seq_max=2)
    async with await LlamaCppBackend.open(tiny_gguf, config) as backend:
        requests = [GenerationRequest(_answer_now(backend, f"Task {i}."), _seeded(i))
                    for i in range(5)]
        together = await backend.generate_many(requests)
        assert _texts(together) == _texts(await _alone(backend, requests))


async def test_a_full_context_fails_clearly(tiny_gguf: Path) -> None:
    async with await LlamaCppBackend.open(tiny_gguf, LlamaCppConfig(n_ctx=256)) as backend:
        requests = [GenerationRequest(f"{i} " * 60, _params(max_tokens=150)) for i in range(4)]
        with pytest.raises(BackendError, match="is full with"):
            await backend.generate_many(requests)
        # the backend is usable afterwards
        assert (await backend.generate("1 2 3", _params(max_tokens=8))).completion_tokens == 8


async def test_prompt_lookup_changes_speed_never_tokens(backend: LlamaCppBackend) -> None:
    a_id = vocabulary()[0].index("a")
    repeating = _params(max_tokens=80, logit_bias=((a_id, 8.0), *NO_EOS))
    prompt = _answer_now(backend, "Repeat: " + "a" * 40)
    plain = await backend.generate(prompt, repeating)
    drafted = await backend.generate(prompt, _params(**{**_fields(repeating),
                                                         "prompt_lookup": 8}))
    assert drafted.answer == plain.answer and drafted.completion_tokens == 80
    assert backend.counters.draft_accepted > 20  # most of a repeating answer comes as drafts
    # seeded sampling: the sampler is called once per token either way, so the same tokens
    requests = [GenerationRequest(prompt, _seeded(seed, max_tokens=40, prompt_lookup=lookup))
                for seed in (1, 2) for lookup in (0, 6)]
    r = await backend.generate_many(requests)
    assert (r[0].answer, r[2].answer) == (r[1].answer, r[3].answer)


def _fields(params: SamplingParams) -> dict[str, object]:
    return {name: getattr(params, name) for name in SamplingParams.__slots__}  # type: ignore[attr-defined]


async def test_bad_batch_settings_fail_clearly(tiny_gguf: Path, backend: LlamaCppBackend
                                               ) -> None:
    with pytest.raises(BackendError, match="prompt_lookup"):
        await backend.generate("x", _params(prompt_lookup=-1))
    with pytest.raises(BackendError, match="n_seq_max"):
        await LlamaCppBackend.open(tiny_gguf, LlamaCppConfig(n_seq_max=0))
