"""A small OpenAI-compatible HTTP server on loopback that misbehaves on demand.

It speaks just enough HTTP/1.1 (one request per connection, chunked streams) for httpx, and
answers each POST with the next planned `Reply` for its path, or a healthy default when nothing is
planned (so a backend's connect-time probe passes). Replies can fail with a status (and
Retry-After), stream some events and then stall, drop the connection, or send malformed chunks.
It records every request, the most requests it had in flight at once, and client disconnects
(how a test sees that closing a stream closed the HTTP response).

    async with FaultServer() as server:
        server.plan("/v1/completions", Reply(status=503), Reply.stream(["Hi"]))
        backend = await OpenAIBackend.connect(base_url=server.url, ...)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any, Literal

After = Literal["done", "eof", "drop", "stall"]

MODEL_ID = "fault-model"


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # a JSON answer (non-streamed), or the error body for status >= 400
    events: list[str] = field(default_factory=list)  # SSE data payloads, sent as given
    after: After = "done"  # after the events: [DONE]; EOF without [DONE]; drop; stall
    headers: dict[str, str] = field(default_factory=dict)
    event_delay_s: float = 0.0
    hold: asyncio.Event | None = None  # wait for this before answering (concurrency tests)
    streamed: bool | None = None  # None: as the request asked

    @classmethod
    def stream(cls, texts: list[str], *, chat: bool = False, finish: str | None = "stop",
               usage: dict[str, int] | None = None, **kwargs: Any) -> Reply:
        """A stream of `texts`, one chunk each, then a finish chunk (None: no finish chunk,
        as a stream cut short has none)."""
        events = [json.dumps(_chunk(text, None, chat)) for text in texts]
        if finish is not None:
            events.append(json.dumps(_chunk("", finish, chat)))
        if usage is not None:
            events.append(json.dumps({"choices": [], "usage": usage}))
        return cls(events=events, **kwargs)

    @classmethod
    def error(cls, status: int, message: str, **kwargs: Any) -> Reply:
        return cls(status=status, body={"error": {"message": message, "type": "test"}},
                   **kwargs)


def _chunk(text: str, finish: str | None, chat: bool) -> dict[str, Any]:
    if chat:
        delta = {"content": text} if text or finish is None else {}
        return {"object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return {"object": "text_completion",
            "choices": [{"index": 0, "text": text, "finish_reason": finish}]}


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


def refused_url() -> str:
    """A loopback URL where nothing listens: connections are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


class FaultServer:
    def __init__(self, *, embedding: list[Any] | None = None, parallel_n: bool = False) -> None:
        self.requests: list[Request] = []
        self.disconnects = 0
        self.disconnected = asyncio.Event()
        self.active = 0
        self.max_active = 0
        self._plans: dict[str, deque[Reply]] = defaultdict(deque)
        self._embedding = embedding if embedding is not None else [0.5, -0.5, 1.0]
        self._parallel_n = parallel_n
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._holds: set[asyncio.Event] = set()
        self.url = ""

    async def __aenter__(self) -> FaultServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/v1"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):  # ends handlers still stalling or holding
            writer.transport.abort()
        for reply_hold in self._holds:
            reply_hold.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    def plan(self, path: str, *replies: Reply) -> None:
        self._plans[path].extend(replies)

    def posts(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.method == "POST" and r.path == path]

    # -- HTTP ---------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            request = await _read_request(reader)
            if request is None:
                return
            self.requests.append(request)
            await self._answer(request, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            self._saw_disconnect()
        finally:
            self.active -= 1
            self._tasks.discard(task)
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _saw_disconnect(self) -> None:
        self.disconnects += 1
        self.disconnected.set()

    async def _answer(self, request: Request, reader: asyncio.StreamReader,
                      writer: asyncio.StreamWriter) -> None:
        reply = self._reply_for(request)
        if reply.hold is not None:
            self._holds.add(reply.hold)
            await reply.hold.wait()
        wants_stream = isinstance(request.body, dict) and bool(request.body.get("stream"))
        streamed = reply.streamed if reply.streamed is not None else wants_stream
        if reply.status >= 400 or not streamed:
            body = json.dumps(reply.body if reply.body is not None else {}).encode()
            head = _head(reply.status, {"Content-Type": "application/json",
                                        "Content-Length": str(len(body)), **reply.headers})
            writer.write(head + body)
            await writer.drain()
            return
        writer.write(_head(200, {"Content-Type": "text/event-stream",
                                 "Transfer-Encoding": "chunked", **reply.headers}))
        for payload in reply.events:
            if reply.event_delay_s:
                await asyncio.sleep(reply.event_delay_s)
            writer.write(_http_chunk(f"data: {payload}\n\n"))
            await writer.drain()
        if reply.after == "done":
            writer.write(_http_chunk("data: [DONE]\n\n") + b"0\r\n\r\n")
            await writer.drain()
        elif reply.after == "eof":
            writer.write(b"0\r\n\r\n")  # a clean end of the body, without [DONE]
            await writer.drain()
        elif reply.after == "drop":
            writer.transport.abort()  # the connection dies mid-body
        else:  # stall: say nothing more until the client gives up and disconnects
            await reader.read()
            self._saw_disconnect()

    def _reply_for(self, request: Request) -> Reply:
        if request.method == "GET" and request.path == "/v1/models":
            return Reply(body={"object": "list", "data": [{"id": MODEL_ID, "object": "model"}]})
        planned = self._plans.get(request.path)
        if planned:
            return planned.popleft()
        body = request.body if isinstance(request.body, dict) else {}
        count = int(body.get("n") or 1) if self._parallel_n else 1
        if request.path == "/v1/completions":
            if body.get("stream"):
                return Reply.stream(["Hello", " world"])
            choices = [{"index": i, "text": "Hi", "finish_reason": "length"} for i in range(count)]
            return Reply(body={"choices": choices})
        if request.path == "/v1/chat/completions":
            if body.get("stream"):
                return Reply.stream(["Hello", " world"], chat=True)
            choices = [{"index": i, "message": {"role": "assistant", "content": "Hi"},
                        "finish_reason": "length"} for i in range(count)]
            return Reply(body={"choices": choices})
        if request.path == "/v1/embeddings":
            return Reply(body={"data": [{"index": 0, "embedding": self._embedding}]})
        return Reply.error(404, f"no route {request.path}")


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    line = await reader.readline()
    if not line:
        return None
    method, path, _ = line.decode("latin-1").split(" ", 2)
    headers: dict[str, str] = {}
    while (header := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = header.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    raw = await reader.readexactly(length) if length else b""
    body = json.loads(raw) if raw else None
    return Request(method, path, headers, body)


def _head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _http_chunk(text: str) -> bytes:
    data = text.encode()
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
            429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}
