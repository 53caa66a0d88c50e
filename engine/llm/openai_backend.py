"""OpenAIBackend: a model behind an OpenAI-compatible server (llama-server, vLLM, SGLang, Ollama,
LM Studio, llama-cpp-python's server), over httpx.

- A raw prompt (a str) streams from /v1/completions; chat messages stream from
  /v1/chat/completions (the server applies the template), except under a thinking budget, which
  needs a raw prompt: the messages are then rendered on the client with the model's own chat
  template (see engine/llm/openai_template.py for where it comes from).
- Thinking is told from answer by `reasoning_content` / `reasoning` fields (vLLM, SGLang,
  llama-server) and by <think> tags left in the text (the tags are configurable).
- At connect time a probe asks the server what it can do: its models, raw completions, chat,
  embeddings (with their size), n>1, its chat template (llama-server's /props), and a tokenizer
  endpoint for prompt token counts where the stream carries no usage.
- Requests in flight are bounded by a semaphore; connection errors, 408/429/5xx and streams that
  die before any data are retried with exponential backoff (Retry-After honoured), bounded in
  attempts and in time. A raw completion that drops mid-stream resumes where it stopped (the text
  so far appended to the prompt). Anything else is a BackendError that says what to try.
- Closing the stream (or cancelling the task reading it) closes the HTTP response at once; the
  server sees the disconnect and stops generating.
- Defaults: OPENAI_BASE_URL and OPENAI_API_KEY.
- Embeddings may come from a separate server or model (`embeddings_base_url`,
  `embeddings_model`); for the Lens they must come from the generating model's weights (serve the
  same GGUF with embeddings on). Per-token vectors (servers without pooling) are mean-pooled here.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncGenerator, Mapping, Sequence
from contextlib import aclosing
from dataclasses import asdict, dataclass, field, replace
from typing import Any

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
from engine.llm.budget import RawChunk, RawEnd
from engine.llm.chat_template import ChatTemplate
from engine.llm.guard import LoopGuard
from engine.llm.guarded import cut_loop, guarded_stream
from engine.llm.openai_http import (
    HttpTransport,
    RetryPolicy,
    StreamDropped,
    Timeouts,
    normalize_base_url,
)
from engine.llm.openai_template import ChosenTemplate, choose_template
from engine.llm.thinking import ThinkSplitter, prompt_opens_thinking

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OpenAIConfig:
    base_url: str | None = None  # None: $OPENAI_BASE_URL
    api_key: str | None = None  # None: $OPENAI_API_KEY (none needed by most local servers)
    model: str | None = None  # None: the first model the server lists
    embeddings_base_url: str | None = None  # None: the same server
    embeddings_api_key: str | None = None  # None: api_key
    embeddings_model: str | None = None  # None: model
    chat_template: str | None = None  # Jinja text or a known name ("chatml"); None: fetched/known
    bos_token: str = ""  # special tokens the chat template may refer to
    # Extra template variables (e.g. {"enable_thinking": False} for Qwen3): used when rendering
    # here and sent as chat_template_kwargs with chat requests, so both paths agree.
    template_variables: Mapping[str, Any] = field(default_factory=dict)
    eos_token: str = ""
    think_tags: ThinkTags = field(default_factory=ThinkTags)
    max_concurrency: int = 4  # requests in flight to one server
    timeouts: Timeouts = field(default_factory=Timeouts)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    extra_body: Mapping[str, Any] = field(default_factory=dict)  # sent with every generation


@dataclass(frozen=True, slots=True)
class ServerCapabilities:
    models: tuple[str, ...] = ()
    completions: bool = False  # raw-prompt /v1/completions
    chat: bool = False
    embeddings: bool = False
    embedding_size: int | None = None
    parallel_n: bool = False  # n>1 returns several choices
    chat_template: str | None = None  # published by the server (llama-server /props)
    context_size: int | None = None
    tokenizer: str | None = None  # "llama-cpp-python" or "llama-server" (prompt token counts)
    notes: tuple[str, ...] = ()  # why something is missing

    def names(self) -> tuple[str, ...]:
        flags = {
            "completions": self.completions,
            "chat": self.chat,
            "embeddings": self.embeddings,
            "n>1": self.parallel_n,
            "chat-template": self.chat_template is not None,
        }
        return tuple(name for name, present in flags.items() if present)


def _resolve_config(config: OpenAIConfig) -> OpenAIConfig:
    base_url = config.base_url or os.environ.get("OPENAI_BASE_URL")
    if not base_url:
        raise BackendError("no server URL: pass --base-url (e.g. http://127.0.0.1:8080/v1) or "
                           "set OPENAI_BASE_URL")
    api_key = config.api_key or os.environ.get("OPENAI_API_KEY") or None
    return replace(config, base_url=normalize_base_url(base_url), api_key=api_key)


class OpenAIBackend:
    """The Backend protocol over an OpenAI-compatible server. Build with `await connect(...)`;
    a backend built directly probes the server on its first call."""

    def __init__(self, config: OpenAIConfig | None = None, **overrides: Any) -> None:
        self.config = _resolve_config(replace(config or OpenAIConfig(), **overrides))
        cfg = self.config
        assert cfg.base_url is not None
        self._http = HttpTransport(cfg.base_url, cfg.api_key, timeouts=cfg.timeouts,
                                   retry=cfg.retry, max_concurrency=cfg.max_concurrency)
        if cfg.embeddings_base_url:
            self._embed_http = HttpTransport(
                cfg.embeddings_base_url, cfg.embeddings_api_key or cfg.api_key,
                timeouts=cfg.timeouts, retry=cfg.retry, max_concurrency=cfg.max_concurrency)
        else:
            self._embed_http = self._http
        self._caps: ServerCapabilities | None = None
        self._model = cfg.model or ""
        self._template: ChosenTemplate | None = None
        self._probe_lock = asyncio.Lock()
        self._warned_no_template = False

    @classmethod
    async def connect(cls, config: OpenAIConfig | None = None, **overrides: Any) -> OpenAIBackend:
        backend = cls(config, **overrides)
        try:
            await backend.probe()
        except BaseException:
            await backend.close()
            raise
        return backend

    # -- the Backend protocol -------------------------------------------------------------

    @property
    def info(self) -> BackendInfo:
        caps = self._caps or ServerCapabilities()
        return BackendInfo(
            kind="openai",
            model=self._model or (self.config.model or "?"),
            context_size=caps.context_size,
            embedding_size=caps.embedding_size,
            capabilities=caps.names(),
            device=self._http.base_url,
        )

    @property
    def capabilities(self) -> ServerCapabilities:
        if self._caps is None:
            raise BackendError("the server has not been probed yet: await backend.probe()")
        return self._caps

    async def stream(
        self,
        prompt: Prompt,
        params: SamplingParams,
        *,
        budget: ThinkingBudget | None = None,
    ) -> AsyncGenerator[Delta | GenerationResult, None]:
        caps = await self.probe()
        # Messages go raw (rendered here) when a budget needs it or the server has no chat.
        raw_messages = self.template is not None and (budget is not None or not caps.chat)
        if isinstance(prompt, str) or raw_messages:
            if not caps.completions:
                raise BackendError(f"{self._http.base_url} does not serve raw /v1/completions; "
                                   "send chat messages instead (budget forcing needs raw "
                                   "completions)")
            raw = prompt if isinstance(prompt, str) else self.render_chat(prompt)
            items = guarded_stream(self, raw, params, budget, self.config.think_tags)
        else:
            if not caps.chat:
                raise BackendError(f"{self._http.base_url} does not serve /v1/chat/completions; "
                                   "give the model's chat template to use raw completions: "
                                   f"{how_to_set('chat_template', 'chatml')}")
            if budget is not None and not self._warned_no_template:
                self._warned_no_template = True
                _log.warning("no chat template for %s: thinking budgets are not enforced "
                             "(set llm.chat_template)", self._model)
            messages = list(prompt)
            items = self._chat_stream(messages, params, self._chat_opens_thinking(messages))
        async with aclosing(items):
            async for item in items:
                yield item

    async def generate(
        self,
        prompt: Prompt,
        params: SamplingParams,
        *,
        budget: ThinkingBudget | None = None,
    ) -> GenerationResult:
        return await final_result(self.stream(prompt, params, budget=budget))

    def stream_many(self, requests: Sequence[GenerationRequest]) -> ManyStream:
        """Concurrent requests, at most `max_concurrency` in flight (the transport's semaphore);
        the server batches them (llama-server slots, vLLM and SGLang continuous batching). One
        request per sequence rather than n>1: each keeps its own seed, stop strings, budget
        and loop guard, which n>1 cannot carry."""
        return stream_each(self.stream, requests)

    async def generate_many(self, requests: Sequence[GenerationRequest]
                            ) -> list[GenerationResult]:
        return await final_results(self.stream_many(requests), len(requests))

    def render_chat(
        self, messages: Sequence[ChatMessage], *, add_generation_prompt: bool = True
    ) -> str:
        template = self.template
        if template is None:
            raise BackendError(
                f"no chat template for {self._model or 'this model'}: set the model's Jinja "
                "template (tokenizer_config.json or the GGUF's tokenizer.chat_template) or a "
                f"known name, {how_to_set('chat_template', 'chatml')}, or use llama-server, "
                "which publishes its template")
        return template.render(messages, add_generation_prompt=add_generation_prompt)

    async def embed(self, text: str) -> list[float]:
        caps = await self.probe()
        if not caps.embeddings:
            raise BackendError(
                f"{self._embed_http.base_url} serves no embeddings: start the server with "
                "embeddings on (llama-server --embeddings, python -m llama_cpp.server --embedding "
                "true) or set embeddings_base_url to one that does")
        body = {"model": self._embeddings_model, "input": text, "encoding_format": "float"}
        answer = await self._embed_http.request_json("POST", "embeddings", body)
        return _pooled_embedding(answer)

    async def close(self) -> None:
        await self._http.aclose()
        if self._embed_http is not self._http:
            await self._embed_http.aclose()

    async def __aenter__(self) -> OpenAIBackend:
        await self.probe()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- the probe ------------------------------------------------------------------------

    async def probe(self) -> ServerCapabilities:
        """Ask the server what it can do (once; later calls return the same answer)."""
        async with self._probe_lock:
            if self._caps is None:
                self._caps = await _probe(self._http, self._embed_http, self.config)
                self._model = self.config.model or (self._caps.models or ("",))[0]
                self._template = self._choose_template(self._caps.chat_template)
            return self._caps

    @property
    def template(self) -> ChatTemplate | None:
        """The chat template rendered on the client (None: the server's own is used, through
        /v1/chat/completions)."""
        chosen = self._chosen_template()
        return chosen.template if chosen else None

    @property
    def template_origin(self) -> str | None:
        """"configured", "known:chatml", "server" or "guessed:chatml"; None without one."""
        chosen = self._chosen_template()
        return chosen.origin if chosen else None

    def _chosen_template(self) -> ChosenTemplate | None:
        if self._template is None and self._caps is None and self.config.chat_template:
            self._template = self._choose_template(None)  # configured: usable before the probe
        return self._template

    def _choose_template(self, served: str | None) -> ChosenTemplate | None:
        return choose_template(
            configured=self.config.chat_template, served=served, model_id=self._model,
            bos_token=self.config.bos_token, eos_token=self.config.eos_token,
            variables=self.config.template_variables)

    @property
    def _embeddings_model(self) -> str:
        return self.config.embeddings_model or self._model

    # -- streaming ------------------------------------------------------------------------

    def _sampling_body(self, params: SamplingParams) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self._model,
            "stream": True,
            "stream_options": {"include_usage": True},
            "temperature": params.temperature,
            "top_p": params.top_p,
            "max_tokens": params.max_tokens,
        }
        # top_k and min_p are not OpenAI's, but llama.cpp, vLLM, SGLang and Ollama take them.
        if params.top_k > 0:
            body["top_k"] = params.top_k
        if params.min_p > 0:
            body["min_p"] = params.min_p
        if params.seed is not None:
            body["seed"] = params.seed
        if params.stop:
            body["stop"] = list(params.stop)
        if params.logit_bias:
            body["logit_bias"] = {str(token): bias for token, bias in params.logit_bias}
        body.update(self.config.extra_body)
        return body

    async def complete_raw(
        self, prompt: str, params: SamplingParams
    ) -> AsyncGenerator[RawChunk | RawEnd, None]:
        """The primitive budget forcing drives (engine/llm/budget.py): a streamed raw completion,
        one RawChunk per streamed chunk (servers send one token per chunk), then a RawEnd.
        A stream that drops midway is resumed from the text so far, within the retry policy."""
        body = {**self._sampling_body(params), "prompt": prompt}
        generated, tokens, finish, resumes = "", 0, None, 0
        usage: dict[str, Any] = {}
        while True:
            try:
                async with aclosing(self._http.stream_events("completions", body)) as events:
                    async for event in events:
                        usage = event.get("usage") or usage
                        for choice in _first_choice(event):
                            text = choice.get("text") or ""
                            finish = choice.get("finish_reason") or finish
                            if choice.get("finish_reason") is None or text:
                                tokens += 1
                                generated += text
                                yield RawChunk(text)
                break
            except StreamDropped:
                left = params.max_tokens - tokens
                if finish is not None or left <= 0:
                    break  # it had finished; only the end of the stream was lost
                resumes += 1
                if resumes >= self.config.retry.max_attempts:
                    raise
                await asyncio.sleep(self.config.retry.backoff(resumes - 1))
                body = {**body, "prompt": prompt + generated, "max_tokens": left}
        yield RawEnd(finish_reason=finish or "stop",
                     prompt_tokens=await self._prompt_tokens(usage, prompt),
                     completion_tokens=int(usage.get("completion_tokens") or tokens))

    async def count_tokens(self, text: str) -> int:
        """From the server's tokenizer endpoint where it has one; else the common estimate of
        four characters a token."""
        if self._caps is not None and self._caps.tokenizer is not None:
            try:
                return await _count_tokens(self._http, self._caps.tokenizer, self._model, text)
            except BackendError:
                pass
        return (len(text) + 3) // 4

    async def _chat_pieces(
        self, messages: list[ChatMessage], params: SamplingParams
    ) -> AsyncGenerator[_Piece, None]:
        """A chat completion as pieces; restarted on a drop only while nothing was yielded."""
        body = {**self._sampling_body(params),
                "messages": [{"role": m.role, "content": m.content} for m in messages]}
        if self.config.template_variables:
            body["chat_template_kwargs"] = dict(self.config.template_variables)
        tokens, finish, restarts, yielded = 0, None, 0, False
        usage: dict[str, Any] = {}
        while True:
            try:
                async with aclosing(self._http.stream_events("chat/completions", body)) as events:
                    async for event in events:
                        usage = event.get("usage") or usage
                        for choice in _first_choice(event):
                            delta = choice.get("delta") or {}
                            finish = choice.get("finish_reason") or finish
                            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
                            content = delta.get("content")
                            if choice.get("finish_reason") is None and (
                                    content is not None or reasoning is not None):
                                tokens += 1
                            if reasoning:
                                yielded = True
                                yield _Piece(reasoning, channel="thinking")
                            if content:
                                yielded = True
                                yield _Piece(content)
                break
            except StreamDropped:
                if finish is not None:
                    break
                restarts += 1
                if yielded or restarts >= self.config.retry.max_attempts:
                    raise
                await asyncio.sleep(self.config.retry.backoff(restarts - 1))
        rendered = self.render_chat(messages) if self.template is not None else ""
        yield _Piece("", final=True, finish_reason=finish or "stop",
                     prompt_tokens=await self._prompt_tokens(usage, rendered),
                     completion_tokens=int(usage.get("completion_tokens") or tokens))

    async def _chat_stream(
        self, messages: list[ChatMessage], params: SamplingParams, opens_thinking: bool
    ) -> AsyncGenerator[Delta | GenerationResult, None]:
        """A chat completion as Deltas (tags split off where the server left them in the text)
        and, last, the GenerationResult."""
        splitter = ThinkSplitter(self.config.think_tags, thinking=opens_thinking)
        texts: dict[str, list[str]] = {"thinking": [], "answer": []}
        started = time.perf_counter()
        first_token_at: float | None = None
        end: _Piece | None = None
        guard = LoopGuard() if params.loop_guard else None
        pieces_seen = 0
        async with aclosing(self._chat_pieces(messages, params)) as pieces:
            async for piece in pieces:
                if piece.final:
                    end = piece
                    break
                if guard is not None and guard.feed(piece.text):
                    # closing the stream closes the response: the server stops generating
                    rendered = self.render_chat(messages) if self.template is not None else ""
                    end = _Piece("", final=True, finish_reason="loop",
                                 prompt_tokens=await self._prompt_tokens({}, rendered),
                                 completion_tokens=pieces_seen + 1)
                pieces_seen += 1
                first_token_at = first_token_at or time.perf_counter()
                if piece.channel == "thinking":  # the server parsed the thinking out
                    deltas = [Delta(piece.text, "thinking")]
                    splitter.thinking = False  # so its content is answer, tags or not
                else:
                    deltas = splitter.feed(piece.text)
                for delta in deltas:
                    texts[delta.channel].append(delta.text)
                    yield delta
                if end is not None:
                    break
        for delta in splitter.flush():
            texts[delta.channel].append(delta.text)
            yield delta
        assert end is not None, "_chat_pieces always ends with a final piece"
        now = time.perf_counter()
        answer = "".join(texts["answer"])
        yield GenerationResult(
            thinking="".join(texts["thinking"]),
            answer=cut_loop(answer) if end.finish_reason == "loop" else answer,
            prompt_tokens=end.prompt_tokens,
            completion_tokens=end.completion_tokens,
            finish_reason=end.finish_reason,
            time_to_first_token_s=(first_token_at or now) - started,
            elapsed_s=now - started,
        )

    def _chat_opens_thinking(self, messages: list[ChatMessage]) -> bool:
        """Whether the server's rendering of these messages leaves a think block open (known
        only where we have the template)."""
        if self.template is None:
            return False
        try:
            return prompt_opens_thinking(self.render_chat(messages), self.config.think_tags)
        except BackendError:
            return False

    async def _prompt_tokens(self, usage: Mapping[str, Any], prompt: str) -> int:
        """From the stream's usage where the server sent it, else from its tokenizer endpoint,
        else 0 (unknown)."""
        if usage.get("prompt_tokens") is not None:
            return int(usage["prompt_tokens"])
        if not prompt or self._caps is None or self._caps.tokenizer is None:
            return 0
        try:
            return await _count_tokens(self._http, self._caps.tokenizer, self._model, prompt)
        except BackendError:
            return 0


@dataclass(frozen=True, slots=True)
class _Piece:
    text: str
    channel: str = "answer"  # "thinking" only where the server said so (reasoning_content)
    final: bool = False
    finish_reason: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0


def _first_choice(event: Mapping[str, Any]) -> list[dict[str, Any]]:
    choices = event.get("choices")
    if choices is None:
        return []
    if not isinstance(choices, list):
        raise BackendError(f"malformed chunk from the server (choices is not a list): "
                           f"{str(event)[:200]}")
    return [c for c in choices if isinstance(c, dict) and c.get("index", 0) == 0]


def _pooled_embedding(answer: Any) -> list[float]:
    """One vector per text; per-token vectors (a server without pooling) are mean-pooled."""
    try:
        vector = answer["data"][0]["embedding"]
    except (KeyError, IndexError, TypeError) as exc:
        raise BackendError(f"malformed embeddings answer: {str(answer)[:200]}") from exc
    if vector and isinstance(vector[0], list):
        width = len(vector[0])
        return [sum(row[i] for row in vector) / len(vector) for i in range(width)]
    return [float(x) for x in vector]


# -- probing --------------------------------------------------------------------------------


async def _probe(
    http: HttpTransport, embed_http: HttpTransport, config: OpenAIConfig
) -> ServerCapabilities:
    """What the server can do. Only an unreachable server is an error; a missing capability is
    recorded with the reason."""
    notes: list[str] = []
    models: tuple[str, ...] = ()
    context_size: int | None = None
    try:
        listing = await http.request_json("GET", "models")
        entries = listing.get("data", []) if isinstance(listing, dict) else []
        models = tuple(str(m["id"]) for m in entries if isinstance(m, dict) and "id" in m)
        context_size = next((int(m["max_model_len"]) for m in entries
                             if isinstance(m, dict) and m.get("max_model_len")), None)
    except BackendError as exc:
        if "cannot connect" in str(exc) or "timed out" in str(exc):
            raise
        notes.append(f"models: {exc}")
    model = config.model or (models[0] if models else "")

    async def works(name: str, client: HttpTransport, path: str, body: dict[str, Any]) -> Any:
        try:
            return await client.request_json("POST", path, body, retry=False)
        except BackendError as exc:
            notes.append(f"{name}: {exc}")
            return None

    tiny = {"model": model, "max_tokens": 1, "temperature": 0.0}
    raw = await works("completions", http, "completions", {**tiny, "prompt": "Hi"})
    chat = await works("chat", http, "chat/completions",
                       {**tiny, "messages": [{"role": "user", "content": "Hi"}]})
    emb_body = {"model": config.embeddings_model or model, "input": "Hi",
                "encoding_format": "float"}
    emb = await works("embeddings", embed_http, "embeddings", emb_body)
    embedding_size = None
    if emb is not None:
        try:
            embedding_size = len(_pooled_embedding(emb))
        except BackendError as exc:
            notes.append(f"embeddings: {exc}")
            emb = None

    parallel_n = False
    if raw is not None or chat is not None:
        path, extra = (("completions", {"prompt": "Hi"}) if raw is not None else
                       ("chat/completions", {"messages": [{"role": "user", "content": "Hi"}]}))
        many = await works("n>1", http, path, {**tiny, **extra, "n": 2, "temperature": 1.0})
        parallel_n = isinstance(many, dict) and len(many.get("choices") or []) >= 2
        if many is not None and not parallel_n:
            notes.append("n>1: the server answered one choice for n=2")
    else:
        raise BackendError(f"{http.base_url} answers neither /completions nor /chat/completions: "
                           + "; ".join(notes))

    props = await _llama_server_props(http)
    template = props.get("chat_template") or None
    context_size = context_size or _props_context(props)
    tokenizer = await _find_tokenizer(http, model)
    return ServerCapabilities(
        models=models, completions=raw is not None, chat=chat is not None,
        embeddings=emb is not None, embedding_size=embedding_size, parallel_n=parallel_n,
        chat_template=template, context_size=context_size, tokenizer=tokenizer,
        notes=tuple(notes))


async def _llama_server_props(http: HttpTransport) -> dict[str, Any]:
    """llama-server's GET /props (chat template, context size); {} elsewhere."""
    try:
        props = await http.request_json("GET", "/props", retry=False)
    except BackendError:
        return {}
    return props if isinstance(props, dict) else {}


def _props_context(props: Mapping[str, Any]) -> int | None:
    settings = props.get("default_generation_settings")
    if isinstance(settings, dict) and settings.get("n_ctx"):
        return int(settings["n_ctx"])
    return None


async def _find_tokenizer(http: HttpTransport, model: str) -> str | None:
    for kind in ("llama-cpp-python", "llama-server"):
        try:
            await _count_tokens(http, kind, model, "Hi")
        except BackendError:
            continue
        return kind
    return None


async def _count_tokens(http: HttpTransport, kind: str, model: str, text: str) -> int:
    if kind == "llama-cpp-python":
        answer = await http.request_json("POST", "/extras/tokenize/count",
                                         {"model": model, "input": text}, retry=False)
        count = answer.get("count") if isinstance(answer, dict) else None
    else:  # llama-server and vLLM: POST /tokenize -> {"tokens": [...]}
        answer = await http.request_json("POST", "/tokenize",
                                         {"model": model, "content": text, "prompt": text},
                                         retry=False)
        tokens = answer.get("tokens") if isinstance(answer, dict) else None
        count = len(tokens) if isinstance(tokens, list) else None
    if not isinstance(count, int):
        raise BackendError(f"unexpected tokenizer answer: {str(answer)[:200]}")
    return count


async def probe_server(base_url: str, api_key: str | None = None) -> dict[str, Any]:
    """What an OpenAI-compatible server can do, for `atlas-tui doctor --base-url`.

    Never raises for a server problem: {"ok": False, "error": ..., "hint": ...} says what failed.
    """
    try:
        backend = OpenAIBackend(base_url=base_url, api_key=api_key,
                                retry=RetryPolicy(max_attempts=2, max_total_s=10.0))
    except BackendError as exc:
        return {"ok": False, "base_url": base_url, "error": str(exc),
                "hint": "give the server's URL, e.g. http://127.0.0.1:8080/v1"}
    try:
        caps = await backend.probe()
    except BackendError as exc:
        return {"ok": False, "base_url": backend.config.base_url, "error": str(exc),
                "hint": "start the server (llama-server -m MODEL.gguf, vllm serve MODEL, "
                        "python -m llama_cpp.server --model MODEL.gguf) or fix the URL/key"}
    finally:
        await backend.close()
    report = asdict(caps)
    report.update(ok=True, base_url=backend.config.base_url, model=backend.info.model,
                  capabilities=list(caps.names()), models=list(caps.models),
                  notes=list(caps.notes), chat_template=caps.chat_template is not None)
    return report
