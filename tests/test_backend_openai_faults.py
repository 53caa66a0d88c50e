"""OpenAIBackend against a loopback server that misbehaves: retries, then a clear error; no hang.

Every test runs a real HTTP exchange over a real socket (tests/support/fault_server.py). Retry
delays are shortened so the suite is quick; pytest-timeout guards against a hang.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import aclosing

import pytest
from support.fault_server import MODEL_ID, FaultServer, Reply, refused_url

from engine.llm.base import (
    BackendError,
    ChatMessage,
    Delta,
    GenerationResult,
    SamplingParams,
    ThinkingBudget,
)
from engine.llm.openai_backend import OpenAIBackend, probe_server
from engine.llm.openai_http import RetryPolicy, Timeouts, normalize_base_url
from engine.llm.openai_template import choose_template

FAST_RETRY = RetryPolicy(max_attempts=3, base_delay_s=0.01, max_delay_s=0.05, max_total_s=5.0)
PARAMS = SamplingParams(max_tokens=16, seed=7)
COMPLETIONS = "/v1/completions"
CHAT = "/v1/chat/completions"


async def connect(server: FaultServer, **overrides: object) -> OpenAIBackend:
    settings: dict[str, object] = {"retry": FAST_RETRY,
                                   "timeouts": Timeouts(connect_s=2.0, read_s=5.0, stall_s=0.3)}
    settings.update(overrides)
    return await OpenAIBackend.connect(base_url=server.url, **settings)


@pytest.fixture
async def server():
    async with FaultServer() as running:
        yield running


async def test_healthy_stream_gives_deltas_then_a_result(server: FaultServer) -> None:
    async with await connect(server) as backend:
        items = [item async for item in backend.stream("Say hi", PARAMS)]
    assert [d.text for d in items if isinstance(d, Delta)] == ["Hello", " world"]
    result = items[-1]
    assert isinstance(result, GenerationResult)
    assert result.answer == "Hello world" and result.finish_reason == "stop"
    assert result.completion_tokens == 2


async def test_sampling_knobs_stop_strings_and_bias_reach_the_server(server: FaultServer) -> None:
    params = SamplingParams(temperature=0.3, top_p=0.8, top_k=5, min_p=0.1, max_tokens=9,
                            seed=42, stop=("\n\n", "END"), logit_bias=((6, -100.0),))
    async with await connect(server) as backend:
        await backend.generate("p", params)
    body = server.posts(COMPLETIONS)[-1].body
    assert body["prompt"] == "p" and body["stream"] is True and body["model"] == MODEL_ID
    assert (body["temperature"], body["top_p"], body["top_k"], body["min_p"]) == (0.3, 0.8, 5, 0.1)
    assert (body["max_tokens"], body["seed"], body["stop"]) == (9, 42, ["\n\n", "END"])
    assert body["logit_bias"] == {"6": -100.0}


async def test_prompt_tokens_come_from_the_streams_usage(server: FaultServer) -> None:
    async with await connect(server) as backend:
        server.plan(COMPLETIONS, Reply.stream(["a", "b"], usage={"prompt_tokens": 11,
                                                                 "completion_tokens": 5}))
        result = await backend.generate("p", PARAMS)
    assert result.prompt_tokens == 11


async def test_refused_connection_is_retried_then_a_clear_error() -> None:
    url = refused_url()
    with pytest.raises(BackendError) as failure:
        await OpenAIBackend.connect(base_url=url, retry=FAST_RETRY)
    message = str(failure.value)
    assert "cannot connect" in message and url in message
    assert "gave up after 3 attempts" in message


async def test_probe_server_reports_an_unreachable_server_without_raising() -> None:
    report = await probe_server(refused_url())
    assert report["ok"] is False
    assert "cannot connect" in report["error"] and "start the server" in report["hint"]


async def test_500s_are_retried_until_the_server_recovers(server: FaultServer) -> None:
    async with await connect(server) as backend:
        server.plan(COMPLETIONS, Reply.error(500, "boom"), Reply.error(502, "boom"),
                    Reply.stream(["ok"]))
        result = await backend.generate("p", PARAMS)
    assert result.answer == "ok"
    assert len(server.posts(COMPLETIONS)) == 3 + 2  # probe: raw completion and n>1


async def test_a_server_that_keeps_failing_gives_its_message_after_bounded_attempts(
    server: FaultServer,
) -> None:
    async with await connect(server) as backend:
        before = len(server.posts(COMPLETIONS))
        server.plan(COMPLETIONS, *[Reply.error(503, "model is loading")] * 5)
        with pytest.raises(BackendError) as failure:
            await backend.generate("p", PARAMS)
    assert "HTTP 503" in str(failure.value) and "model is loading" in str(failure.value)
    assert "gave up after 3 attempts" in str(failure.value)
    assert len(server.posts(COMPLETIONS)) - before == FAST_RETRY.max_attempts


async def test_429_waits_as_retry_after_says(server: FaultServer) -> None:
    async with await connect(server) as backend:
        server.plan(COMPLETIONS, Reply.error(429, "slow down", headers={"Retry-After": "0"}),
                    Reply.stream(["fine"]))
        result = await backend.generate("p", PARAMS)
    assert result.answer == "fine"


async def test_429_asking_for_a_wait_past_the_retry_limit_fails_at_once(
    server: FaultServer,
) -> None:
    async with await connect(server) as backend:
        before = len(server.posts(COMPLETIONS))
        server.plan(COMPLETIONS, Reply.error(429, "quota", headers={"Retry-After": "3600"}))
        with pytest.raises(BackendError) as failure:
            await backend.generate("p", PARAMS)
    message = str(failure.value)
    assert "HTTP 429" in message and "quota" in message and "3600s" in message
    assert len(server.posts(COMPLETIONS)) - before == 1


@pytest.mark.parametrize(("status", "hint"), [(400, "prompt is too long"),
                                              (401, "API key"), (404, "base URL")])
async def test_client_errors_are_not_retried_and_say_what_to_try(
    server: FaultServer, status: int, hint: str
) -> None:
    async with await connect(server) as backend:
        before = len(server.posts(COMPLETIONS))
        server.plan(COMPLETIONS, Reply.error(status, "prompt is too long"))
        with pytest.raises(BackendError) as failure:
            await backend.generate("p", PARAMS)
    assert f"HTTP {status}" in str(failure.value) and hint in str(failure.value)
    assert "prompt is too long" in str(failure.value)
    assert len(server.posts(COMPLETIONS)) - before == 1


async def test_a_stream_that_never_starts_is_retried_then_reported(server: FaultServer) -> None:
    async with await connect(server) as backend:
        before = len(server.posts(COMPLETIONS))
        # Headers, then silence.
        server.plan(COMPLETIONS, *[Reply(events=[], after="stall", streamed=True)] * 3)
        with pytest.raises(BackendError) as failure:
            await backend.generate("p", PARAMS)
    assert "no data from the server for 0.3s" in str(failure.value)
    assert len(server.posts(COMPLETIONS)) - before == FAST_RETRY.max_attempts


async def test_a_raw_stream_that_stalls_midway_resumes_from_its_text(server: FaultServer) -> None:
    async with await connect(server) as backend:
        server.plan(COMPLETIONS, Reply.stream(["one", " two"], finish=None, after="stall"),
                    Reply.stream([" three"]))
        result = await backend.generate("count:", PARAMS)
    assert result.answer == "one two three"
    resumed = server.posts(COMPLETIONS)[-1].body
    assert resumed["prompt"] == "count:one two"
    assert resumed["max_tokens"] == PARAMS.max_tokens - 2


async def test_a_raw_stream_dropped_midway_resumes_then_gives_up(server: FaultServer) -> None:
    async with await connect(server) as backend:
        server.plan(COMPLETIONS, Reply.stream(["a"], finish=None, after="drop"),
                    Reply.stream(["b"]))
        assert (await backend.generate("p", PARAMS)).answer == "ab"
        server.plan(COMPLETIONS, *[Reply(events=[json.dumps(
            {"choices": [{"index": 0, "text": "x", "finish_reason": None}]})], after="drop")] * 3)
        with pytest.raises(BackendError) as failure:
            await backend.generate("p", PARAMS)
    assert "mid-stream" in str(failure.value)


async def test_a_stream_ending_without_done_after_finishing_is_fine(server: FaultServer) -> None:
    async with await connect(server) as backend:
        server.plan(COMPLETIONS, Reply.stream(["done"], after="eof"))
        result = await backend.generate("p", PARAMS)
    assert result.answer == "done" and result.finish_reason == "stop"


async def test_a_chat_stream_dropped_after_text_is_an_error_not_a_duplicate(
    server: FaultServer,
) -> None:
    chat_events = Reply.stream(["partial"], chat=True).events[:1]
    async with await connect(server) as backend:
        before = len(server.posts(CHAT))
        server.plan(CHAT, Reply(events=chat_events, after="drop"))
        with pytest.raises(BackendError) as failure:
            await backend.generate([ChatMessage("user", "hi")], PARAMS)
    assert "mid-stream" in str(failure.value)
    assert len(server.posts(CHAT)) - before == 1


async def test_malformed_chunks_are_a_clear_error_without_retry(server: FaultServer) -> None:
    async with await connect(server) as backend:
        before = len(server.posts(COMPLETIONS))
        server.plan(COMPLETIONS, Reply(events=['{"choices": [{"text": "a"', "{}"]))
        with pytest.raises(BackendError) as failure:
            await backend.generate("p", PARAMS)
    assert "malformed chunk" in str(failure.value)
    assert len(server.posts(COMPLETIONS)) - before == 1


async def test_an_error_event_mid_stream_shows_the_servers_message(server: FaultServer) -> None:
    async with await connect(server) as backend:
        ok = Reply.stream(["a"]).events[0]
        server.plan(COMPLETIONS, Reply(events=[ok, json.dumps(
            {"error": {"message": "context length exceeded"}})]))
        with pytest.raises(BackendError) as failure:
            await backend.generate("p", PARAMS)
    assert "context length exceeded" in str(failure.value)


async def test_closing_the_stream_closes_the_http_response(server: FaultServer) -> None:
    async with await connect(server) as backend:
        server.plan(COMPLETIONS, Reply.stream(["a", "b", "c"], finish=None, after="stall"))
        async with aclosing(backend.stream("p", PARAMS)) as items:
            async for item in items:
                assert isinstance(item, Delta)
                break
        # The server learns at once, not when the stall timeout passes (0.3s) or at GC.
        await asyncio.wait_for(server.disconnected.wait(), timeout=10)
        assert server.disconnects == 1


async def test_cancelling_the_consumer_closes_the_http_response(server: FaultServer) -> None:
    first = asyncio.Event()

    async def consume(backend: OpenAIBackend) -> None:
        async for item in backend.stream("p", PARAMS):
            first.set()
            assert not isinstance(item, GenerationResult)

    async with await connect(server, timeouts=Timeouts(stall_s=60.0)) as backend:
        server.plan(COMPLETIONS, Reply.stream(["a", "b"], finish=None, after="stall"))
        task = asyncio.create_task(consume(backend))
        await asyncio.wait_for(first.wait(), timeout=10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.wait_for(server.disconnected.wait(), timeout=10)


async def test_requests_in_flight_are_bounded(server: FaultServer) -> None:
    release = asyncio.Event()
    async with await connect(server, max_concurrency=2) as backend:
        server.plan(COMPLETIONS, *[Reply.stream(["x"], hold=release) for _ in range(5)])
        server.max_active = 0
        tasks = [asyncio.create_task(backend.generate("p", PARAMS)) for _ in range(5)]
        while server.active < 2:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)  # give a third request the chance to (wrongly) get in
        assert server.active == 2
        release.set()
        results = await asyncio.gather(*tasks)
    assert [r.answer for r in results] == ["x"] * 5
    assert server.max_active == 2


async def test_reasoning_content_and_inline_tags_are_thinking(server: FaultServer) -> None:
    reasoning = json.dumps({"choices": [{"index": 0, "delta": {"reasoning_content": "hmm"},
                                         "finish_reason": None}]})
    async with await connect(server) as backend:
        server.plan(CHAT, Reply(events=[reasoning, *Reply.stream(["ans"], chat=True).events]))
        parsed = await backend.generate([ChatMessage("user", "q")], PARAMS)
        server.plan(CHAT, Reply.stream(["<thi", "nk>plan</th", "ink>\n", "code"], chat=True))
        inline = await backend.generate([ChatMessage("user", "q")], PARAMS)
    assert (parsed.thinking, parsed.answer) == ("hmm", "ans")
    assert (inline.thinking, inline.answer) == ("plan", "\ncode")


async def test_environment_variables_are_the_defaults(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = server.url.removesuffix("/v1")
    monkeypatch.setenv("OPENAI_BASE_URL", root)  # no /v1: it is added
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-123")
    async with await OpenAIBackend.connect(retry=FAST_RETRY) as backend:
        assert backend.info.device == server.url
        await backend.generate("p", PARAMS)
    assert server.requests[-1].headers["authorization"] == "Bearer sk-test-123"


async def test_no_url_at_all_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(BackendError, match="OPENAI_BASE_URL"):
        OpenAIBackend()


async def test_probe_reports_what_the_server_can_do() -> None:
    async with FaultServer(parallel_n=True, embedding=[[1.0, 2.0], [3.0, 4.0]]) as server:
        report = await probe_server(server.url)
        async with await connect(server) as backend:
            vector = await backend.embed("text")
    assert report["ok"] is True and report["model"] == MODEL_ID
    assert report["capabilities"] == ["completions", "chat", "embeddings", "n>1"]
    assert report["embedding_size"] == 2
    assert vector == [2.0, 3.0]  # per-token vectors are mean-pooled


async def test_embeddings_may_come_from_another_server(server: FaultServer) -> None:
    async with FaultServer(embedding=[0.25, 0.75]) as embedder:
        server.plan("/v1/embeddings", Reply.error(500, "no embeddings here"))
        async with await connect(server, embeddings_base_url=embedder.url,
                                 embeddings_model="embed-model") as backend:
            assert backend.info.embedding_size == 2
            assert await backend.embed("text") == [0.25, 0.75]
    assert embedder.posts("/v1/embeddings")[-1].body["model"] == "embed-model"
    assert server.posts("/v1/embeddings") == []


async def test_a_server_without_embeddings_says_how_to_turn_them_on(server: FaultServer) -> None:
    server.plan("/v1/embeddings", Reply.error(500, "Llama model must be created with "
                                                   "embedding=True to call this method"))
    async with await connect(server) as backend:
        assert "embeddings" not in backend.info.capabilities
        with pytest.raises(BackendError, match="--embedding"):
            await backend.embed("text")


async def test_template_variables_reach_both_the_renderer_and_the_server(
    server: FaultServer,
) -> None:
    template = ("{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}"
                "{% if add_generation_prompt %}[assistant]{% if not thinking %}<think></think>"
                "{% endif %}{% endif %}")
    async with await connect(server, chat_template=template,
                             template_variables={"thinking": False}) as backend:
        assert backend.template_origin == "configured"
        rendered = backend.render_chat([ChatMessage("user", "q")])
        assert rendered == "[user]q[assistant]<think></think>"
        await backend.generate([ChatMessage("user", "q")], PARAMS)
    assert server.posts(CHAT)[-1].body["chat_template_kwargs"] == {"thinking": False}


def test_template_sources_in_order() -> None:
    served = "{{ messages[0].content }}"
    known = choose_template(configured="chatml", served=served, model_id="x")
    assert known is not None and known.origin == "known:chatml"
    from_server = choose_template(configured=None, served=served, model_id="x")
    assert from_server is not None and from_server.origin == "server"
    guessed = choose_template(configured=None, served=None, model_id="Qwen/Qwen3-14B")
    assert guessed is not None and guessed.origin == "guessed:chatml"
    assert choose_template(configured=None, served=None, model_id="deepseek-r1-qwen") is None
    with pytest.raises(BackendError, match="does not parse"):
        choose_template(configured="{% for %}", served=None, model_id="x")


@pytest.mark.parametrize(("typed", "normalized"), [
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080/v1"),
    ("127.0.0.1:8080/", "http://127.0.0.1:8080/v1"),
    ("https://host/api/v1/", "https://host/api/v1"),
])
def test_base_urls_are_normalized_as_people_type_them(typed: str, normalized: str) -> None:
    assert normalize_base_url(typed) == normalized


async def test_a_budget_without_a_template_says_so_once(
    server: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    budget = ThinkingBudget(min_tokens=0, max_tokens=4)
    async with await connect(server) as backend:
        assert backend.template is None  # "fault-model": nothing configured, served or known
        await backend.generate([ChatMessage("user", "q")], PARAMS, budget=budget)
        result = await backend.generate([ChatMessage("user", "q")], PARAMS, budget=budget)
    assert result.answer == "Hello world"
    assert len(server.posts(CHAT)) == 1 + 2  # the probe, then both calls through chat
    warnings = [r for r in caplog.records if "budgets are not enforced" in r.getMessage()]
    assert len(warnings) == 1


async def test_messages_go_raw_through_the_template_when_the_server_has_no_chat(
    server: FaultServer,
) -> None:
    server.plan(CHAT, Reply.error(404, "no chat here"))  # the probe's chat request
    async with await connect(server, chat_template="chatml") as backend:
        assert "chat" not in backend.info.capabilities
        result = await backend.generate([ChatMessage("user", "q")], PARAMS)
    assert result.answer == "Hello world"
    sent = server.posts(COMPLETIONS)[-1].body["prompt"]
    assert sent == "<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n"


async def test_a_server_that_ignores_stream_true_still_works(server: FaultServer) -> None:
    whole_raw = {"choices": [{"index": 0, "text": "<think>a</think>b", "finish_reason": "stop"}],
                 "usage": {"prompt_tokens": 3, "completion_tokens": 4}}
    whole_chat = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "c"},
                               "finish_reason": "length"}]}
    async with await connect(server) as backend:
        server.plan(COMPLETIONS, Reply(body=whole_raw, streamed=False))
        server.plan(CHAT, Reply(body=whole_chat, streamed=False))
        raw = await backend.generate("p", PARAMS)
        chat = await backend.generate([ChatMessage("user", "q")], PARAMS)
    assert (raw.thinking, raw.answer, raw.prompt_tokens) == ("a", "b", 3)
    assert (chat.answer, chat.finish_reason) == ("c", "length")


async def test_a_non_streamed_answer_that_never_comes_times_out(server: FaultServer) -> None:
    never = asyncio.Event()
    async with await connect(server, timeouts=Timeouts(read_s=0.3)) as backend:
        server.plan("/v1/embeddings", *[Reply(body={}, hold=never)] * 3)
        with pytest.raises(BackendError) as failure:
            await backend.embed("text")
    assert "timed out" in str(failure.value) and "gave up after 3 attempts" in str(failure.value)
    assert len(server.posts("/v1/embeddings")) == 1 + 3  # the probe, then three attempts


async def test_parsed_reasoning_after_a_template_opened_think_block(server: FaultServer) -> None:
    """DeepSeek-R1 style: the template opens <think>; vLLM's reasoning parser strips the close
    tag and sends the thinking as reasoning_content, so the content is all answer."""
    opens = "{% for m in messages %}{{ m.content }}{% endfor %}<think>\n"
    reasoning = json.dumps({"choices": [{"index": 0, "delta": {"reasoning_content": "r"},
                                         "finish_reason": None}]})
    async with await connect(server, chat_template=opens) as backend:
        server.plan(CHAT, Reply(events=[reasoning, *Reply.stream(["ans"], chat=True).events]))
        parsed = await backend.generate([ChatMessage("user", "q")], PARAMS)
        server.plan(CHAT, Reply.stream(["plan", "</think>", "ans"], chat=True))
        inline = await backend.generate([ChatMessage("user", "q")], PARAMS)
    assert (parsed.thinking, parsed.answer) == ("r", "ans")
    assert (inline.thinking, inline.answer) == ("plan", "ans")
