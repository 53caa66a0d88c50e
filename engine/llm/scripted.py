"""ScriptedBackend: a TEST DOUBLE that answers from a script instead of a model.

For deterministic pipeline tests only; backends themselves are tested on a real model. It
speaks the same protocol as the real backends: the same Delta stream (thinking told apart from
answer), one GenerationResult last, stop strings, max_tokens, a thinking-budget cap, and
embeddings (deterministic from a hash of the text, so equal texts embed equally).

The script maps a key to an answer. A call's prompt text (a raw prompt, or every chat message's
content) is matched against the keys in order; the first key found in it (a substring, or a
compiled regex that searches it) picks the answer. A call's `SamplingParams.purpose` is matched
as a marker line `[atlas:PURPOSE]` before the prompt (the model never sees it), so keys such as
"[atlas:probe]" select the answer for each pipeline step. An answer is:

- a string (the model's whole output, `<think>...</think>` included if it should think),
- a sequence of strings, used in turn by successive matching calls (the last one repeats),
- a callable taking the prompt text and returning the string,
- an exception instance, raised by the call (to script failures).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from engine.llm.base import (
    BackendError,
    BackendInfo,
    BudgetOutcome,
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
)
from engine.llm.batch import stream_each
from engine.llm.guard import LoopGuard
from engine.llm.guarded import cut_loop
from engine.llm.thinking import DEFAULT_TAGS, ThinkSplitter

Answer = str | Sequence[str] | Callable[[str], str] | BaseException
Key = str | re.Pattern[str]


@dataclass(frozen=True, slots=True)
class ScriptedCall:
    """One call the double answered, kept so tests can assert on what the pipeline asked."""

    prompt: str
    params: SamplingParams
    budget: ThinkingBudget | None
    key: Key | None  # the script key that matched; None when the default answered


class ScriptedBackend:
    """A test double: answers keyed by the prompt's purpose. Not a model."""

    def __init__(
        self,
        script: Mapping[Key, Answer] | Sequence[tuple[Key, Answer]] = (),
        *,
        default: Answer | None = None,
        embedding_size: int = 64,
        model: str = "scripted",
        tags: ThinkTags = DEFAULT_TAGS,
        token_delay_s: float = 0.0,
    ) -> None:
        items = script.items() if isinstance(script, Mapping) else script
        self._rules: list[tuple[Key, Answer]] = list(items)
        self._default = default
        self._uses: dict[int, int] = {}  # rule index (-1: default) -> times used
        self._tags = tags
        self._delay = token_delay_s
        self._info = BackendInfo(
            kind="scripted",
            model=model,
            embedding_size=embedding_size,
            capabilities=("completions", "chat", "embeddings"),
            device="none (test double)",
        )
        self.calls: list[ScriptedCall] = []
        self.closed = False

    @property
    def info(self) -> BackendInfo:
        return self._info

    def render_chat(self, messages: Sequence[ChatMessage], *, add_generation_prompt: bool = True
                    ) -> str:
        text = "".join(f"<|im_start|>{m.role}\n{m.content}<|im_end|>\n" for m in messages)
        return text + ("<|im_start|>assistant\n" if add_generation_prompt else "")

    async def stream(
        self,
        prompt: Prompt,
        params: SamplingParams,
        *,
        budget: ThinkingBudget | None = None,
    ) -> AsyncGenerator[Delta | GenerationResult, None]:
        started = time.perf_counter()
        text = prompt if isinstance(prompt, str) else "\n".join(m.content for m in prompt)
        if params.purpose:
            text = f"[atlas:{params.purpose}]\n{text}"
        key, answer = self._pick(text)
        self.calls.append(ScriptedCall(text, params, budget, key))
        output, capped = _apply_budget(_pieces(answer, text), budget, self._tags)

        splitter = ThinkSplitter(self._tags)
        generated = ""
        finish = "stop"
        n_tokens = 0
        first_token_at: float | None = None
        guard = LoopGuard() if params.loop_guard else None
        for piece in output:
            if n_tokens >= params.max_tokens:
                finish = "length"
                break
            if guard is not None and guard.tripped:
                finish = "loop"
                break
            stop_at = _first_stop(splitter.answer_text + piece, params.stop, splitter)
            if stop_at is not None:
                piece = piece[: max(0, stop_at - len(splitter.answer_text))]
                for delta in splitter.feed(piece):
                    yield delta
                break
            n_tokens += 1
            generated += piece
            if guard is not None:
                guard.feed(piece)
            first_token_at = first_token_at or time.perf_counter()
            for delta in splitter.feed(piece):
                yield delta
            await asyncio.sleep(self._delay)  # a yield point: consumers can cancel here
        for delta in splitter.flush():
            yield delta

        now = time.perf_counter()
        thinking_tokens = len(_pieces(splitter.thinking_text, "")) if splitter.thinking_text else 0
        yield GenerationResult(
            thinking=splitter.thinking_text,
            answer=cut_loop(splitter.answer_text) if finish == "loop" else splitter.answer_text,
            prompt_tokens=len(_pieces(text, "")),
            completion_tokens=n_tokens,
            finish_reason=finish,
            time_to_first_token_s=(first_token_at or now) - started,
            elapsed_s=now - started,
            budget=BudgetOutcome(thinking_tokens=thinking_tokens, capped=capped),
        )

    async def generate(
        self,
        prompt: Prompt,
        params: SamplingParams,
        *,
        budget: ThinkingBudget | None = None,
    ) -> GenerationResult:
        return await final_result(self.stream(prompt, params, budget=budget))

    def stream_many(self, requests: Sequence[GenerationRequest]) -> ManyStream:
        return stream_each(self.stream, requests)

    async def generate_many(self, requests: Sequence[GenerationRequest]
                            ) -> list[GenerationResult]:
        return await final_results(self.stream_many(requests), len(requests))

    async def embed(self, text: str) -> list[float]:
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
        vector = np.random.default_rng(seed).standard_normal(self._info.embedding_size or 64)
        return [float(x) for x in vector]

    async def close(self) -> None:
        self.closed = True

    def _pick(self, text: str) -> tuple[Key | None, Answer]:
        for index, (key, answer) in enumerate(self._rules):
            found = key.search(text) if isinstance(key, re.Pattern) else key in text
            if found:
                return key, self._use(index, answer)
        if self._default is not None:
            return None, self._use(-1, self._default)
        keys = ", ".join(repr(k if isinstance(k, str) else k.pattern) for k, _ in self._rules)
        raise BackendError(
            f"ScriptedBackend: no script key matches this prompt (keys: {keys or 'none'}); "
            f"prompt starts {text[:120]!r}. Add a key or a default answer."
        )

    def _use(self, index: int, answer: Answer) -> Answer:
        used = self._uses.get(index, 0)
        self._uses[index] = used + 1
        if isinstance(answer, Sequence) and not isinstance(answer, str):
            if not answer:
                raise BackendError("ScriptedBackend: an empty answer sequence in the script")
            return answer[min(used, len(answer) - 1)]
        return answer


_TOKEN = re.compile(r"<think>|</think>|\s*(?:(?!</?think>)\S)+|\s+")


def _pieces(answer: Answer, prompt: str) -> list[str]:
    """The answer as 'tokens': think tags alone, otherwise words with their leading space."""
    if isinstance(answer, BaseException):
        raise answer
    text = answer(prompt) if callable(answer) else answer
    if not isinstance(text, str):
        raise BackendError(f"ScriptedBackend: a script answer must be text, got {type(text)}")
    return _TOKEN.findall(text)


def _apply_budget(
    pieces: list[str], budget: ThinkingBudget | None, tags: ThinkTags
) -> tuple[list[str], bool]:
    """Cap scripted thinking at the budget, closing the think block for the 'model'."""
    if budget is None or tags.open not in pieces:
        return pieces, False
    start = pieces.index(tags.open) + 1
    end = pieces.index(tags.close) if tags.close in pieces else len(pieces)
    if end - start <= budget.max_tokens:
        return pieces, False
    return [*pieces[: start + budget.max_tokens], tags.close, *pieces[end + 1:]], True


def _first_stop(answer: str, stops: tuple[str, ...], splitter: ThinkSplitter) -> int | None:
    """Where the earliest stop string starts in the answer text, if any (not in thinking)."""
    if splitter.thinking or not stops:
        return None
    hits = [at for at in (answer.find(s) for s in stops) if at >= 0]
    return min(hits) if hits else None
