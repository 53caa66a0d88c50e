"""Several generation streams consumed at once, their items tagged with the request's index.

This is the `stream_many` every backend shares: each request becomes an ordinary `stream`
call, run concurrently in its own task. What makes it fast is below this module: in-process
llama.cpp decodes the concurrent sequences in one batch (engine/llm/batch_decode.py), and a
server backend sends them as concurrent requests bounded by its semaphore.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing, suppress
from typing import Final

from engine.llm.base import Delta, GenerationRequest, GenerationResult

Item = Delta | GenerationResult
class _Done:
    """What a pump puts on the queue when its stream has ended."""


_DONE: Final = _Done()


def stream_each(stream: Callable[..., AsyncGenerator[Item, None]],
                requests: Sequence[GenerationRequest]) -> MergedStreams:
    """`stream_many` from a backend's own `stream`: one concurrent stream per request."""
    return MergedStreams([stream(r.prompt, r.params, budget=r.budget) for r in requests])


class MergedStreams:
    """A `ManyStream` over several Delta/GenerationResult streams. Consuming starts them all;
    an error in one closes all and is raised to the consumer. Close it when done early
    (`aclosing`, or `final_results`): the streams run in tasks of their own until then."""

    def __init__(self, streams: Sequence[AsyncGenerator[Item, None]]) -> None:
        self._streams = list(streams)
        self._queue: asyncio.Queue[tuple[int, Item | BaseException | _Done]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] | None = None
        self._open = len(self._streams)
        self._cancelled: set[int] = set()

    def __aiter__(self) -> MergedStreams:
        return self

    async def __anext__(self) -> tuple[int, Item]:
        if self._tasks is None:
            self._tasks = [asyncio.create_task(self._pump(i, s))
                           for i, s in enumerate(self._streams)]
        while self._open > 0:
            index, item = await self._queue.get()
            if isinstance(item, _Done):
                self._open -= 1
            elif isinstance(item, BaseException):
                await self.aclose()
                raise item
            elif index not in self._cancelled:
                return index, item
        raise StopAsyncIteration

    def cancel(self, index: int) -> None:
        """Stop sequence `index` (closing its stream stops its generation); the others go on."""
        if not 0 <= index < len(self._streams):
            raise IndexError(f"no sequence {index} among {len(self._streams)}")
        self._cancelled.add(index)
        if self._tasks is None:
            self._streams[index] = _empty()  # the stream never started: nothing to stop
        else:
            self._tasks[index].cancel()

    async def aclose(self) -> None:
        tasks, self._tasks = self._tasks or [], []
        self._open = 0
        for task in tasks:
            task.cancel()
        for task in tasks:
            with suppress(asyncio.CancelledError):
                await task
        if not tasks:  # never started: close the streams themselves
            for stream in self._streams:
                close = getattr(stream, "aclose", None)
                if close is not None:
                    await close()

    async def _pump(self, index: int, stream: AsyncGenerator[Item, None]) -> None:
        try:
            async with aclosing(stream):
                async for item in stream:
                    self._queue.put_nowait((index, item))
        except asyncio.CancelledError:
            pass  # cancelled by `cancel` or `aclose`: closing the stream stopped it
        except BaseException as exc:  # travels to the consumer
            self._queue.put_nowait((index, exc))
        finally:
            self._queue.put_nowait((index, _DONE))


async def _empty() -> AsyncGenerator[Item, None]:
    return
    yield  # pragma: no cover  (makes this an async generator)
