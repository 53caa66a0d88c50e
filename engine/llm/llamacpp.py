"""LlamaCppBackend: a GGUF model run in-process by llama.cpp (llama-cpp-python).

The `Llama` object is not thread-safe, so one dedicated thread owns it: it is created there, and
every call (generation, embedding, tokenizing) runs there as a job. The asyncio side submits jobs
and receives tokens through a queue. Generation checks a cancel flag between tokens, so closing a
stream stops the model within a token.

- All layers go on the GPU when the llama.cpp build has one (CUDA, Metal, ...).
- The common prompt prefix stays in the KV cache between calls (llama-cpp-python's `generate`
  keeps the longest matching prefix), so budget-forcing continuations and repeated system
  prompts cost only their new tokens.
- Embeddings come from the same loaded weights through a second llama.cpp context on the same
  model (mean-pooled by default), never by loading the model twice. At load we embed once and
  then generate, to prove the two contexts do not disturb each other.
"""

from __future__ import annotations

import asyncio
import codecs
import concurrent.futures
import contextlib
import ctypes
import logging
import queue
import random
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import llama_cpp
import numpy as np
from llama_cpp import _internals

from engine.llm.base import (
    BackendError,
    BackendInfo,
    ChatMessage,
    Delta,
    GenerationResult,
    Prompt,
    SamplingParams,
    ThinkingBudget,
    ThinkTags,
    final_result,
)
from engine.llm.budget import RawChunk, RawEnd, generate_stream
from engine.llm.chat_template import CHATML, ChatTemplate
from engine.llm.thinking import DEFAULT_TAGS

T = TypeVar("T")

KV_CACHE_TYPES = {"f32": 0, "f16": 1, "q4_0": 2, "q4_1": 3, "q5_0": 6, "q5_1": 7, "q8_0": 8,
                  "bf16": 30}
_POOLING = {"mean": llama_cpp.LLAMA_POOLING_TYPE_MEAN, "last": llama_cpp.LLAMA_POOLING_TYPE_LAST}


@dataclass(frozen=True, slots=True)
class LlamaCppConfig:
    """The knobs a llama.cpp user expects. Defaults: the model's own context, all layers on the
    GPU when there is one, flash attention with the GPU, f16 KV cache."""

    n_ctx: int = 0  # 0: the context the model was trained with
    n_gpu_layers: int | None = None  # None: all (-1) on a GPU build, else 0
    n_threads: int | None = None  # None: llama.cpp's choice (physical cores)
    n_threads_batch: int | None = None
    n_batch: int = 512
    n_ubatch: int = 512
    flash_attn: bool | None = None  # None: on when layers run on a GPU
    cache_type_k: str = "f16"
    cache_type_v: str = "f16"  # quantized V cache needs flash attention
    embeddings: bool = True
    # At most this many tokens of a text are embedded; the embedding context decodes a text in
    # one batch, so its memory grows with the square of this without flash attention.
    embedding_ctx: int = 2048
    pooling: Literal["mean", "last"] = "mean"
    chat_template: str | None = None  # None: the GGUF's tokenizer.chat_template
    template_variables: dict[str, Any] = field(default_factory=dict)  # e.g. enable_thinking
    tags: ThinkTags = DEFAULT_TAGS
    # llama.cpp repacks quantized weights for faster CPU kernels (AMX, AVX512). Some CPUs and
    # VMs crash in those kernels (seen: a Xeon VM with AMX, on a Q8_0 model); False avoids them.
    repack_weights: bool = True
    verbose: bool = False


def gpu_build() -> bool:
    """True when this llama.cpp build can offload layers to a GPU."""
    return bool(llama_cpp.llama_supports_gpu_offload())


def build_device() -> str:
    """The accelerator this llama.cpp build was compiled for: CUDA, Metal, Vulkan, ... or CPU."""
    info = llama_cpp.llama_print_system_info().decode(errors="replace")
    for name in ("CUDA", "Metal", "ROCm", "HIP", "Vulkan", "SYCL", "CANN", "OpenCL"):
        if f"{name} :" in info or f"{name}:" in info:
            return name
    return "GPU" if gpu_build() else "CPU"


class _Owner:
    """The one thread that owns the model; runs submitted jobs in order."""

    def __init__(self, name: str) -> None:
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            job()

    def post(self, job: Callable[[], None]) -> None:
        self._jobs.put(job)

    async def call(self, fn: Callable[[], T]) -> T:
        """Run `fn` on the owner thread and await its result (exceptions travel back)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()

        def job() -> None:
            try:
                result = fn()
            except BaseException as exc:
                _deliver(loop, future.set_exception, exc, future)
            else:
                _deliver(loop, future.set_result, result, future)

        self.post(job)
        return await future

    def call_sync(self, fn: Callable[[], T]) -> T:
        """Run `fn` on the owner thread and block until it returns."""
        done: concurrent.futures.Future[T] = concurrent.futures.Future()

        def job() -> None:
            try:
                done.set_result(fn())
            except BaseException as exc:
                done.set_exception(exc)

        self.post(job)
        return done.result()

    def stop(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=30)


def _deliver(loop: asyncio.AbstractEventLoop, setter: Callable[[Any], None], value: Any,
             future: asyncio.Future[Any]) -> None:
    def settle() -> None:
        if not future.done():
            setter(value)

    # RuntimeError: the event loop closed while the job ran, so nobody is waiting
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(settle)


@dataclass(slots=True)
class Counters:
    """Totals the owner thread keeps; doctor and tests read them."""

    tokens_generated: int = 0
    completions: int = 0
    cancelled: int = 0
    prefix_tokens_reused: int = 0


class LlamaCppBackend:
    """In-process llama.cpp. Create with `await LlamaCppBackend.open(path, config)`."""

    def __init__(self, owner: _Owner, llm: llama_cpp.Llama, path: Path, config: LlamaCppConfig,
                 template: ChatTemplate, load_s: float) -> None:
        self._owner = owner
        self._llm = llm
        self._path = path
        self._config = config
        self._template = template
        self._embedder: _Embedder | None = None
        self.load_s = load_s
        self.counters = Counters()
        self._closed = False
        self._info = BackendInfo(
            kind="llama.cpp",
            model=path.name,
            context_size=llm.n_ctx(),
            embedding_size=llm.n_embd() if config.embeddings else None,
            capabilities=("completions", "chat", *(("embeddings",) if config.embeddings else ())),
            device=build_device() if _n_gpu_layers(config) != 0 else "CPU",
        )

    @classmethod
    def load(cls, path: str | Path, config: LlamaCppConfig | None = None) -> LlamaCppBackend:
        """Load the model on its owner thread and wait for it (blocking; from async code use
        `await LlamaCppBackend.open(...)`)."""
        config = config or LlamaCppConfig()
        path = Path(path)
        if not path.is_file():
            raise BackendError(f"no GGUF file at {path}: check the path, or pass a Hugging Face "
                               "repo id such as Qwen/Qwen3-14B-GGUF:Q4_K_M")
        _check_config(config)
        owner = _Owner(f"llama.cpp {path.name}")
        started = time.perf_counter()
        try:
            llm, embedder, template = owner.call_sync(lambda: _load_checked(path, config))
        except BaseException:
            owner.stop()
            raise
        backend = cls(owner, llm, path, config, template, time.perf_counter() - started)
        backend._embedder = embedder
        return backend

    @classmethod
    async def open(cls, path: str | Path, config: LlamaCppConfig | None = None
                   ) -> LlamaCppBackend:
        return await asyncio.to_thread(cls.load, path, config)

    @property
    def info(self) -> BackendInfo:
        return self._info

    @property
    def model_path(self) -> Path:
        return self._path

    def render_chat(self, messages: Sequence[ChatMessage], *, add_generation_prompt: bool = True
                    ) -> str:
        return self._template.render(messages, add_generation_prompt=add_generation_prompt)

    async def stream(
        self,
        prompt: Prompt,
        params: SamplingParams,
        *,
        budget: ThinkingBudget | None = None,
    ) -> AsyncIterator[Delta | GenerationResult]:
        text = prompt if isinstance(prompt, str) else self.render_chat(prompt)
        async for item in generate_stream(self, text, params, budget, self._config.tags):
            yield item

    async def generate(
        self,
        prompt: Prompt,
        params: SamplingParams,
        *,
        budget: ThinkingBudget | None = None,
    ) -> GenerationResult:
        return await final_result(self.stream(prompt, params, budget=budget))

    async def complete_raw(self, prompt: str, params: SamplingParams
                           ) -> AsyncIterator[RawChunk | RawEnd]:
        """The raw-completion primitive the budget driver builds on."""
        self._require_open()
        loop = asyncio.get_running_loop()
        items: asyncio.Queue[RawChunk | RawEnd | BaseException] = asyncio.Queue()
        cancel = threading.Event()

        def push(item: RawChunk | RawEnd | BaseException) -> None:
            try:
                loop.call_soon_threadsafe(items.put_nowait, item)
            except RuntimeError:  # loop closed: the consumer is gone
                cancel.set()

        def job() -> None:
            try:
                self._complete(prompt, params, cancel, push)
            except BaseException as exc:
                push(exc)

        self._owner.post(job)
        try:
            while True:
                item = await items.get()
                if isinstance(item, BaseException):
                    if isinstance(item, BackendError):
                        raise item
                    raise BackendError(f"llama.cpp generation failed: {item}") from item
                yield item
                if isinstance(item, RawEnd):
                    return
        finally:
            cancel.set()  # the consumer closed the stream: stop the model at the next token

    async def count_tokens(self, text: str) -> int:
        return len(await self._owner.call(lambda: self._tokenize(text)))

    async def embed(self, text: str) -> list[float]:
        self._require_open()
        embedder = self._embedder
        if embedder is None:
            raise BackendError("embeddings are off for this backend (config embeddings=False)")
        return await self._owner.call(lambda: embedder.embed(text))

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        embedder, llm = self._embedder, self._llm

        def release() -> None:
            if embedder is not None:
                embedder.close()
            llm.close()

        await self._owner.call(release)
        await asyncio.to_thread(self._owner.stop)

    async def __aenter__(self) -> LlamaCppBackend:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- on the owner thread ---

    def _tokenize(self, text: str) -> list[int]:
        llm = self._llm
        bos = llm._model.add_bos_token() and not (
            self._template.bos_token and text.startswith(self._template.bos_token))
        return llm.tokenize(text.encode("utf-8"), add_bos=bos, special=True)

    def _complete(self, prompt: str, params: SamplingParams, cancel: threading.Event,
                  push: Callable[[RawChunk | RawEnd], None]) -> None:
        if cancel.is_set():
            return
        llm = self._llm
        tokens = self._tokenize(prompt)
        n_ctx = llm.n_ctx()
        if len(tokens) >= n_ctx:
            raise BackendError(f"the prompt has {len(tokens)} tokens but the context holds "
                               f"{n_ctx}: shorten it or raise n_ctx")
        max_new = min(params.max_tokens, n_ctx - len(tokens))
        self.counters.prefix_tokens_reused += _common_prefix(llm, tokens)
        llm.set_seed(params.seed if params.seed is not None else random.randrange(2**31))
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        stops = _StopMatcher(params.stop)
        vocab = llm._model.vocab
        generated = 0
        finish = "length"
        tokens_iter = llm.generate(
            tokens,
            top_k=params.top_k,
            top_p=params.top_p,
            min_p=params.min_p,
            temp=params.temperature,
            repeat_penalty=1.0,
            logits_processor=_logit_bias(params.logit_bias),
        )
        try:
            for token in tokens_iter if max_new > 0 else ():
                if cancel.is_set():
                    finish = "cancelled"
                    break
                if llama_cpp.llama_vocab_is_eog(vocab, token):
                    finish = "stop"
                    break
                generated += 1
                self.counters.tokens_generated += 1  # live: read while a stream runs
                # one chunk per token, even when its text is held back (half a UTF-8
                # character, or the start of a stop string), so the budget counts exactly
                text, stopped = stops.feed(decoder.decode(_piece(vocab, token)))
                push(RawChunk(text, 1))
                if stopped:
                    finish = "stop"
                    break
                if generated >= max_new:
                    break
        finally:
            tokens_iter.close()
            self.counters.completions += 1
        if finish == "cancelled":
            self.counters.cancelled += 1
            return
        tail = "" if stops.stopped else stops.flush(decoder.decode(b"", final=True))
        if tail:
            push(RawChunk(tail, 0))
        push(RawEnd(finish, len(tokens), generated))

    def _require_open(self) -> None:
        if self._closed:
            raise BackendError("this backend is closed")


class _Embedder:
    """A second llama.cpp context on the already-loaded model, in embedding mode."""

    def __init__(self, llm: llama_cpp.Llama, config: LlamaCppConfig) -> None:
        self._llm = llm
        size = max(8, min(config.embedding_ctx, llm._model.n_ctx_train() or config.embedding_ctx))
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = params.n_batch = params.n_ubatch = size  # pooling needs one ubatch
        params.n_seq_max = 1
        params.embeddings = True
        params.pooling_type = _POOLING[config.pooling]
        params.n_threads = llm.context_params.n_threads
        params.n_threads_batch = llm.context_params.n_threads_batch
        params.flash_attn_type = llm.context_params.flash_attn_type
        params.offload_kqv = llm.context_params.offload_kqv
        self._size = size
        # llama.cpp reports "model default pooling_type is [-1], but [1] was specified" as an
        # error for every decoder model; it is the point here, so keep it off the terminal
        llama_logger = logging.getLogger("llama-cpp-python")
        level = llama_logger.level
        if not config.verbose:
            llama_logger.setLevel(logging.CRITICAL)
        try:
            self._ctx = _internals.LlamaContext(model=llm._model, params=params, verbose=False)
        finally:
            llama_logger.setLevel(level)
        self._batch = _internals.LlamaBatch(n_tokens=size, embd=0, n_seq_max=1, verbose=False)

    def embed(self, text: str) -> list[float]:
        tokens = self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)
        tokens = tokens[: self._size] or [self._llm.token_eos()]
        self._batch.reset()
        self._batch.add_sequence(tokens, 0, True)
        self._ctx.kv_cache_clear()
        self._ctx.decode(self._batch)
        vector = self._ctx.get_embeddings_seq(0)
        return [float(x) for x in vector[: self._llm.n_embd()]]

    def close(self) -> None:
        self._batch.close()
        self._ctx.close()


class _StopMatcher:
    """Stop strings over streamed text: text that might begin a stop string is held back."""

    def __init__(self, stops: Sequence[str]) -> None:
        self._stops = [s for s in stops if s]
        self._held = ""
        self.stopped = False

    def feed(self, text: str) -> tuple[str, bool]:
        """(text safe to emit, whether a stop string was reached)."""
        if not self._stops:
            return text, False
        held = self._held + text
        hits = [at for at in (held.find(s) for s in self._stops) if at >= 0]
        if hits:
            self._held = ""
            self.stopped = True
            return held[: min(hits)], True
        keep = max((_overlap(held, s) for s in self._stops), default=0)
        self._held = held[len(held) - keep:]
        return held[: len(held) - keep], False

    def flush(self, text: str = "") -> str:
        held, self._held = self._held + text, ""
        return held


def _overlap(text: str, stop: str) -> int:
    for length in range(min(len(stop) - 1, len(text)), 0, -1):
        if text.endswith(stop[:length]):
            return length
    return 0


def _piece(vocab: Any, token: int) -> bytes:
    """The token's bytes (llama-cpp-python's own helper caps pieces at 32 bytes)."""
    buffer = ctypes.create_string_buffer(64)
    n = llama_cpp.llama_token_to_piece(vocab, token, buffer, 64, 0, False)
    if n < 0:
        buffer = ctypes.create_string_buffer(-n)
        n = llama_cpp.llama_token_to_piece(vocab, token, buffer, -n, 0, False)
    return buffer.raw[:n]


def _logit_bias(bias: tuple[tuple[int, float], ...]) -> llama_cpp.LogitsProcessorList | None:
    if not bias:
        return None
    ids = np.array([token for token, _ in bias], dtype=np.intc)
    values = np.array([value for _, value in bias], dtype=np.single)

    def apply(_input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        scores[ids] += values
        return scores

    return llama_cpp.LogitsProcessorList([apply])


def _common_prefix(llm: llama_cpp.Llama, tokens: list[int]) -> int:
    cached = llm._input_ids[: llm.n_tokens]
    n = 0
    for a, b in zip(cached, tokens, strict=False):
        if a != b:
            break
        n += 1
    return n


def _n_gpu_layers(config: LlamaCppConfig) -> int:
    if config.n_gpu_layers is not None:
        return config.n_gpu_layers
    return -1 if gpu_build() else 0


def _check_config(config: LlamaCppConfig) -> None:
    for name in (config.cache_type_k, config.cache_type_v):
        if name not in KV_CACHE_TYPES:
            raise BackendError(f"unknown KV cache type {name!r}; use one of "
                               f"{', '.join(KV_CACHE_TYPES)}")
    if config.pooling not in _POOLING:
        raise BackendError(f"unknown pooling {config.pooling!r}; use mean or last")
    flash = config.flash_attn if config.flash_attn is not None else _n_gpu_layers(config) != 0
    if config.cache_type_v not in ("f16", "f32", "bf16") and not flash:
        raise BackendError("a quantized V cache needs flash attention: set flash_attn=True "
                           "or cache_type_v=f16")


def _load(path: Path, config: LlamaCppConfig) -> llama_cpp.Llama:
    layers = _n_gpu_layers(config)
    flash = config.flash_attn if config.flash_attn is not None else layers != 0
    try:
        with _model_params(use_extra_bufts=config.repack_weights):
            return _construct(path, config, layers, flash)
    except (ValueError, RuntimeError) as exc:
        raise BackendError(
            f"llama.cpp could not load {path}: {exc}. Check that it is a complete GGUF file; "
            "for out-of-memory errors lower n_ctx, use cache_type_k/v=q8_0, or offload fewer "
            "layers (n_gpu_layers)") from exc


_PARAMS_LOCK = threading.Lock()


@contextlib.contextmanager
def _model_params(**fields: Any) -> Iterator[None]:
    """Model parameters llama-cpp-python's Llama() takes no argument for (use_extra_bufts):
    set on the defaults it starts from, for one construction."""
    module = llama_cpp.llama_cpp
    original = module.llama_model_default_params

    def with_fields() -> Any:
        params = original()
        for name, value in fields.items():
            setattr(params, name, value)
        return params

    with _PARAMS_LOCK:
        module.llama_model_default_params = with_fields
        try:
            yield
        finally:
            module.llama_model_default_params = original


def _construct(path: Path, config: LlamaCppConfig, layers: int, flash: bool) -> llama_cpp.Llama:
    return llama_cpp.Llama(
        str(path),
        n_ctx=config.n_ctx,
        n_gpu_layers=layers,
        n_threads=config.n_threads,
        n_threads_batch=config.n_threads_batch,
        n_batch=config.n_batch,
        n_ubatch=config.n_ubatch,
        flash_attn=flash,
        type_k=KV_CACHE_TYPES[config.cache_type_k],
        type_v=KV_CACHE_TYPES[config.cache_type_v],
        verbose=config.verbose,
    )


def _load_checked(path: Path, config: LlamaCppConfig
                  ) -> tuple[llama_cpp.Llama, _Embedder | None, ChatTemplate]:
    """Load, and when embeddings are on, prove that an embedding call leaves generation as it
    was: the greedy next token is the same before and after embedding."""
    llm = _load(path, config)
    embedder: _Embedder | None = None
    try:
        template = _chat_template(llm, config)
        if config.embeddings:
            before = _greedy_token(llm)
            embedder = _Embedder(llm, config)
            embedder.embed("def solve(): return 42")
            if _greedy_token(llm) != before:
                raise BackendError(
                    "after an embedding call this llama.cpp build generates differently; turn "
                    "embeddings off and report the build (doctor prints it)")
    except BaseException as exc:
        if embedder is not None:
            embedder.close()
        llm.close()
        if isinstance(exc, BackendError):
            raise
        raise BackendError(f"llama.cpp could not prepare {path.name}: {exc}; try embeddings "
                           "off (the Lens then needs another embedding source)") from exc
    return llm, embedder, template


def _greedy_token(llm: llama_cpp.Llama) -> int:
    llm.reset()  # evaluate from scratch: the check must not read a cached state
    tokens = llm.tokenize(b"Hello", add_bos=llm._model.add_bos_token(), special=False)
    generator = llm.generate(tokens, temp=0.0, top_k=1, repeat_penalty=1.0)
    try:
        return next(generator)
    finally:
        generator.close()


def _chat_template(llm: llama_cpp.Llama, config: LlamaCppConfig) -> ChatTemplate:
    source = config.chat_template or llm.metadata.get("tokenizer.chat_template") or CHATML
    model = llm._model

    def token_text(token: int) -> str:
        return model.token_get_text(token) if token >= 0 else ""

    return ChatTemplate(source, bos_token=token_text(model.token_bos()),
                        eos_token=token_text(model.token_eos()),
                        variables=config.template_variables)
