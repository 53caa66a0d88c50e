"""run_task: the solver sees only the view, grading happens only after submission, every event
is numbered, folded, stored and forwarded. The solver here is a small scripted callable that
emits what the pipeline emits; grading runs candidates in real subprocesses."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from engine import events as ev
from engine.llm.scripted import ScriptedBackend
from engine.pipeline.config import PipelineConfig
from engine.problems.model import Problem, ProblemView, TestCase, TestKind
from engine.state import reduce
from engine.store import Store
from engine.task import run_task

RIGHT = "print(int(input()) * 2)"
WRONG = "print(int(input()) + 2)"

PROBLEM = Problem(
    id="double",
    title="Double it",
    statement="Print twice the number.",
    test_kind=TestKind.STDIN,
    public_tests=(TestCase("2\n", "4\n", TestKind.STDIN, origin="statement"),),
    hidden_tests=(
        TestCase("5\n", "10\n", TestKind.STDIN),
        TestCase("0\n", "0\n", TestKind.STDIN),
    ),
)


@dataclass
class GradeResult:
    verdict: str
    passed: int
    total: int
    used_public_fallback: bool = False


class SubprocessGrader:
    """Runs code on the hidden tests in real subprocesses; records when it was called."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def __call__(self, problem: Problem, code: str, sandbox: Any) -> GradeResult:
        self.calls.append(code)
        passed = 0
        for test in problem.hidden_tests:
            run = await asyncio.to_thread(
                subprocess.run, [sys.executable, "-c", code], input=test.input,
                capture_output=True, text=True, timeout=60,
            )
            passed += run.returncode == 0 and run.stdout.split() == test.expected.split()
        total = len(problem.hidden_tests)
        return GradeResult("AC" if passed == total else "WA", passed, total)


class ScriptedSolver:
    """Emits what the pipeline would for two candidates and submits `submit`."""

    def __init__(self, grader: SubprocessGrader, submit: str | None = "c1",
                 fail: Exception | None = None, wait: asyncio.Event | None = None) -> None:
        self.grader = grader
        self.submit = submit
        self.fail = fail
        self.wait = wait
        self.views: list[Any] = []
        self.grader_calls_during_solve: int | None = None

    async def __call__(self, view: ProblemView, backend: Any, sandbox: Any, config: Any,
                       emit: Any, gates: Any = None, lens: Any = None) -> None:
        self.views.append(view)
        task = view.id  # the pipeline does not know the task id; run_task sets it
        await emit(ev.PhaseStarted(task_id=task, phase="probe"))
        await emit(ev.CandidateCreated(task_id=task, candidate_id="c1", origin="probe",
                                       code=WRONG))
        await emit(ev.CandidateCreated(task_id=task, candidate_id="c2", origin="plan",
                                       code=RIGHT))
        await emit(ev.CandidateCreated(task_id=task, candidate_id="c3", origin="plan",
                                       code=RIGHT))  # same code: graded once
        if self.wait is not None:
            await self.wait.wait()
        if self.fail is not None:
            raise self.fail
        await emit(ev.PhaseFinished(task_id=task, phase="probe"))
        if self.submit is not None:
            code = {"c1": WRONG, "c2": RIGHT}[self.submit]
            await emit(ev.AnswerSubmitted(task_id=task, candidate_id=self.submit, code=code,
                                          phase="probe"))
        self.grader_calls_during_solve = len(self.grader.calls)


def Config() -> PipelineConfig:
    return PipelineConfig.preset("D")


# The solver and the grader here are scripted: run_task reads only the backend's info and
# hands the sandbox (none) to the grader, which runs its own subprocesses.
BACKEND = ScriptedBackend()


async def test_grading_runs_only_after_submission_and_reports_the_ceiling(tmp_path: Path
                                                                         ) -> None:
    grader = SubprocessGrader()
    solver = ScriptedSolver(grader, submit="c1")
    forwarded: list[ev.Event] = []

    async def viewer(event: ev.Event) -> None:
        forwarded.append(event)

    with Store(tmp_path / "run.sqlite") as store:
        out = await run_task(PROBLEM, BACKEND, None, Config(), store=store, emit=viewer,
                             solver=solver, grader=grader)
        stored = store.events(out.task_id)
        info = store.task(out.task_id)

    (view,) = solver.views
    assert isinstance(view, ProblemView) and not hasattr(view, "hidden_tests")
    assert solver.grader_calls_during_solve == 0
    assert grader.calls == [WRONG, RIGHT]  # submitted first, then each distinct candidate once

    assert (out.status, out.verdict, out.passed, out.total) == ("submitted", "WA", 0, 2)
    assert out.oracle_any_pass is True  # c2 would have passed: a ceiling, not the result
    types = [type(e).__name__ for e in stored]
    assert types[0] == "TaskStarted" and types[-2:] == ["Graded", "TaskFinished"]
    assert types.index("AnswerSubmitted") < types.index("CandidateGraded")
    assert [e.seq for e in stored] == list(range(1, len(stored) + 1))
    assert {e.task_id for e in stored} == {out.task_id} != {"double"}
    assert stored == forwarded
    assert reduce(stored) == out.state
    hidden = {c: s.hidden.verdict for c, s in out.state.candidates.items() if s.hidden}
    assert hidden == {"c1": "WA", "c2": "AC", "c3": "AC"}
    assert info is not None and (info.status, info.verdict, info.condition) == (
        "submitted", "WA", "D")
    assert info.oracle_any_pass is True


async def test_without_the_oracle_only_the_answer_is_graded() -> None:
    grader = SubprocessGrader()
    out = await run_task(PROBLEM, BACKEND, None, Config(), oracle=False,
                         solver=ScriptedSolver(grader, submit="c2"), grader=grader)
    assert (out.verdict, out.passed, out.oracle_any_pass) == ("AC", 2, None)
    assert grader.calls == [RIGHT]
    assert not any(c.hidden for c in out.state.candidates.values())


async def test_no_answer_is_not_graded() -> None:
    grader = SubprocessGrader()
    out = await run_task(PROBLEM, BACKEND, None, Config(), solver=ScriptedSolver(grader, None),
                         grader=grader)
    assert (out.status, out.verdict, out.submission) == ("no_answer", None, None)
    assert grader.calls == [] and out.state.graded is None


async def test_a_solver_that_crashes_ends_the_task_with_a_visible_error(tmp_path: Path) -> None:
    grader = SubprocessGrader()
    solver = ScriptedSolver(grader, fail=RuntimeError("model server went away"))
    with Store(tmp_path / "run.sqlite") as store:
        out = await run_task(PROBLEM, BACKEND, None, Config(), store=store, solver=solver,
                             grader=grader)
        assert store.state(out.task_id) == out.state
        assert store.task(out.task_id).status == "error"  # type: ignore[union-attr]
    (error,) = out.state.errors
    assert error.fatal and "model server went away" in error.message
    assert out.status == "error" and out.state.status == "error" and grader.calls == []
    assert len(out.state.candidates) == 3  # what happened before the crash is kept


async def test_a_grader_that_fails_is_an_error_event_not_a_crash() -> None:
    async def broken(problem: Problem, code: str, sandbox: Any) -> GradeResult:
        raise OSError("sandbox unavailable")

    out = await run_task(PROBLEM, BACKEND, None, Config(),
                         solver=ScriptedSolver(SubprocessGrader()), grader=broken)
    assert out.status == "submitted" and out.verdict is None
    assert [e.where for e in out.state.errors] == ["grading"]


async def test_a_cancelled_task_records_that_it_was_cancelled(tmp_path: Path) -> None:
    grader = SubprocessGrader()
    release = asyncio.Event()
    solver = ScriptedSolver(grader, wait=release)
    with Store(tmp_path / "run.sqlite") as store:
        session = store.new_session("bench")
        job = asyncio.create_task(run_task(PROBLEM, BACKEND, None, Config(), store=store,
                                           session_id=session, solver=solver, grader=grader))
        while not store.tasks(session) or store.tasks(session)[0].last_seq < 4:
            await asyncio.sleep(0.01)
        job.cancel()
        with pytest.raises(asyncio.CancelledError):
            await job
        (info,) = store.tasks(session)
        assert info.status == "cancelled" and grader.calls == []
        assert store.state(info.task_id).status == "cancelled"


async def test_a_finish_emitted_by_the_solver_waits_for_grading() -> None:
    grader = SubprocessGrader()
    inner = ScriptedSolver(grader, submit="c2")

    async def solver(view: ProblemView, *args: Any, **kwargs: Any) -> None:
        await inner(view, *args, **kwargs)
        emit = args[3]
        await emit(ev.TaskStarted(task_id=view.id, title="again", condition="D"))
        await emit(ev.TaskFinished(task_id=view.id, status="submitted"))

    seen: list[ev.Event] = []
    out = await run_task(PROBLEM, BACKEND, None, Config(), emit=seen.append, solver=solver,
                         grader=grader)
    types = [type(e).__name__ for e in seen]
    assert types.count("TaskStarted") == 1 and types.count("TaskFinished") == 1
    assert types[-2:] == ["Graded", "TaskFinished"]
    assert out.state.graded is not None and out.state.finished
