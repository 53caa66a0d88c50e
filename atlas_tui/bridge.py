"""Engine events in, Textual messages out, at a bounded frame rate.

The pipeline calls `emit(event)` for every event, thousands a second while tokens stream.
`emit` only appends to a deque (safe from any thread). A timer drains the deque `fps` times a
second, folds the events into each task's `TaskState` with `engine.state.apply`, and posts one
`StatesChanged` message for the whole batch. Widgets redraw from that message: at most `fps`
redraws a second however fast tokens come, never one widget call per token.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping

from textual.message import Message
from textual.message_pump import MessagePump
from textual.timer import Timer

from engine.events import Event
from engine.state import TaskState, apply

DEFAULT_FPS = 25.0


class StatesChanged(Message):
    """Some tasks' folded states moved on. `states` holds the new state of each."""

    def __init__(self, states: Mapping[str, TaskState], events: int) -> None:
        super().__init__()
        self.states = states
        self.events = events


class EventBridge:
    def __init__(
        self,
        target: MessagePump,
        *,
        fps: float = DEFAULT_FPS,
        keep_finished: int = 32,
    ) -> None:
        self._target = target
        self._interval = 1.0 / fps
        self._pending: deque[Event] = deque()
        self._states: dict[str, TaskState] = {}
        self._timer: Timer | None = None
        # Finished tasks' states beyond this many are dropped (oldest first): a folder solved
        # overnight must not keep every task's text in memory. The store can fold them again.
        self._keep_finished = keep_finished
        self.frames = 0  # StatesChanged messages posted
        self.events = 0  # events folded
        self.fold_s = 0.0  # time spent folding, for the benchmark

    def start(self) -> None:
        if self._timer is None:
            self._timer = self._target.set_interval(self._interval, self.flush, name="bridge")

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.flush()

    def emit(self, event: Event) -> None:
        self._pending.append(event)

    def state(self, task_id: str) -> TaskState | None:
        return self._states.get(task_id)

    def seed(self, state: TaskState) -> None:
        """Start from a known state (a replayed or resumed task)."""
        self._states[state.task_id] = state

    def forget(self, task_id: str) -> None:
        self._states.pop(task_id, None)

    def _drop_old_finished(self) -> None:
        finished = [t for t, s in self._states.items() if s.finished]
        for task_id in finished[: max(0, len(finished) - self._keep_finished)]:
            del self._states[task_id]

    def flush(self) -> None:
        """Fold what arrived since the last frame and post one message (no-op when idle)."""
        if not self._pending:
            return
        started = time.perf_counter()
        changed: dict[str, TaskState] = {}
        count = 0
        pending = self._pending
        while pending:
            event = pending.popleft()
            state = changed.get(event.task_id) or self._states.get(event.task_id) or TaskState()
            changed[event.task_id] = apply(state, event)
            count += 1
        for task_id, state in changed.items():
            self._states.pop(task_id, None)  # re-insert: the dict's order is recency
            self._states[task_id] = state
        self._drop_old_finished()
        self.events += count
        self.frames += 1
        self.fold_s += time.perf_counter() - started
        self._target.post_message(StatesChanged(changed, count))
