"""LlamaCppBackend: a GGUF model run in-process by llama.cpp (llama-cpp-python).

The `Llama` object is not thread-safe, so one dedicated thread owns it: it is created there, and
every call (generation, embedding, tokenizing) runs there as a job. The asyncio side submits jobs
and receives tokens through a queue. Generation checks a cancel flag between tokens, so closing a
stream stops the model within a token.

- Generation goes through a scheduler on that thread (engine/llm/batch_decode.py) that decodes
  every sequence in flight in one batch: concurrent `stream` calls and `stream_many` share each
  decode, and a prompt prefix they share is prefilled once.

- All layers go on the GPU when the llama.cpp build has one (CUDA, Metal, ...).
- The common prompt prefix stays in the KV cache between calls (finished sequences stay cached
  until their slot is needed), so budget-forcing continuations and repeated system prompts cost
  only their new tokens.
- Embeddings come from the same loaded weights through a second llama.cpp context on the same
  model (mean-pooled by default), never by loading the model twice. At load we embed once and
  then generate, to prove the two contexts do not disturb each other.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import queue
import threading
import time
from collections.abc import AsyncGenerator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import llama_cpp
from llama_cpp import _internals

from engine.cpus import physical_cores
from engine.llm.base import (
    BackendError,
    BackendInfo,
    ChatMessage,
    Delta,
    GenerationRequest,
    GenerationResult,
    ManyStream,
    Prompt,
    SamplingParams,
    ThinkingBudget,
    ThinkTags,
    final_result,
    final_results,
    how_to_set,
)
from engine.llm.batch import stream_each
from engine.llm.batch_decode import BatchDecoder, Counters, SeqJob
from engine.llm.budget import RawChunk, RawEnd
from engine.llm.chat_template import CHATML, ChatTemplate
from engine.llm.guarded import guarded_stream
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
    # None: one per physical core, as llama.cpp's own programs decode (llama-cpp-python's half
    # of os.cpu_count() assumes two hardware threads a core and halves decoding without them)
    n_threads: int | None = None
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
    # Sequences the context holds at once (generating, plus finished ones kept as prefix
    # caches); they share the n_ctx cells of one unified KV cache.
    n_seq_max: int = 16
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
        self.scheduler: BatchDecoder | None = None  # set on this thread once the model is up
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        """Jobs first (they are short: admitting a sequence, tokenizing, embedding), and while
        sequences are in flight one decode step whenever no job waits."""
        while True:
            scheduler = self.scheduler
            if scheduler is not None:
                scheduler.reap()  # a closed stream is counted before any job queued after it
            if scheduler is not None and scheduler.busy():
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    scheduler.step()
                    continue
            else:
                job = self._jobs.get()
            if job is None:
                return
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

        def start_scheduler() -> None:
            owner.scheduler = BatchDecoder(llm, config.n_seq_max, backend.counters)

        try:
            owner.call_sync(start_scheduler)
        except BaseException:
            backend.close_sync()
            raise
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

    @property
    def threads(self) -> tuple[int, int]:
        """CPU threads llama.cpp uses: (decoding one token a step, prompts and batches)."""
        params = self._llm.context_params
        return int(params.n_threads), int(params.n_threads_batch)

    def render_chat(self, messages: Sequence[ChatMessage], *, add_generation_prompt: bool = True
                    ) -> str:
        return self._template.render(messages, add_generation_prompt=add_generation_prompt)

    async def stream(
        self,
        prompt: Prompt,
        params: SamplingParams,
        *,
        budget: ThinkingBudget | None = None,
    ) -> AsyncGenerator[Delta | GenerationResult, None]:
        text = prompt if isinstance(prompt, str) else self.render_chat(prompt)
        async for item in guarded_stream(self, text, params, budget, self._config.tags):
            yield item

    def stream_many(self, requests: Sequence[GenerationRequest]) -> ManyStream:
        """Each request is an ordinary stream; the scheduler decodes them in one batch."""
        return stream_each(self.stream, requests)

    async def generate_many(self, requests: Sequence[GenerationRequest]
                            ) -> list[GenerationResult]:
        return await final_results(self.stream_many(requests), len(requests))

    async def generate(
        self,
        prompt: Prompt,
        params: SamplingParams,
        *,
        budget: ThinkingBudget | None = None,
    ) -> GenerationResult:
        return await final_result(self.stream(prompt, params, budget=budget))

    async def complete_raw(self, prompt: str, params: SamplingParams
                           ) -> AsyncGenerator[RawChunk | RawEnd, None]:
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
                self._submit(prompt, params, cancel, push)
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

    async def clear_cache(self) -> None:
        """Drop the prompt prefixes kept from finished sequences (a cold start, for
        benchmarks); sequences in flight keep theirs."""
        scheduler = self._owner.scheduler
        if scheduler is not None:
            await self._owner.call(scheduler.forget)

    async def count_tokens(self, text: str) -> int:
        return len(await self._owner.call(lambda: self._tokenize(text)))

    async def embed(self, text: str) -> list[float]:
        self._require_open()
        embedder = self._embedder
        if embedder is None:
            raise BackendError("embeddings are off for this backend (setting llm.embeddings = "
                               "false)")
        return await self._owner.call(lambda: embedder.embed(text))

    async def close(self) -> None:
        await asyncio.to_thread(self.close_sync)

    def close_sync(self) -> None:
        """Release the model and stop its thread (blocking; from async code `await close()`)."""
        if self._closed:
            return
        self._closed = True
        embedder, llm = self._embedder, self._llm

        def release() -> None:
            if self._owner.scheduler is not None:
                self._owner.scheduler.close()
                self._owner.scheduler = None
            if embedder is not None:
                embedder.close()
            llm.close()

        self._owner.call_sync(release)
        self._owner.stop()

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

    def _submit(self, prompt: str, params: SamplingParams, cancel: threading.Event,
                push: Callable[[RawChunk | RawEnd | BaseException], None]) -> None:
        if cancel.is_set():
            return
        tokens = self._tokenize(prompt)
        n_ctx = self._llm.n_ctx()
        if len(tokens) >= n_ctx:
            raise BackendError(f"the prompt has {len(tokens)} tokens but the context holds "
                               f"{n_ctx}: shorten it or raise the context, "
                               f"{how_to_set('n_ctx', 2 * len(tokens))}")
        if params.prompt_lookup < 0:
            raise BackendError(f"prompt_lookup must be 0 (off) or a number of draft tokens, "
                               f"not {params.prompt_lookup}")
        scheduler = self._owner.scheduler
        assert scheduler is not None, "the scheduler starts with the model"
        scheduler.submit(SeqJob(tokens, params, min(params.max_tokens, n_ctx - len(tokens)),
                                cancel, push))

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


def _n_gpu_layers(config: LlamaCppConfig) -> int:
    if config.n_gpu_layers is not None:
        return config.n_gpu_layers
    return -1 if gpu_build() else 0


def _check_config(config: LlamaCppConfig) -> None:
    for name in (config.cache_type_k, config.cache_type_v):
        if name not in KV_CACHE_TYPES:
            raise BackendError(f"unknown KV cache type {name!r}; use one of "
                               f"{', '.join(KV_CACHE_TYPES)}")
    if not 1 <= config.n_seq_max <= llama_cpp.llama_max_parallel_sequences():
        raise BackendError(f"llm.n_seq_max must be between 1 and "
                           f"{llama_cpp.llama_max_parallel_sequences()}, not {config.n_seq_max}")
    if config.pooling not in _POOLING:
        raise BackendError(f"unknown pooling {config.pooling!r}; use mean or last")
    flash = config.flash_attn if config.flash_attn is not None else _n_gpu_layers(config) != 0
    if config.cache_type_v not in ("f16", "f32", "bf16") and not flash:
        raise BackendError("a quantized V cache needs flash attention: set llm.flash_attn=true "
                           "or llm.cache_type_v=f16")


def _load(path: Path, config: LlamaCppConfig) -> llama_cpp.Llama:
    layers = _n_gpu_layers(config)
    flash = config.flash_attn if config.flash_attn is not None else layers != 0
    try:
        # several sequences share one unified KV cache: each may use all of n_ctx, and a
        # copied prefix shares cells instead of duplicating them (engine/llm/batch_decode.py)
        with _default_params(model={"use_extra_bufts": config.repack_weights},
                             context={"n_seq_max": config.n_seq_max, "kv_unified": True}):
            return _construct(path, config, layers, flash)
    except (ValueError, RuntimeError) as exc:
        raise BackendError(
            f"llama.cpp could not load {path}: {exc}. Check that it is a complete GGUF file. "
            f"Out of memory? Lower the context, {how_to_set('n_ctx', 4096)}; quantize the KV "
            "cache (llm.cache_type_k=q8_0, and llm.cache_type_v=q8_0 with llm.flash_attn=true); "
            "or put fewer layers on the GPU (llm.n_gpu_layers). Every llm setting is set the "
            "same three ways (atlas-tui config lists them)") from exc


_PARAMS_LOCK = threading.Lock()


@contextlib.contextmanager
def _default_params(*, model: dict[str, Any], context: dict[str, Any]) -> Iterator[None]:
    """Model and context parameters llama-cpp-python's Llama() takes no argument for
    (use_extra_bufts, n_seq_max, kv_unified): set on the defaults it starts from, for one
    construction."""
    module = llama_cpp.llama_cpp
    originals = {"llama_model_default_params": model, "llama_context_default_params": context}
    saved = {name: getattr(module, name) for name in originals}

    def with_fields(name: str) -> Callable[[], Any]:
        def make() -> Any:
            params = saved[name]()
            for field_name, value in originals[name].items():
                setattr(params, field_name, value)
            return params
        return make

    with _PARAMS_LOCK:
        for name in originals:
            setattr(module, name, with_fields(name))
        try:
            yield
        finally:
            for name, original in saved.items():
                setattr(module, name, original)


def _construct(path: Path, config: LlamaCppConfig, layers: int, flash: bool) -> llama_cpp.Llama:
    return llama_cpp.Llama(
        str(path),
        n_ctx=config.n_ctx,
        n_gpu_layers=layers,
        n_threads=config.n_threads or physical_cores(),
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
