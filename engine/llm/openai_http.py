"""HTTP for OpenAI-compatible servers: bounded concurrency, retries with backoff, timeouts,
server-sent events with a stall timeout, and errors that say what happened and what to try.

Retried: connection failures, timeouts, HTTP 408/429/5xx, a stream that stalls or drops before
its first event. Not retried: other 4xx (the request is wrong; the server's message is shown),
malformed JSON (the server is not speaking the protocol). A stream that drops after data arrived
raises `StreamDropped`, so the caller can decide whether it can resume (raw completions can).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from engine.llm.base import BackendError

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})

# httpx's transport failures that a later attempt may not meet (server restarting, overloaded).
TRANSIENT_ERRORS = (httpx.TransportError,)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff, bounded both in attempts and in total time spent retrying."""

    max_attempts: int = 4  # the first try included
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    max_total_s: float = 60.0

    def backoff(self, retry_number: int) -> float:
        return min(self.max_delay_s, self.base_delay_s * 2**retry_number)


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect_s: float = 10.0
    read_s: float = 600.0  # a whole non-streamed answer (probe, embeddings)
    stall_s: float = 300.0  # the longest silence in a stream (prompt processing included)


class ServerError(BackendError):
    """The server answered with an error status."""

    def __init__(self, message: str, status: int, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after_s = retry_after_s


class StreamDropped(BackendError):
    """A stream ended early (connection lost, stalled, or no [DONE]) after data had arrived."""


class _Retryable(Exception):
    """Internal: this attempt failed in a way another attempt may not."""

    def __init__(self, error: BackendError, retry_after_s: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after_s = retry_after_s


def normalize_base_url(url: str) -> str:
    """"http://host:8080" or "host:8080" -> "http://host:8080/v1"; a URL with a path is kept
    as given (some servers serve the API elsewhere, e.g. /api/v1)."""
    url = url.strip().rstrip("/")
    if "://" not in url:
        url = "http://" + url  # "127.0.0.1:8080", as people type it
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        raise BackendError(f"not a server URL: {url!r} (expected e.g. http://127.0.0.1:8080/v1)")
    return url if parts.path not in ("", "/") else url + "/v1"


def server_root(base_url: str) -> str:
    """scheme://host:port, where llama-server and friends keep /props, /tokenize, /health."""
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}"


def server_message(response: httpx.Response) -> str:
    """The human part of an error body, whatever shape the server uses."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:500] or response.reason_phrase
    return _message_in(body) or json.dumps(body)[:500]


def _message_in(body: Any) -> str:
    if isinstance(body, str):
        return body
    if isinstance(body, dict):
        for key in ("error", "detail", "message"):
            if key in body:
                return _message_in(body[key])
    if isinstance(body, list) and body:
        return "; ".join(_message_in(item) for item in body[:3])
    return ""


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


_HINTS = {
    401: "check the API key (OPENAI_API_KEY or --api-key)",
    403: "check the API key (OPENAI_API_KEY or --api-key)",
    404: "check the base URL (it usually ends in /v1) and the model name",
}


class HttpTransport:
    """One server: an httpx client, a semaphore bounding requests in flight, retries."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        timeouts: Timeouts,
        retry: RetryPolicy,
        max_concurrency: int,
    ) -> None:
        self.base_url = normalize_base_url(base_url)
        self.root = server_root(self.base_url)
        self.timeouts = timeouts
        self.retry = retry
        self._slots = asyncio.Semaphore(max_concurrency)
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(
            headers=headers,
            timeout=httpx.Timeout(timeouts.read_s, connect=timeouts.connect_s),
            limits=httpx.Limits(max_connections=max_concurrency + 2),
        )

    def url(self, path: str) -> str:
        """`path` under the base URL; an absolute path ("/props") is under the server root."""
        if path.startswith("/"):
            return self.root + path
        return f"{self.base_url}/{path}"

    async def aclose(self) -> None:
        await self._client.aclose()

    async def request_json(
        self, method: str, path: str, body: dict[str, Any] | None = None, *, retry: bool = True
    ) -> Any:
        """One JSON request, retried on transient failures; the parsed JSON answer."""
        url = self.url(path)

        async def attempt() -> Any:
            async with self._slots:
                try:
                    response = await self._client.request(method, url, json=body)
                except TRANSIENT_ERRORS as exc:
                    raise _Retryable(self._transport_error(method, url, exc)) from exc
                if response.status_code >= 400:
                    self._raise_for(method, url, response)
                try:
                    return response.json()
                except ValueError as exc:
                    raise BackendError(
                        f"{method} {url}: the answer is not JSON: {response.text[:200]!r}"
                    ) from exc

        if not retry:
            try:
                return await attempt()
            except _Retryable as failed:
                raise failed.error from failed
        return await self._with_retries(attempt)

    async def stream_events(self, path: str, body: dict[str, Any]
                            ) -> AsyncGenerator[dict[str, Any], None]:
        """POST with stream=true and yield each server-sent event's JSON.

        Failures before the first event are retried like any request. After it, a drop or a
        stall raises StreamDropped. Closing this generator closes the HTTP response at once,
        which is how a server learns to stop generating.
        """
        url = self.url(path)
        started = time.monotonic()
        for attempt_number in range(self.retry.max_attempts):
            got_event = False
            try:
                async with self._slots:
                    try:
                        async with self._client.stream("POST", url, json=body) as response:
                            if response.status_code >= 400:
                                await response.aread()  # the error body, to show its message
                                self._raise_for("POST", url, response)
                            if _is_json(response):  # the server ignored stream=true
                                yield await self._whole_answer_as_event(response, url)
                                return
                            async for event in self._events(response, url):
                                got_event = True
                                yield event
                            return
                    except TRANSIENT_ERRORS as exc:
                        error = self._transport_error("POST", url, exc)
                        if got_event:
                            raise StreamDropped(f"{error} (mid-stream)") from exc
                        raise _Retryable(error) from exc
            except _Retryable as failed:
                delay = self._next_delay(failed, attempt_number, started)
                if delay is None:
                    raise failed.error from failed
                await asyncio.sleep(delay)
        raise AssertionError("unreachable: the last attempt raises")  # pragma: no cover

    async def _events(self, response: httpx.Response, url: str
                      ) -> AsyncGenerator[dict[str, Any], None]:
        """Server-sent events (data lines up to a blank line), with a stall timeout per line."""
        lines = response.aiter_lines()
        data: list[str] = []
        event_type = ""
        got_event = False
        while True:
            try:
                async with asyncio.timeout(self.timeouts.stall_s):
                    line = await anext(lines)
            except StopAsyncIteration:
                break
            except TimeoutError as exc:
                message = f"POST {url}: no data from the server for {self.timeouts.stall_s:g}s"
                if got_event:
                    raise StreamDropped(message + " (stalled mid-stream)") from exc
                raise _Retryable(BackendError(message)) from exc
            if line.startswith(":"):  # a comment: keep-alive pings
                continue
            if line:
                field, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if field == "data":
                    data.append(value)
                elif field == "event":
                    event_type = value
                continue
            if not data:
                continue
            payload, data = "\n".join(data), []
            if payload.strip() == "[DONE]":
                return
            got_event = True
            yield self._parse_event(payload, event_type, url)
            event_type = ""
        if data:  # the last event had no blank line after it
            payload = "\n".join(data)
            if payload.strip() == "[DONE]":
                return
            yield self._parse_event(payload, event_type, url)
            got_event = True
        message = f"POST {url}: the stream ended without [DONE]"
        if got_event:
            raise StreamDropped(message)
        raise _Retryable(BackendError(message))

    async def _whole_answer_as_event(self, response: httpx.Response, url: str) -> dict[str, Any]:
        """A non-streamed answer, shaped like one streamed chunk (chat `message` as `delta`)."""
        async with asyncio.timeout(self.timeouts.read_s):
            payload = (await response.aread()).decode("utf-8", "replace")
        event = self._parse_event(payload, "", url)
        for choice in event.get("choices") or []:
            if isinstance(choice, dict) and "message" in choice and "delta" not in choice:
                choice["delta"] = choice.pop("message")
        return event

    @staticmethod
    def _parse_event(payload: str, event_type: str, url: str) -> dict[str, Any]:
        try:
            event = json.loads(payload)
        except ValueError as exc:
            raise BackendError(
                f"POST {url}: malformed chunk from the server (not JSON): {payload[:200]!r}"
            ) from exc
        if not isinstance(event, dict):
            raise BackendError(f"POST {url}: malformed chunk from the server: {payload[:200]!r}")
        if event_type == "error" or "error" in event:
            raise BackendError(f"POST {url}: the server reported an error mid-stream: "
                               f"{_message_in(event) or payload[:300]}")
        return event

    def _raise_for(self, method: str, url: str, response: httpx.Response) -> None:
        status = response.status_code
        message = f"{method} {url} -> HTTP {status}: {server_message(response)}"
        if status in _HINTS:
            message += f" ({_HINTS[status]})"
        error = ServerError(message, status, _retry_after(response))
        if status in RETRYABLE_STATUS:
            raise _Retryable(error, error.retry_after_s)
        raise error

    def _transport_error(self, method: str, url: str, exc: Exception) -> BackendError:
        kind = type(exc).__name__
        if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
            return BackendError(
                f"{method} {url}: cannot connect ({kind}: {exc}); is the server running and "
                "is the base URL right?"
            )
        if isinstance(exc, httpx.TimeoutException):
            return BackendError(f"{method} {url}: timed out ({kind}); the server is too slow or "
                                "stuck (raise the timeouts if it is just slow)")
        return BackendError(f"{method} {url}: connection failed ({kind}: {exc})")

    async def _with_retries(self, attempt: Any) -> Any:
        started = time.monotonic()
        for attempt_number in range(self.retry.max_attempts):
            try:
                return await attempt()
            except _Retryable as failed:
                delay = self._next_delay(failed, attempt_number, started)
                if delay is None:
                    raise failed.error from failed
                await asyncio.sleep(delay)
        raise AssertionError("unreachable: the last attempt raises")  # pragma: no cover

    def _next_delay(self, failed: _Retryable, attempt_number: int, started: float) -> float | None:
        """Seconds to wait before the next attempt, or None: give up (and say why)."""
        if attempt_number + 1 >= self.retry.max_attempts:
            _add_note(failed.error, f"gave up after {attempt_number + 1} attempts")
            return None
        delay = self.retry.backoff(attempt_number)
        if failed.retry_after_s is not None:
            delay = failed.retry_after_s
        spent = time.monotonic() - started
        if spent + delay > self.retry.max_total_s:
            _add_note(failed.error, f"gave up after {attempt_number + 1} attempts: the next wait "
                      f"({delay:g}s) would pass the {self.retry.max_total_s:g}s retry limit")
            return None
        return delay


def _is_json(response: httpx.Response) -> bool:
    return response.headers.get("content-type", "").startswith("application/json")


def _add_note(error: BackendError, note: str) -> None:
    error.args = (f"{error.args[0]} [{note}]", *error.args[1:])
