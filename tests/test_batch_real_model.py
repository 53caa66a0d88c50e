"""Batched generation on the project's real default model (Qwen2.5-Coder-0.5B-Instruct Q4_K_M):
the same tokens as separate runs, per-sequence stops, limits and budgets, and cancelling one
sequence while the others go on.

Sameness is compared token for token. Batching could in principle change a logit in its last
bits (a kernel chosen by batch size sums in another order) and flip a near tie; the bound is
`MAX_DIFFERING`: at most that many of the sequences may differ, and only after a common start
of `MIN_COMMON` characters. On this CPU build the observed number of differing sequences is 0.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from pathlib import Path

import pytest
from support.real_model import real_model_path  # noqa: F401  (the fixture)

from engine.llm.base import (
    ChatMessage,
    Delta,
    GenerationRequest,
    GenerationResult,
    SamplingParams,
    ThinkingBudget,
)
from engine.llm.llamacpp import LlamaCppBackend, LlamaCppConfig

pytestmark = [pytest.mark.real_model, pytest.mark.slow]

MAX_DIFFERING = 0  # sequences (of all compared) whose text differs between batched and alone
MIN_COMMON = 40  # characters every differing pair would still share (unused while 0 differ)

SYSTEM = ChatMessage("system", "You are an expert competitive programmer. Answer with one "
                               "Python 3 program that reads stdin and writes stdout.")
TASKS = ["Read n and print the sum of the first n squares.",
         "Read a string and print it reversed.",
         "Read n integers and print how many of them are even."]


@pytest.fixture
async def backend(real_model_path: Path) -> AsyncIterator[LlamaCppBackend]:  # noqa: F811
    opened = await LlamaCppBackend.open(real_model_path, LlamaCppConfig(n_ctx=4096))
    yield opened
    await opened.close()


def _chat(task: str) -> list[ChatMessage]:
    return [SYSTEM, ChatMessage("user", task)]


def _params(**changes: object) -> SamplingParams:
    base: dict[str, object] = {"temperature": 0.0, "max_tokens": 48, "seed": 0}
    return SamplingParams(**{**base, **changes})  # type: ignore[arg-type]


def _assert_same(together: list[GenerationResult], alone: list[GenerationResult]) -> None:
    differing = [(a.answer, b.answer) for a, b in zip(together, alone, strict=True)
                 if (a.thinking, a.answer) != (b.thinking, b.answer)]
    assert len(differing) <= MAX_DIFFERING, differing
    for a, b in differing:
        assert a[:MIN_COMMON] == b[:MIN_COMMON]


async def _alone(backend: LlamaCppBackend, requests: list[GenerationRequest]
                 ) -> list[GenerationResult]:
    return [await backend.generate(r.prompt, r.params, budget=r.budget) for r in requests]


async def test_batched_greedy_and_seeded_tokens_are_those_of_separate_runs(
    backend: LlamaCppBackend,
) -> None:
    requests = [
        *(GenerationRequest(_chat(task), _params()) for task in TASKS),
        *(GenerationRequest(_chat(TASKS[0]), _params(temperature=0.8, top_k=40, top_p=0.95,
                                                     seed=seed)) for seed in (1, 2, 3)),
    ]
    before = backend.counters.prompt_tokens_decoded
    together = await backend.generate_many(requests)
    decoded = backend.counters.prompt_tokens_decoded - before
    _assert_same(together, await _alone(backend, requests))
    # the system prompt once, not six times
    sizes = [r.prompt_tokens for r in together]
    assert decoded < sum(sizes) / 2
    assert len({r.answer for r in together[3:]}) > 1, "seeds give different answers"


async def test_stops_limits_and_budgets_are_per_sequence(backend: LlamaCppBackend) -> None:
    thinking = backend.render_chat(_chat(TASKS[1])) + "<think>\n"
    requests = [
        GenerationRequest(_chat(TASKS[0]), _params(max_tokens=64, stop=("\n\n",))),
        GenerationRequest(_chat(TASKS[0]), _params(max_tokens=9)),
        GenerationRequest(thinking, _params(max_tokens=40), ThinkingBudget(max_tokens=8)),
        GenerationRequest(thinking, _params(max_tokens=40), ThinkingBudget(max_tokens=16)),
    ]
    stopped, limited, cap8, cap16 = together = await backend.generate_many(requests)
    assert "\n\n" not in stopped.answer and stopped.finish_reason == "stop"
    assert limited.completion_tokens == 9 and limited.finish_reason == "length"
    assert cap8.budget.thinking_tokens <= 8 and cap16.budget.thinking_tokens <= 16
    assert cap8.budget.capped or "</think>" in cap8.thinking + cap8.answer
    _assert_same(together, await _alone(backend, requests))


async def test_cancelling_one_sequence_leaves_the_others_running(
    backend: LlamaCppBackend,
) -> None:
    requests = [GenerationRequest(_chat(task), _params(max_tokens=40, logit_bias=_no_end(
        backend))) for task in TASKS]
    results: dict[int, GenerationResult] = {}
    stream = backend.stream_many(requests)
    deltas = 0
    async with aclosing(stream):
        async for index, item in stream:
            if isinstance(item, Delta) and index == 1:
                deltas += 1
                if deltas == 2:
                    stream.cancel(1)
            elif isinstance(item, GenerationResult):
                results[index] = item
    assert sorted(results) == [0, 2]
    assert all(r.completion_tokens == 40 for r in results.values())
    await backend.count_tokens("x")
    assert backend.counters.cancelled == 1


def _no_end(backend: LlamaCppBackend) -> tuple[tuple[int, float], ...]:
    ids = backend._llm.tokenize(b"<|im_end|><|endoftext|>", add_bos=False, special=True)
    return tuple((token, -100.0) for token in ids)
