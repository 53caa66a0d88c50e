"""One task: solve a problem through the pipeline, then grade the submitted answer.

This is the only module that joins the solver and the grader, and it does so in one direction:
`run_task` hands the pipeline the `ProblemView` (no hidden tests), waits for the solve to end,
and only then, if an answer was submitted, grades it on the hidden tests and emits `Graded`.
The oracle ceiling (did ANY candidate pass the hidden tests?) is computed here too, after the
submission, one `CandidateGraded` per distinct candidate; it is labelled as a ceiling in every
report and never reaches the solver.

Every event passes through a `TaskLog`, which gives it the task's id and the next sequence
number, folds it into the live `TaskState`, appends it to the store (when there is one) and
forwards it to a viewer (the TUI's bridge, the headless progress view).
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from engine import events as ev
from engine.llm.base import Backend
from engine.problems.model import Problem, ProblemView
from engine.sandbox.interface import TestRunner
from engine.state import Submission, TaskState, apply
from engine.store import Store

if TYPE_CHECKING:  # the pipeline itself is imported when a task runs (see run_task)
    from engine.lens.interface import EnergyScorer
    from engine.pipeline.config import PipelineConfig
    from engine.pipeline.gates import Gates

Emit = Callable[[ev.Event], Awaitable[None] | None]


class Solver(Protocol):
    """`engine.pipeline.runner.solve`'s shape."""

    def __call__(
        self,
        view: ProblemView,
        backend: Backend,
        sandbox: TestRunner,
        config: PipelineConfig,
        emit: Emit,
        gates: Gates | None = None,
        lens: EnergyScorer | None = None,
    ) -> Awaitable[object]: ...


# `engine.grading.grade`'s shape; its result is read by `_grade_fields`
Grader = Callable[[Problem, str, TestRunner], Awaitable[object]]


class TaskLog:
    """Numbers one task's events, folds them, stores them, forwards them, in that order."""

    def __init__(self, task_id: str, *, store: Store | None = None, forward: Emit | None = None
                 ) -> None:
        self.task_id = task_id
        self.state = TaskState()
        self._store = store
        self._forward = forward

    async def emit(self, event: ev.Event) -> ev.Event:
        event = dataclasses.replace(event, task_id=self.task_id, seq=self.state.last_seq + 1)
        if self._store is not None:
            self._store.append(event)
        self.state = apply(self.state, event)
        if self._forward is not None:
            result = self._forward(event)
            if inspect.isawaitable(result):
                await result
        return event


@dataclass(frozen=True, slots=True)
class TaskOutcome:
    task_id: str
    status: ev.FinishStatus
    submission: Submission | None
    verdict: str | None  # hidden-test verdict of the submitted answer (None: not graded)
    passed: int | None
    total: int | None
    oracle_any_pass: bool | None  # a ceiling, not a result
    elapsed_s: float
    state: TaskState


async def run_task(
    problem: Problem,
    backend: Backend,
    sandbox: TestRunner,
    config: PipelineConfig,
    *,
    store: Store | None = None,
    emit: Emit | None = None,
    session_id: str | None = None,
    task_id: str | None = None,
    gates: Gates | None = None,
    lens: EnergyScorer | None = None,
    oracle: bool = True,
    solver: Solver | None = None,
    grader: Grader | None = None,
) -> TaskOutcome:
    """Solve `problem` with the pipeline, then grade the submitted answer.

    With a `store`, the task is recorded in it (a new task in `session_id`, or in a new "solve"
    session; or the given `task_id` when the caller made the task row). `emit` receives every
    event as it happens. `oracle` also grades every candidate for the ceiling (costs one
    hidden-test run per distinct candidate). `solver` and `grader` default to the pipeline's
    `solve` and `engine.grading.grade`.
    """
    if solver is None:
        from engine.pipeline.runner import solve

        solver = solve
    if grader is None:
        from engine.grading import grade

        grader = grade
    condition = config.condition
    if store is not None and task_id is None:
        if session_id is None:
            session_id = store.new_session("solve", problem.title or problem.id)
        task_id = store.new_task(session_id, problem.id, title=problem.title, condition=condition)
    log = TaskLog(task_id or problem.id, store=store, forward=emit)
    started = time.monotonic()

    await log.emit(
        ev.TaskStarted(
            task_id=log.task_id,
            title=problem.title or problem.id,
            condition=condition,
            model=backend.info.model,
            backend=str(backend.info.kind),
            # engine.sandbox.Sandbox's isolation tier; another runner need not have one
            sandbox_tier=str(getattr(sandbox, "tier", "")),
            config=config.to_json(),
        )
    )

    held: list[ev.TaskFinished] = []

    async def from_solver(event: ev.Event) -> None:
        # This task owns the start and the end of the log: the end waits for grading.
        if isinstance(event, ev.TaskStarted):
            return
        if isinstance(event, ev.TaskFinished):
            held.append(event)
            return
        await log.emit(event)

    status: ev.FinishStatus = "no_answer"
    try:
        await solver(problem.view(), backend, sandbox, config, from_solver, gates=gates, lens=lens)
    except asyncio.CancelledError:
        await log.emit(_error(log, "task", "cancelled", fatal=True))
        await log.emit(
            ev.TaskFinished(task_id=log.task_id, status="cancelled",
                            elapsed_s=time.monotonic() - started)
        )
        raise
    except Exception as exc:
        status = "error"
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        await log.emit(_error(log, "solve", detail, fatal=True))

    submission = log.state.submitted
    if submission is not None:
        await _grade(problem, submission, log, sandbox, grader, oracle=oracle)
        if status != "error":
            status = "submitted"
    if held and status != "error":
        status = held[-1].status
    await log.emit(
        ev.TaskFinished(task_id=log.task_id, status=status, elapsed_s=time.monotonic() - started)
    )
    graded = log.state.graded
    return TaskOutcome(
        task_id=log.task_id,
        status=status,
        submission=submission,
        verdict=graded.verdict if graded else None,
        passed=graded.passed if graded else None,
        total=graded.total if graded else None,
        oracle_any_pass=graded.oracle_any_pass if graded else None,
        elapsed_s=time.monotonic() - started,
        state=log.state,
    )


async def _grade(
    problem: Problem,
    submission: Submission,
    log: TaskLog,
    sandbox: TestRunner,
    grader: Grader,
    *,
    oracle: bool,
) -> None:
    """Grade the submitted answer (and, for the ceiling, every distinct candidate)."""
    by_code: dict[str, object] = {}

    async def grade_code(code: str) -> object:
        if code not in by_code:
            by_code[code] = await grader(problem, code, sandbox)
        return by_code[code]

    try:
        result = await grade_code(submission.code)
    except Exception as exc:
        await log.emit(_error(log, "grading", f"{type(exc).__name__}: {exc}", fatal=False))
        return
    oracle_any_pass: bool | None = None
    if oracle:
        oracle_any_pass = False
        for candidate in log.state.candidates.values():
            try:
                cand_result = await grade_code(candidate.code)
            except Exception as exc:
                await log.emit(_error(log, f"oracle {candidate.candidate_id}", str(exc)))
                continue
            verdict, passed, total, _ = _grade_fields(cand_result)
            oracle_any_pass = oracle_any_pass or verdict == "AC"
            await log.emit(
                ev.CandidateGraded(task_id=log.task_id, candidate_id=candidate.candidate_id,
                                   verdict=verdict, passed=passed, total=total)
            )
    verdict, passed, total, fallback = _grade_fields(result)
    if oracle_any_pass is not None:
        oracle_any_pass = oracle_any_pass or verdict == "AC"
    await log.emit(
        ev.Graded(
            task_id=log.task_id,
            candidate_id=submission.candidate_id,
            verdict=verdict,
            passed=passed,
            total=total,
            oracle_any_pass=oracle_any_pass,
            used_public_fallback=fallback,
        )
    )


def _grade_fields(result: object) -> tuple[str, int, int, bool]:
    """(verdict, passed, total, used public tests) from `engine.grading.GradeResult`."""
    verdict = getattr(result, "status", None)  # text, "NO_TESTS" when there were none
    if not isinstance(verdict, str):
        verdict = getattr(result, "verdict", None)
        verdict = str(getattr(verdict, "value", verdict))
    passed = int(getattr(result, "passed", 0))
    total = int(getattr(result, "total", 0))
    fallback = bool(getattr(result, "used_public_fallback", False))
    return verdict, passed, total, fallback


def _error(log: TaskLog, where: str, message: str, *, fatal: bool = False) -> ev.ErrorRaised:
    return ev.ErrorRaised(task_id=log.task_id, where=where, message=message, fatal=fatal)
