"""The one interface the pipeline uses to talk to a model, whatever runs it."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, Protocol, runtime_checkable

Channel = Literal["thinking", "answer"]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True, slots=True)
class SamplingParams:
    temperature: float = 0.6
    top_p: float = 0.95
    top_k: int = 20
    min_p: float = 0.0
    max_tokens: int = 4096
    seed: int | None = None
    stop: tuple[str, ...] = ()
    # (token id, bias) pairs added to the logits, as OpenAI's logit_bias; ids are the model's own
    logit_bias: tuple[tuple[int, float], ...] = ()
    # What the call is for ("probe", "selftest", ...): never sent to the model; logs and the
    # scripted test double use it, so prompts need no routing marker.
    purpose: str = ""
    # Stop a generation that has fallen into a loop (engine/llm/guard.py): it ends with
    # finish_reason "loop" and its answer cut to what came before the loop plus one period.
    loop_guard: bool = False
    # Prompt-lookup (n-gram) speculative decoding, where the backend has it (in-process
    # llama.cpp): up to this many tokens copied from the prompt are checked in one decode.
    # It changes speed only, never the tokens; it pays off when the answer repeats much of
    # the prompt (a repair of a program in the prompt). 0: off.
    prompt_lookup: int = 0


class BudgetTier(StrEnum):
    """Thinking budgets for models that think inside <think>...</think>."""

    NONE = "none"
    LIGHT = "light"
    STANDARD = "standard"
    HARD = "hard"
    EXTREME = "extreme"


@dataclass(frozen=True, slots=True)
class ThinkingBudget:
    """Cap: thinking is closed once `max_tokens` are spent. Extend: a close before
    `min_tokens` is replaced by `continuation` and thinking goes on (at most `max_extensions`)."""

    min_tokens: int = 0
    max_tokens: int = 0  # 0: no thinking at all (the think block is closed at once)
    continuation: str = "\nWait,"
    max_extensions: int = 3

    @classmethod
    def for_tier(cls, tier: BudgetTier) -> ThinkingBudget:
        return _TIERS[tier]


_TIERS: dict[BudgetTier, ThinkingBudget] = {
    BudgetTier.NONE: ThinkingBudget(0, 0),
    BudgetTier.LIGHT: ThinkingBudget(0, 1024),
    BudgetTier.STANDARD: ThinkingBudget(256, 4096),
    BudgetTier.HARD: ThinkingBudget(1024, 8192),
    BudgetTier.EXTREME: ThinkingBudget(2048, 16384),
}


@dataclass(frozen=True, slots=True)
class ThinkTags:
    open: str = "<think>"
    close: str = "</think>"


@dataclass(frozen=True, slots=True)
class Delta:
    """A piece of streamed text, told apart as thinking or answer."""

    text: str
    channel: Channel = "answer"


@dataclass(frozen=True, slots=True)
class BudgetOutcome:
    thinking_tokens: int = 0
    capped: bool = False  # the budget ran out and thinking was closed for the model
    extensions: int = 0  # times an early close was replaced by the continuation cue


@dataclass(frozen=True, slots=True)
class GenerationResult:
    thinking: str
    answer: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str  # "stop", "length", "cancelled", ...
    time_to_first_token_s: float
    elapsed_s: float
    budget: BudgetOutcome = field(default_factory=BudgetOutcome)

    @property
    def tokens_per_s(self) -> float:
        gen_time = self.elapsed_s - self.time_to_first_token_s
        return self.completion_tokens / gen_time if gen_time > 0 else 0.0


@dataclass(frozen=True, slots=True)
class BackendInfo:
    kind: str  # "llama.cpp", "openai", "scripted"
    model: str
    context_size: int | None = None
    embedding_size: int | None = None
    capabilities: tuple[str, ...] = ()  # "completions", "chat", "embeddings", "n>1", ...
    device: str = ""  # "CUDA", "Metal", "CPU", or the server's URL


Prompt = str | Sequence[ChatMessage]


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    """One sequence of a several-at-once call: its own prompt, sampling (seed, temperature,
    stop strings, token limit, loop guard) and thinking budget."""

    prompt: Prompt
    params: SamplingParams
    budget: ThinkingBudget | None = None


class ManyStream(Protocol):
    """The stream of several sequences: (index into the requests, item) pairs, each
    sequence's items in order (its Deltas, then its one GenerationResult), sequences
    interleaved as they are generated. `cancel(i)` stops sequence i (nothing more comes for
    it) while the others go on; closing the stream stops them all."""

    def __aiter__(self) -> AsyncIterator[tuple[int, Delta | GenerationResult]]: ...

    async def __anext__(self) -> tuple[int, Delta | GenerationResult]: ...

    def cancel(self, index: int) -> None: ...

    async def aclose(self) -> None: ...


class BackendError(RuntimeError):
    """A model call failed in a way retries did not fix; the message says what to try."""




@runtime_checkable
class Backend(Protocol):
    """Streamed generation, chat templates, embeddings. Cancellation: closing the stream (or
    cancelling the task consuming it) stops generation within a token or two."""

    @property
    def info(self) -> BackendInfo: ...

    def stream(
        self,
        prompt: Prompt,
        params: SamplingParams,
        *,
        budget: ThinkingBudget | None = None,
    ) -> AsyncGenerator[Delta | GenerationResult, None]:
        """Yields Deltas as they come and, last, one GenerationResult."""
        ...

    async def generate(
        self,
        prompt: Prompt,
        params: SamplingParams,
        *,
        budget: ThinkingBudget | None = None,
    ) -> GenerationResult: ...

    def stream_many(self, requests: Sequence[GenerationRequest]) -> ManyStream:
        """Several sequences at once, for answers drawn from one context (candidates, plans,
        self-tests, repairs). Each has its own sampler, seed, stop strings, token limit, loop
        guard and budget forcing. In-process llama.cpp decodes them in one batch and prefills
        a prompt prefix they share once (its KV cache is copied, not recomputed); a server
        backend sends them as concurrent requests within its concurrency limit. The tokens
        are those of separate `stream` calls with the same seeds, up to the small numeric
        differences batched matrix products can make (see tests/test_batch_llamacpp.py)."""
        ...

    async def generate_many(self, requests: Sequence[GenerationRequest]
                            ) -> list[GenerationResult]:
        """The GenerationResults of `stream_many`, in the order of the requests."""
        ...

    def render_chat(self, messages: Sequence[ChatMessage], *, add_generation_prompt: bool = True
                    ) -> str:
        """The model's own chat template applied to messages (for raw-prompt calls)."""
        ...

    async def embed(self, text: str) -> list[float]:
        """One pooled, unnormalized vector per text from the generating model's own weights."""
        ...

    async def close(self) -> None: ...


async def final_result(items: AsyncGenerator[Delta | GenerationResult, None]) -> GenerationResult:
    """The GenerationResult that ends a stream (what every backend's `generate` returns);
    the stream is closed however this ends, so a cancelled caller stops the generation."""
    async with aclosing(items) as stream:
        async for item in stream:
            if isinstance(item, GenerationResult):
                return item
    raise BackendError("the stream ended without a result")


async def final_results(items: ManyStream, n: int) -> list[GenerationResult]:
    """The GenerationResults that end the n streams of `stream_many`, in request order; the
    stream is closed however this ends."""
    results: dict[int, GenerationResult] = {}
    try:
        async for index, item in items:
            if isinstance(item, GenerationResult):
                results[index] = item
    finally:
        await items.aclose()
    missing = [i for i in range(n) if i not in results]
    if missing:
        raise BackendError(f"sequences {missing} ended without a result")
    return [results[i] for i in range(n)]


def how_to_set(name: str, example: object) -> str:
    """A backend knob as a person sets it through atlas-tui, for messages that suggest one:
    the workbench's `[llm]` settings (atlas_tui/knobs.py) take every knob from the config
    file, an ATLAS_LLM__ variable or a --set flag."""
    return (f"llm.{name} (--set llm.{name}={example}, ATLAS_LLM__{name.upper()}={example}, "
            f"or {name} = {example} under [llm] in the config file)")
