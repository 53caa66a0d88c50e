"""Replay: a stored task stepped through event by event or iteration by iteration, read-only,
in the same panes as the live workbench. The state at step N is the fold of events 1..N."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Static

from engine.events import Event, RepairIteration
from engine.problems.model import ProblemView
from engine.state import TaskState, apply
from widgets.panes import TaskPanes

_CHECKPOINT_EVERY = 256  # fold from the nearest checkpoint: stepping back stays cheap


class Replayer:
    """The fold of a fixed event list at any position (0 = before the first event)."""

    def __init__(self, events: Sequence[Event]) -> None:
        self.events = list(events)
        self._checkpoints: dict[int, TaskState] = {0: TaskState()}
        self.position = 0
        self.state = TaskState()

    def __len__(self) -> int:
        return len(self.events)

    def seek(self, position: int) -> TaskState:
        position = max(0, min(position, len(self.events)))
        if position >= self.position:
            start, state = self.position, self.state
        else:
            start = max(p for p in self._checkpoints if p <= position)
            state = self._checkpoints[start]
        for index in range(start, position):
            state = apply(state, self.events[index])
            if (index + 1) % _CHECKPOINT_EVERY == 0:
                self._checkpoints[index + 1] = state
        self.position, self.state = position, state
        return state

    def iteration_positions(self) -> list[tuple[int, int]]:
        """(iteration, position just after its first RepairIteration event)."""
        seen: dict[int, int] = {}
        for index, event in enumerate(self.events):
            if isinstance(event, RepairIteration) and event.iteration not in seen:
                seen[event.iteration] = index + 1
        return sorted(seen.items())

    def current_iteration(self) -> int | None:
        reached = [it for it, pos in self.iteration_positions() if pos <= self.position]
        return reached[-1] if reached else None


class ReplayScreen(Screen[None]):
    # priority: the panes' trees and tables must not swallow the stepping keys
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("right,l", "step(1)", "Next event", id="replay_next", priority=True),
        Binding("left,h", "step(-1)", "Prev event", id="replay_prev", priority=True),
        Binding("pagedown", "step(50)", "+50", show=False, id="replay_forward", priority=True),
        Binding("pageup", "step(-50)", "-50", show=False, id="replay_back", priority=True),
        Binding("right_square_bracket", "iteration(1)", "Next iteration",
                id="replay_next_iteration", priority=True),
        Binding("left_square_bracket", "iteration(-1)", "Prev iteration",
                id="replay_prev_iteration", priority=True),
        Binding("home", "seek(0)", "Start", id="replay_start", priority=True),
        Binding("end", "seek(-1)", "End", id="replay_end", priority=True),
        Binding("escape,q", "close", "Close replay", id="replay_close", priority=True),
    ]

    def __init__(self, events: Sequence[Event], problem: ProblemView | None, title: str,
                 *, start: int | None = None) -> None:
        super().__init__()
        self.replayer = Replayer(events)
        self._problem = problem
        self._title = title
        self._start = len(events) if start is None else start

    def compose(self) -> ComposeResult:
        yield Static("", id="replay-bar")
        yield TaskPanes(id="replay-panes")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(TaskPanes).show_problem(self._problem)
        self.seek(self._start)

    @property
    def state(self) -> TaskState:
        return self.replayer.state

    def seek(self, position: int) -> None:
        state = self.replayer.seek(position)
        panes = self.query_one(TaskPanes)
        panes.show(state, immediate=True)
        panes.set_iteration(self.replayer.current_iteration())
        total = len(self.replayer)
        event = self.replayer.events[self.replayer.position - 1] if self.replayer.position else None
        iteration = self.replayer.current_iteration()
        bar = Text.assemble(
            (" REPLAY ", "bold reverse"),
            f" {self._title} · event {self.replayer.position}/{total}",
            f" · {type(event).__name__ if event else 'start'}",
            f" · iteration {iteration}" if iteration is not None else "",
            f" · {state.status}",
            ("  ←/→ event  [/] iteration  home/end  esc close", "dim"),
        )
        self.query_one("#replay-bar", Static).update(bar)

    def action_step(self, delta: int) -> None:
        self.seek(self.replayer.position + delta)

    def action_seek(self, position: int) -> None:
        self.seek(len(self.replayer) if position < 0 else position)

    def action_iteration(self, delta: int) -> None:
        positions = self.replayer.iteration_positions()
        here = self.replayer.position
        if delta > 0:
            later = [pos for _, pos in positions if pos > here]
            if later:
                self.seek(later[0])
        else:
            earlier = [pos for _, pos in positions if pos < here]
            if earlier:
                self.seek(earlier[-1])

    def action_close(self) -> None:
        self.dismiss(None)
