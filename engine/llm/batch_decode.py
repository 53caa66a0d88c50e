"""Several sequences decoded together on one llama.cpp context (continuous batching).

Decoding is bound by reading the weights, on a CPU as on a GPU, so one `llama_decode` over k
sequences' next tokens costs little more than over one. The owner thread of the in-process
backend runs this scheduler between its other jobs: every step it admits waiting sequences,
puts each active sequence's next token (or a chunk of its prompt) into one batch, decodes
it, and samples each sequence with its own sampler chain (seed, temperature, top-k/p, min-p,
logit bias). A sequence that ends (end of text, a stop string, its token limit, a cancel)
leaves the batch at once; the others go on.

The KV cache is unified (`kv_unified`): sequences share its cells, so a prompt prefix is
decoded once and then copied to other sequences (`llama_memory_seq_cp` only tags the cells
with another sequence id). A finished sequence stays in its slot as a cache until the slot is
needed, so budget-forcing continuations, repeated system prompts and k answers to one prompt
cost only their new tokens. A sequence whose prompt shares more with a prompt being prefilled
right now waits one step and then copies it, rather than decoding the same tokens twice.

Prompt lookup (n-gram speculation), per sequence: tokens that followed the last n-gram of the
sequence earlier in its prompt or answer are decoded as a draft together with the next token;
each draft token is kept while the sampler, run position by position on the real logits,
picks exactly it. The sampler is called once per token it produces either way, so seeds give
the tokens they give without speculation.
"""

from __future__ import annotations

import codecs
import ctypes
import random
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import llama_cpp
import numpy as np
from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

from engine.llm.base import BackendError, SamplingParams
from engine.llm.budget import RawChunk, RawEnd

Push = Callable[[RawChunk | RawEnd | BaseException], None]
LOOKUP_NGRAM = 3  # longest n-gram matched for prompt lookup (falls back to shorter ones)


@dataclass(slots=True)
class Counters:
    """Totals the owner thread keeps; doctor, tests and the benchmark read them."""

    tokens_generated: int = 0
    completions: int = 0
    cancelled: int = 0
    prefix_tokens_reused: int = 0  # prompt tokens taken from the cache instead of decoded
    prompt_tokens_decoded: int = 0  # prompt tokens actually prefilled
    decode_calls: int = 0
    draft_tokens: int = 0  # prompt-lookup tokens proposed
    draft_accepted: int = 0  # ... and kept


@dataclass(slots=True)
class SeqJob:
    """One raw completion: a tokenized prompt to continue, and where its chunks go."""

    prompt: list[int]
    params: SamplingParams
    max_new: int
    cancel: threading.Event
    push: Push
    generated: list[int] = field(default_factory=list)
    pending: int | None = None  # sampled, streamed, not yet in the KV cache
    sampler: Any = None
    decoder: Any = None
    stops: StopMatcher | None = None


@dataclass(slots=True)
class _Slot:
    seq: int
    tokens: list[int] = field(default_factory=list)  # what the KV cache holds for `seq`
    job: SeqJob | None = None
    used: int = 0  # step of last use, for evicting the least recently used cache

    def prefilling(self) -> bool:
        return self.job is not None and len(self.tokens) < len(self.job.prompt)


class BatchDecoder:
    """The scheduler; every method runs on the owner thread of the model."""

    def __init__(self, llm: llama_cpp.Llama, n_seq: int, counters: Counters) -> None:
        self._ctx = llm._ctx.ctx
        self._mem = llama_cpp.llama_get_memory(self._ctx)
        self._vocab = llm._model.vocab
        self._n_vocab = llm.n_vocab()
        self._n_batch = llm.n_batch
        self._batch = llama_cpp.llama_batch_init(self._n_batch, 0, 1)
        self._slots = [_Slot(seq) for seq in range(n_seq)]
        self._waiting: deque[SeqJob] = deque()
        self._step = 0
        self.counters = counters
        llama_cpp.llama_memory_clear(self._mem, True)

    # -- called by the owner thread ----------------------------------------------------------

    def submit(self, job: SeqJob) -> None:
        if job.max_new <= 0:
            job.push(RawEnd("length", len(job.prompt), 0))
            self.counters.completions += 1
            return
        self._waiting.append(job)

    def busy(self) -> bool:
        return bool(self._waiting) or any(slot.job is not None for slot in self._slots)

    def reap(self) -> None:
        """Drop cancelled sequences (their consumers closed the stream)."""
        for slot in self._slots:
            if slot.job is not None and slot.job.cancel.is_set():
                self._finish(slot, "cancelled")
        for job in [j for j in self._waiting if j.cancel.is_set()]:
            self._waiting.remove(job)
            self.counters.completions += 1
            self.counters.cancelled += 1

    def step(self) -> None:
        """Admit, decode one batch, sample. An unexpected failure ends every active sequence
        with the error rather than the owner thread."""
        self._step += 1
        try:
            self.reap()
            self._admit()
            self._decode_once()
        except Exception as exc:  # delivered to every consumer
            for slot in self._slots:
                if slot.job is not None:
                    self._fail(slot, exc)

    def forget(self) -> None:
        """Drop every cached prefix no sequence is using."""
        for slot in self._slots:
            if slot.job is None:
                self._clear(slot)

    def close(self) -> None:
        for slot in self._slots:
            if slot.job is not None:
                self._fail(slot, BackendError("the backend was closed"))
        for job in self._waiting:
            job.push(BackendError("the backend was closed"))
        self._waiting.clear()
        llama_cpp.llama_batch_free(self._batch)

    # -- admission -----------------------------------------------------------------------------

    def _admit(self) -> None:
        waiting, self._waiting = self._waiting, deque()
        for job in waiting:
            if not self._place(job):
                self._waiting.append(job)

    def _place(self, job: SeqJob) -> bool:
        """Give the job a slot, its prompt's longest cached prefix copied in. False: wait."""
        prompt = job.prompt
        limit = len(prompt) - 1  # the last prompt token is decoded for its logits
        source, cached = None, 0
        for slot in self._slots:
            n = _common_prefix(slot.tokens, prompt)
            if n > cached:
                source, cached = slot, n
        reuse = min(cached, limit)
        soon = max((min(_common_prefix(s.job.prompt, prompt), limit)
                    for s in self._slots if s.job is not None and s.prefilling()), default=0)
        if soon > reuse:
            return False  # copy it once that prefill is done
        target: _Slot | None
        if source is not None and source.job is None:
            target = source  # take over the idle cache: keep the shared part
            if not llama_cpp.llama_memory_seq_rm(self._mem, target.seq, reuse, -1):
                self._clear(target)
                reuse = 0
            del target.tokens[reuse:]
        else:
            target = self._free_slot()
            if target is None:
                return False
            if reuse > 0 and source is not None:
                llama_cpp.llama_memory_seq_cp(self._mem, source.seq, target.seq, 0, reuse)
                target.tokens = prompt[:reuse]
        self.counters.prefix_tokens_reused += reuse
        job.sampler = _sampler(job.params, self._n_vocab)
        job.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        job.stops = StopMatcher(job.params.stop)
        target.job = job
        target.used = self._step
        return True

    def _free_slot(self) -> _Slot | None:
        idle = [s for s in self._slots if s.job is None]
        if not idle:
            return None
        slot = min(idle, key=lambda s: (len(s.tokens) > 0, s.used))  # empty, else LRU cache
        self._clear(slot)
        return slot

    def _clear(self, slot: _Slot) -> None:
        llama_cpp.llama_memory_seq_rm(self._mem, slot.seq, -1, -1)
        slot.tokens = []

    # -- one decode --------------------------------------------------------------------------

    def _decode_once(self) -> None:
        while True:
            plan = self._fill_batch()
            if not plan:
                return
            status = llama_cpp.llama_decode(self._ctx, self._batch)
            self.counters.decode_calls += 1
            if status == 0:
                break
            if status == 1 and self._evict_one():
                continue  # room made: the same batch again
            active = [s for s in self._slots if s.job is not None]
            if status == 1 and len(active) > 1:
                longest = max(active, key=lambda s: len(s.tokens))  # frees the most
                self._fail(longest, BackendError(
                    f"the context ({llama_cpp.llama_n_ctx(self._ctx)} tokens) is full with "
                    f"{len(active)} sequences: raise n_ctx or ask for fewer at once"))
                continue
            raise BackendError(f"llama_decode failed with status {status}")
        for slot, added, first_logit, drafts in plan:
            self._after_decode(slot, added, first_logit, drafts)

    def _fill_batch(self) -> list[tuple[_Slot, list[int], int, list[int]]]:
        """(slot, tokens added, batch index of its first logits or -1, draft tokens) each."""
        batch = self._batch
        batch.n_tokens = 0
        plan: list[tuple[_Slot, list[int], int, list[int]]] = []

        def add(slot: _Slot, tokens: Sequence[int], logits_from: int) -> int:
            start = batch.n_tokens
            pos = len(slot.tokens)
            for i, token in enumerate(tokens):
                j = start + i
                batch.token[j] = token
                batch.pos[j] = pos + i
                batch.n_seq_id[j] = 1
                batch.seq_id[j][0] = slot.seq
                batch.logits[j] = i >= logits_from
            batch.n_tokens = start + len(tokens)
            return start + logits_from if logits_from < len(tokens) else -1

        generating = [s for s in self._slots if s.job is not None and s.job.pending is not None]
        room = self._n_batch - len(generating)
        for slot in generating:
            job = slot.job
            assert job is not None and job.pending is not None
            drafts = self._drafts(job, room)
            room -= len(drafts)
            tokens = [job.pending, *drafts]
            plan.append((slot, tokens, add(slot, tokens, 0), drafts))
        for slot in self._slots:
            if not slot.prefilling() or room <= 0:
                continue
            job = slot.job
            assert job is not None
            chunk = job.prompt[len(slot.tokens): len(slot.tokens) + room]
            room -= len(chunk)
            last = len(slot.tokens) + len(chunk) == len(job.prompt)
            plan.append((slot, chunk, add(slot, chunk, len(chunk) - 1 if last else len(chunk)),
                         []))
        return plan

    def _drafts(self, job: SeqJob, room: int) -> list[int]:
        size = min(job.params.prompt_lookup, room, job.max_new - len(job.generated) - 1)
        if size <= 0:
            return []
        history = np.fromiter((*job.prompt, *job.generated), dtype=np.intc)
        found = LlamaPromptLookupDecoding.find_candidate_pred_tokens(history, LOOKUP_NGRAM, size)
        self.counters.draft_tokens += len(found)
        return [int(t) for t in found]

    def _after_decode(self, slot: _Slot, added: list[int], first_logit: int,
                      drafts: list[int]) -> None:
        job = slot.job
        assert job is not None
        slot.used = self._step
        if job.pending is None:  # a prompt chunk
            slot.tokens.extend(added)
            self.counters.prompt_tokens_decoded += len(added)
            if first_logit >= 0:
                self._sample(slot, first_logit)
            return
        # the pending token and any drafts: keep the drafts the sampler agrees with
        slot.tokens.append(job.pending)
        job.pending = None
        index = first_logit
        for draft in [*drafts, None]:
            token = self._sample(slot, index)
            if token is None or draft is None or token != draft:
                break
            self.counters.draft_accepted += 1
            slot.tokens.append(draft)
            job.pending = None
            index += 1
        if drafts:  # rejected drafts are in the cache past what the sequence holds
            llama_cpp.llama_memory_seq_rm(self._mem, slot.seq, len(slot.tokens), -1)

    def _sample(self, slot: _Slot, index: int) -> int | None:
        """Sample the next token at batch `index`; returns it, or None when the job ended."""
        job = slot.job
        assert job is not None and job.stops is not None
        token = llama_cpp.llama_sampler_sample(job.sampler, self._ctx, index)
        if llama_cpp.llama_vocab_is_eog(self._vocab, token):
            self._finish(slot, "stop")
            return None
        job.generated.append(token)
        self.counters.tokens_generated += 1  # live: read while a stream runs
        # one chunk per token, even when its text is held back (half a UTF-8 character, or the
        # start of a stop string), so the budget driver counts tokens exactly
        text, stopped = job.stops.feed(job.decoder.decode(_piece(self._vocab, token)))
        job.push(RawChunk(text, 1))
        if stopped:
            self._finish(slot, "stop")
            return None
        if len(job.generated) >= job.max_new:
            self._finish(slot, "length")
            return None
        job.pending = token
        return token

    # -- endings -------------------------------------------------------------------------------

    def _finish(self, slot: _Slot, reason: str) -> None:
        job = slot.job
        assert job is not None
        slot.job = None
        self._release(job)
        self.counters.completions += 1
        if reason == "cancelled":
            self.counters.cancelled += 1
            return
        assert job.stops is not None
        tail = "" if job.stops.stopped else job.stops.flush(job.decoder.decode(b"", final=True))
        if tail:
            job.push(RawChunk(tail, 0))
        job.push(RawEnd(reason, len(job.prompt), len(job.generated)))

    def _fail(self, slot: _Slot, exc: BaseException) -> None:
        job = slot.job
        assert job is not None
        slot.job = None
        self._release(job)
        self._clear(slot)  # its cache may hold a half-decoded batch
        self.counters.completions += 1
        job.push(exc)

    def _release(self, job: SeqJob) -> None:
        if job.sampler is not None:
            llama_cpp.llama_sampler_free(job.sampler)
            job.sampler = None

    def _evict_one(self) -> bool:
        caches = [s for s in self._slots if s.job is None and s.tokens]
        if not caches:
            return False
        self._clear(min(caches, key=lambda s: s.used))
        return True


def _sampler(params: SamplingParams, n_vocab: int) -> Any:
    """The sequence's own chain, in llama-cpp-python's order: bias, then greedy at temperature
    0, else top-k, top-p, min-p, temperature and a seeded draw."""
    chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())

    def add(sampler: Any) -> None:
        llama_cpp.llama_sampler_chain_add(chain, sampler)

    if params.logit_bias:
        biases = (llama_cpp.llama_logit_bias * len(params.logit_bias))(
            *(llama_cpp.llama_logit_bias(token, bias) for token, bias in params.logit_bias))
        add(llama_cpp.llama_sampler_init_logit_bias(n_vocab, len(params.logit_bias), biases))
    if params.temperature <= 0:
        add(llama_cpp.llama_sampler_init_greedy())
        return chain
    if params.top_k > 0:
        add(llama_cpp.llama_sampler_init_top_k(params.top_k))
    add(llama_cpp.llama_sampler_init_top_p(params.top_p, 1))
    add(llama_cpp.llama_sampler_init_min_p(params.min_p, 1))
    add(llama_cpp.llama_sampler_init_temp(params.temperature))
    seed = params.seed if params.seed is not None else random.randrange(2**31)
    add(llama_cpp.llama_sampler_init_dist(seed & 0xFFFFFFFF))
    return chain


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


class StopMatcher:
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
