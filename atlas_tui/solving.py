"""Solving from the workbench: a queue of problems solved one at a time with
`engine.task.run_task`, and the person's steering (pause, step mode, next step, cancel, accept,
edit, add a test) turned into calls on the pipeline's `Gates`.

This module holds no solving logic of its own: the engine does the work and reports it as
events; the app folds those into what the panes show.
"""

from __future__ import annotations

import asyncio
import re
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from engine.events import Event
from engine.lens.interface import EnergyScorer
from engine.llm.base import Backend
from engine.pipeline.config import PipelineConfig
from engine.pipeline.gates import EVERY_STEP, GateName, Gates, PauseAt
from engine.problems.model import Problem
from engine.sandbox.interface import TestRunner
from engine.store import Store
from engine.task import TaskOutcome, run_task

StatusCallback = Callable[[str, str, str], None]  # (item key, status, message)


@dataclass
class Running:
    key: str
    problem: Problem
    gates: Gates
    job: asyncio.Task[TaskOutcome | None]
    task_id: str | None = None
    pause_at: GateName | None = None  # the step a re-run pauses before


def outcome_status(outcome: TaskOutcome) -> tuple[str, str]:
    """The queue status and message of a finished task."""
    if outcome.status == "submitted":
        if outcome.verdict is not None and outcome.total:
            fallback = " (public tests: no hidden ones)" if outcome.state.graded and \
                outcome.state.graded.used_public_fallback else ""
            message = f"{outcome.passed}/{outcome.total}{fallback}"
            return ("pass" if outcome.verdict == "AC" else "fail"), message
        return "solved", ""
    if outcome.status == "error":  # the row shows the task's errors with their step
        return "error", "" if outcome.state.errors else "failed"
    return outcome.status.replace("_", " "), ""


class SolveQueue:
    """Problems waiting to be solved and the one being solved now."""

    def __init__(
        self,
        *,
        backend: Callable[[], Awaitable[Backend]],
        sandbox: Callable[[], Awaitable[TestRunner]],
        lens: Callable[[str], Awaitable[EnergyScorer]],
        store: Store,
        session_id: str,
        emit: Callable[[Event], None],
        on_status: StatusCallback,
        pipeline: Callable[[], PipelineConfig],
        step_mode: bool = False,
    ) -> None:
        self._backend = backend
        self._lens = lens
        self._sandbox = sandbox
        self._store = store
        self._session_id = session_id
        self._emit = emit
        self._on_status = on_status
        self._pipeline = pipeline
        self.step_mode = step_mode
        self.waiting: deque[tuple[str, Problem, GateName | None]] = deque()
        self.running: Running | None = None
        self.task_of: dict[str, str] = {}  # item key -> its latest task id
        self._worker: asyncio.Task[None] | None = None
        self._pause_requested = False

    # --- the queue ----------------------------------------------------------------------------

    def submit(self, key: str, problem: Problem, *, pause_at: GateName | None = None) -> bool:
        """Queue a problem (once); returns False when it is already queued or running."""
        if (self.running and self.running.key == key) or any(k == key for k, _, _ in self.waiting):
            return False
        self.waiting.append((key, problem, pause_at))
        self._on_status(key, "queued", "")
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._work())
        return True

    def forget(self, key: str) -> None:
        """A problem whose file went away: drop it from the waiting line."""
        self.waiting = deque(w for w in self.waiting if w[0] != key)

    @property
    def busy(self) -> bool:
        return self.running is not None or bool(self.waiting)

    async def _work(self) -> None:
        while self.waiting:
            key, problem, pause_at = self.waiting.popleft()
            await self._solve_one(key, problem, pause_at)

    async def _solve_one(self, key: str, problem: Problem, pause_at: GateName | None) -> None:
        self._on_status(key, "solving", "")
        try:
            backend = await self._backend()
            sandbox = await self._sandbox()
            lens = await self._lens(backend.info.model)
        except Exception as exc:  # no model, no sandbox, unusable Lens: said on the row
            self._on_status(key, "error", str(exc))
            return
        gates = Gates(self._pause_set(pause_at))
        config = self._pipeline()
        task_id = self._store.new_task(
            self._session_id, problem.id, title=problem.title, condition=config.condition
        )
        self.task_of[key] = task_id
        self._on_status(key, "solving", "")  # again, now that the task (and its id) exists

        async def forward(event: Event) -> None:
            self._emit(event)

        job = asyncio.get_running_loop().create_task(
            run_task(problem, backend, sandbox, config, store=self._store, emit=forward,
                     task_id=task_id, gates=gates, lens=lens)
        )
        self.running = Running(key, problem, gates, job, task_id, pause_at)
        try:
            outcome = await job
        except asyncio.CancelledError:
            self._on_status(key, "cancelled", "")
            if not job.cancelled():
                raise
        except Exception as exc:
            self._on_status(key, "error", f"{type(exc).__name__}: {exc}")
        else:
            if outcome is not None:
                self._on_status(key, *outcome_status(outcome))
        finally:
            self.running = None

    # --- steering -----------------------------------------------------------------------------

    def _pause_set(self, pause_at: GateName | None) -> set[PauseAt]:
        steps: set[PauseAt] = {EVERY_STEP} if self.step_mode or self._pause_requested else set()
        if pause_at:
            steps.add(pause_at)
        return steps

    def set_step_mode(self, on: bool) -> None:
        self.step_mode = on
        if self.running is not None:
            self.running.gates.pause_before = self._pause_set(self.running.pause_at)

    def next_step(self) -> bool:
        """Continue past the gate the runner waits at; False when it is not waiting."""
        running = self.running
        if running is None or running.gates.waiting_on is None:
            return False
        if self._pause_requested:
            self._pause_requested = False
            running.gates.pause_before = self._pause_set(running.pause_at)
        running.gates.resolve("continue")
        return True

    def toggle_pause(self) -> str:
        """Pause before the next step, or go on when paused. Returns what happened."""
        running = self.running
        if running is None:
            if self._worker is None or self._worker.done():
                return "nothing is running"
            self._pause_requested = not self._pause_requested  # starting: applies at once
            return "will pause before the first step" if self._pause_requested else "resumed"
        if running.gates.waiting_on is not None:
            self.next_step()
            return "resumed"
        self._pause_requested = True
        running.gates.pause_before = {EVERY_STEP}
        return "pausing before the next step"

    def cancel(self) -> bool:
        running = self.running
        if running is None:
            return False
        running.job.cancel()
        return True

    def cancel_all(self) -> None:
        for key, _, _ in self.waiting:
            self._on_status(key, "new", "")
        self.waiting.clear()
        self.cancel()

    async def stop(self) -> None:
        """Cancel everything and wait until the running task has logged its end (the store is
        closed after this, on quitting)."""
        running = self.running
        self.cancel_all()
        if running is not None:
            await asyncio.gather(running.job, return_exceptions=True)

    def pin(self, candidate_id: str) -> bool:
        if self.running is None:
            return False
        self.running.gates.pin_answer(candidate_id)
        return True

    def edit(self, candidate_id: str, code: str) -> bool:
        if self.running is None:
            return False
        self.running.gates.edit_candidate(candidate_id, code)
        return True

    def add_test(self, given: str, expected: str) -> bool:
        if self.running is None:
            return False
        self.running.gates.add_test(given, expected)
        return True


# --- answers ----------------------------------------------------------------------------------

ANSWER_SUFFIX = ".answer.py"


def answer_path(problem: Problem, output_dir: str | None) -> Path:
    """Where an accepted program goes: NAME.answer.py next to the problem file, or in
    `output_dir` when one is configured. The watcher ignores these files."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", problem.id).strip("._") or "problem"
    source = Path(problem.source.path)
    folder = Path(output_dir).expanduser() if output_dir else source.parent
    if not output_dir and problem.source.row is None and source.suffix.lower() == ".md":
        safe = source.name[: -len(source.suffix)]  # foo.md -> foo.answer.py
    return folder / f"{safe}{ANSWER_SUFFIX}"


def write_answer(problem: Problem, code: str, output_dir: str | None) -> Path:
    path = answer_path(problem, output_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(code if code.endswith("\n") else code + "\n", encoding="utf-8")
    temporary.replace(path)  # never a half-written answer
    return path
