"""The task panes together: problem, candidate tree, Lens energy, tests and reasoning, all drawn
from one folded `TaskState`. Used by the live workbench and by replay alike."""

from __future__ import annotations

import time

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid

from engine.problems.model import LoadError, ProblemView
from engine.state import RepairStep, TaskState
from widgets.candidates import CandidateTree
from widgets.energy import EnergyRanking
from widgets.problem import ProblemPane
from widgets.reasoning import ReasoningPane, ReasoningView
from widgets.tests_matrix import TestMatrix

# How a generation cut short is marked in the reasoning pane's title.
_STOPS = {"loop": " · stopped: it was repeating itself", "length": " · cut at its token limit"}


def iterations(state: TaskState) -> list[int]:
    return sorted({step.iteration for step in state.repairs})


def repair_step(state: TaskState, iteration: int, candidate_id: str | None) -> RepairStep | None:
    """The step of `iteration` that made `candidate_id`, else that iteration's first step."""
    steps = [s for s in state.repairs if s.iteration == iteration]
    chosen = next((s for s in steps if s.child_id == candidate_id), None)
    return chosen or (steps[0] if steps else None)


def reasoning_view(state: TaskState, iteration: int | None, candidate_id: str | None
                   ) -> ReasoningView | None:
    """Live: the newest generation. At a past iteration: that iteration's repair reasoning."""
    if iteration is not None:
        step = repair_step(state, iteration, candidate_id)
        if step is None:
            return None
        title = f"repair iteration {iteration} · {step.perspective[:60]} · {step.parent_id} → " \
                f"{step.child_id or 'no code'}"
        stream = state.streams.get(step.stream_id or "")
        if stream is not None:
            return ReasoningView(f"iteration {iteration}:{step.stream_id}", title,
                                 stream.thinking, stream.answer, live=not stream.finished)
        return ReasoningView(f"iteration {iteration}:{step.parent_id}", title, step.reasoning, "")
    if not state.streams:
        return None
    stream = list(state.streams.values())[-1]
    if stream.finished:
        status = f"{stream.tokens} tokens"
    else:  # a generation the task ended during (its model failed, or a person cancelled)
        status = "ended unfinished" if state.finished else "streaming"
    status += _STOPS.get(stream.finish_reason, "") if stream.finished else ""
    title = f"{stream.purpose} · {stream.stream_id} · {status}"
    return ReasoningView(stream.stream_id, title, stream.thinking, stream.answer,
                         live=not stream.finished)


class TaskPanes(Grid):
    """Shows one task. `iteration` set: the panes follow that repair iteration.

    Streaming text is drawn on every frame; the tree, the test matrix and the energy ranking
    at most `structure_fps` times a second (each of their redraws costs a layout pass of the
    screen), and always at once when the task pauses or ends, so what stays on screen is exact.
    """

    def __init__(self, *, id: str | None = None, structure_fps: float = 5.0) -> None:
        super().__init__(id=id)
        self.state: TaskState | None = None
        self.iteration: int | None = None
        self._structure_interval = 1.0 / structure_fps if structure_fps else 0.0
        self._structure_at = 0.0  # when the structural panes were last drawn
        self._structure_pending = False

    def compose(self) -> ComposeResult:
        yield ProblemPane(id="problem")
        yield CandidateTree(id="candidates")
        yield EnergyRanking(id="energy")
        yield TestMatrix(id="tests")
        yield ReasoningPane(id="reasoning")

    @property
    def chosen_candidate(self) -> str | None:
        return self.query_one(CandidateTree).chosen_id

    def show_problem(self, item: ProblemView | LoadError | None) -> None:
        self.query_one(ProblemPane).show(item)

    def show(self, state: TaskState | None, *, immediate: bool = False) -> None:
        """Draw `state`; `immediate` draws every pane now (stepping through a replay)."""
        previous, self.state = self.state, state
        now = time.monotonic()
        settled = immediate or state is None or state.finished or state.gate is not None
        other_task = (previous.task_id if previous else None) != (state.task_id if state else None)
        if settled or other_task or now - self._structure_at >= self._structure_interval:
            self._draw_structure(now)
        elif not self._structure_pending:
            self._structure_pending = True
            self.set_timer(self._structure_interval, self._draw_pending, name="structure")
        self._draw_reasoning()

    def _draw_pending(self) -> None:
        if self._structure_pending:
            self._draw_structure(time.monotonic())

    def _draw_structure(self, now: float) -> None:
        self._structure_pending = False
        self._structure_at = now
        self.query_one(CandidateTree).show(self.state)
        self._refresh_dependents()

    def _draw_reasoning(self) -> None:
        state = self.state
        view = reasoning_view(state, self.iteration, self.chosen_candidate) if state else None
        self.query_one(ReasoningPane).show(view)

    def set_iteration(self, iteration: int | None) -> None:
        self.iteration = iteration
        self._draw_structure(time.monotonic())  # the tree must know the state it picks from
        state = self.state
        if state is not None and iteration is not None:
            step = repair_step(state, iteration, None)
            if step is not None:
                self.query_one(CandidateTree).choose(step.child_id or step.parent_id)
        self._refresh_dependents()

    def _refresh_dependents(self) -> None:
        state = self.state
        chosen = self.chosen_candidate
        self.query_one(EnergyRanking).show(state, chosen)
        self.query_one(TestMatrix).show(state)
        view = reasoning_view(state, self.iteration, chosen) if state else None
        self.query_one(ReasoningPane).show(view)

    @on(CandidateTree.Chosen)
    def _candidate_chosen(self, event: CandidateTree.Chosen) -> None:
        if self.state is not None:
            self.query_one(EnergyRanking).show(self.state, event.candidate_id)
