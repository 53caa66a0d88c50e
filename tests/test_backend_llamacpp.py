"""LlamaCppBackend on a tiny GGUF the suite writes itself: real load, tokens and embeddings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import aclosing
from pathlib import Path

import llama_cpp
import pytest
from backend_suite import *  # noqa: F403  (the shared backend suite runs on this backend)
from support.tiny_gguf import (
    CHAT_TEMPLATE,
    IM_END_ID,
    THINK_CLOSE_ID,
    THINK_OPEN_ID,
    TinyModelSpec,
    n_params,
    write_tiny_gguf,
)

from engine.cpus import physical_cores
from engine.llm.base import BackendError, ChatMessage, SamplingParams, ThinkingBudget
from engine.llm.llamacpp import LlamaCppBackend, LlamaCppConfig


def test_tiny_gguf_is_a_real_model_with_think_tokens(tiny_gguf: Path) -> None:
    llm = llama_cpp.Llama(str(tiny_gguf), n_ctx=256, verbose=False)
    try:
        assert llm.metadata["tokenizer.chat_template"] == CHAT_TEMPLATE
        ids = llm.tokenize(b"<think>plan</think>", add_bos=False, special=True)
        assert ids[0] == THINK_OPEN_ID and ids[-1] == THINK_CLOSE_ID
        # byte fallback: any text round-trips, even outside the ordinary pieces
        text = "déjà vu ✓"
        assert llm.detokenize(llm.tokenize(text.encode(), add_bos=False)).decode() == text
        out = llm.create_completion("hello", max_tokens=8, temperature=0.0)
        assert out["usage"]["completion_tokens"] >= 1
    finally:
        llm.close()


@pytest.fixture
async def backend(tiny_gguf: Path) -> AsyncIterator[LlamaCppBackend]:
    opened = await LlamaCppBackend.open(tiny_gguf, LlamaCppConfig(n_ctx=2048))
    yield opened
    await opened.close()


CHAT = [ChatMessage("system", "You solve problems step by step."), ChatMessage("user", "2+2?")]


def _greedy(max_tokens: int = 16, **changes: object) -> SamplingParams:
    settings: dict[str, object] = {"temperature": 0.0, "max_tokens": max_tokens, "seed": 0,
                                   "logit_bias": ((IM_END_ID, -100.0),)}
    return SamplingParams(**{**settings, **changes})  # type: ignore[arg-type]


async def test_closing_a_stream_stops_the_model_within_a_token_or_two(
    backend: LlamaCppBackend,
) -> None:
    chunks = 0
    async with aclosing(backend.complete_raw(backend.render_chat(CHAT), _greedy(3000))) as raw:
        async for _chunk in raw:
            chunks += 1
            if chunks == 5:
                at_close = backend.counters.tokens_generated
                break
    await backend.count_tokens("x")  # queued behind the cancelled job: it has finished
    assert backend.counters.cancelled == 1
    assert backend.counters.tokens_generated - at_close <= 2
    assert backend.counters.tokens_generated < 100


async def test_budget_cap_counts_thinking_tokens_exactly(backend: LlamaCppBackend) -> None:
    prompt = backend.render_chat(CHAT) + "<think>\n"
    params = _greedy(40, logit_bias=((THINK_CLOSE_ID, -100.0), (IM_END_ID, -100.0)))
    result = await backend.generate(prompt, params, budget=ThinkingBudget(max_tokens=12))
    assert result.budget.thinking_tokens == 12 and result.budget.capped
    assert result.completion_tokens == 40


async def test_common_prompt_prefix_stays_in_the_kv_cache(backend: LlamaCppBackend) -> None:
    def evaluated_prompt_tokens() -> int:  # llama.cpp's own count, since the last reset
        ctx = backend._llm._ctx.ctx
        count = llama_cpp.llama_perf_context(ctx).n_p_eval
        llama_cpp.llama_perf_context_reset(ctx)
        return int(count)

    await backend.generate(CHAT, _greedy(4))
    await backend._owner.call(evaluated_prompt_tokens)
    shared = await backend.count_tokens(backend.render_chat(CHAT[:1], add_generation_prompt=False))
    second = [CHAT[0], ChatMessage("user", "3+5? Show the steps.")]
    total = await backend.count_tokens(backend.render_chat(second))
    before = backend.counters.prefix_tokens_reused
    await backend.generate(second, _greedy(4))
    assert backend.counters.prefix_tokens_reused - before >= shared
    assert await backend._owner.call(evaluated_prompt_tokens) <= total - shared + 1


async def test_embeddings_share_the_loaded_weights_and_leave_generation_alone(
    backend: LlamaCppBackend,
) -> None:
    assert backend._embedder is not None and backend._embedder._ctx.model is backend._llm._model
    before = await backend.generate(CHAT, _greedy())
    await backend.embed("a long text " * 50)
    after = await backend.generate(CHAT, _greedy())
    assert after.answer == before.answer


async def test_last_token_pooling_is_a_different_vector(tiny_gguf: Path,
                                                        backend: LlamaCppBackend) -> None:
    async with await LlamaCppBackend.open(tiny_gguf, LlamaCppConfig(pooling="last")) as last:
        text = "x = int(input())"
        assert len(await last.embed(text)) == 64
        assert await last.embed(text) != pytest.approx(await backend.embed(text), rel=1e-3)


async def test_concurrent_calls_are_served_one_at_a_time_by_the_owner_thread(
    backend: LlamaCppBackend,
) -> None:
    results = await asyncio.gather(*(backend.generate(CHAT, _greedy(8)) for _ in range(4)))
    assert len({r.answer for r in results}) == 1 and all(r.completion_tokens == 8
                                                         for r in results)


async def test_bad_model_files_and_closed_backends_fail_clearly(tmp_path: Path,
                                                                tiny_gguf: Path) -> None:
    with pytest.raises(BackendError, match="no GGUF file"):
        await LlamaCppBackend.open(tmp_path / "missing.gguf")
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(BackendError, match="could not load"):
        await LlamaCppBackend.open(broken)
    with pytest.raises(BackendError, match="flash attention"):
        await LlamaCppBackend.open(tiny_gguf, LlamaCppConfig(cache_type_v="q8_0",
                                                              flash_attn=False))
    backend = await LlamaCppBackend.open(tiny_gguf, LlamaCppConfig(embeddings=False))
    assert backend.info.embedding_size is None
    with pytest.raises(BackendError, match="embeddings are off"):
        await backend.embed("x")
    await backend.close()
    with pytest.raises(BackendError, match="closed"):
        await backend.generate("x", _greedy())


async def test_configured_template_and_context_are_used(tiny_gguf: Path) -> None:
    config = LlamaCppConfig(n_ctx=512, template_variables={"enable_thinking": False})
    async with await LlamaCppBackend.open(tiny_gguf, config) as backend:
        assert backend.info.context_size == 512
        assert backend.render_chat(CHAT).endswith("<think>\n\n</think>\n\n")
        with pytest.raises(BackendError, match="context holds 512"):
            await backend.generate("word " * 600, _greedy())
    async with await LlamaCppBackend.open(tiny_gguf) as default:
        assert default.info.context_size == 4096  # the model's own
    with pytest.raises(BackendError, match="chat template does not parse"):
        await LlamaCppBackend.open(tiny_gguf, LlamaCppConfig(chat_template="{% for %}"))


async def test_decoding_threads_default_to_one_per_physical_core(tiny_gguf: Path) -> None:
    cores = physical_cores()
    if cores is None:
        pytest.skip("no CPU topology to read here (not Linux)")
    async with await LlamaCppBackend.open(tiny_gguf) as default:
        assert default.threads[0] == cores
    async with await LlamaCppBackend.open(tiny_gguf, LlamaCppConfig(n_threads=1)) as one:
        assert one.threads[0] == 1


@pytest.mark.parametrize("weight_type", ["f16", "q8_0"])
async def test_the_writer_makes_other_sizes_and_weight_types(tmp_path: Path,
                                                             weight_type: str) -> None:
    spec = TinyModelSpec(n_embd=128, n_layer=3, n_head=4, n_head_kv=1, n_ff=256,
                         extra_vocab=100, weight_type=weight_type)  # type: ignore[arg-type]
    path = write_tiny_gguf(tmp_path / f"{weight_type}.gguf", spec)
    # repacked Q8_0 kernels crash on some CPUs (this project's AMX VM): the knob avoids them
    config = LlamaCppConfig(n_ctx=256, repack_weights=weight_type != "q8_0")
    async with await LlamaCppBackend.open(path, config) as backend:
        assert backend.info.embedding_size == 128
        result = await backend.generate("Hello", _greedy(4))
        assert result.completion_tokens == 4
    assert n_params(spec) > n_params(TinyModelSpec())


async def test_cancelling_the_consuming_task_stops_the_model(backend: LlamaCppBackend) -> None:
    started = asyncio.Event()

    async def consume() -> None:
        async for _ in backend.stream(CHAT, _greedy(3000)):
            started.set()

    task = asyncio.create_task(consume())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    at_cancel = backend.counters.tokens_generated
    await backend.count_tokens("x")  # runs after the cancelled job has ended
    assert backend.counters.cancelled == 1
    assert backend.counters.tokens_generated - at_cancel <= 2
