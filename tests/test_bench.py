"""The benchmark runner: bounded concurrency, the report (strict pass@1 beside the labelled
ceiling), and resume after a real process running the bench is killed with SIGKILL mid-task."""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from support.bench_store import attempts as store_attempts
from test_task import BACKEND, PROBLEM, RIGHT, Config, ScriptedSolver, SubprocessGrader

from engine import events as ev
from engine.bench import CEILING_LABEL, BenchError, bench_report, bench_session, run_bench
from engine.problems.model import ProblemView
from engine.store import Store


class PerProblemSolver:
    """Submits the right program for ids in `right`, the wrong one otherwise (both created)."""

    def __init__(self, right: set[str], grader: SubprocessGrader) -> None:
        self.right = right
        self.grader = grader
        self.running = 0
        self.most_at_once = 0

    async def __call__(self, view: ProblemView, *args: Any, **kwargs: Any) -> None:
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            await asyncio.sleep(0)  # let another worker start (a model call would)
            submit = "c2" if view.id in self.right else "c1"
            await ScriptedSolver(self.grader, submit=submit)(view, *args, **kwargs)
        finally:
            self.running -= 1


def _problems(n: int) -> list[Any]:
    return [dataclasses.replace(PROBLEM, id=f"p{i}", title=f"Double {i}") for i in range(1, n + 1)]


async def test_a_run_reports_strict_pass_at_1_beside_the_ceiling(tmp_path: Path) -> None:
    grader = SubprocessGrader()
    solver = PerProblemSolver({"p1", "p3"}, grader)
    done: list[str] = []
    with Store(tmp_path / "run.sqlite") as store:
        run = await run_bench(
            _problems(5), BACKEND, None, Config(), store, jobs=2, title="double",
            solver=solver, grader=grader, on_task_done=lambda p, o: done.append(p.id),
        )
        report = bench_report(store, run.session_id)
        for outcome in run.outcomes.values():
            assert store.state(outcome.task_id) == outcome.state
    assert sorted(done) == ["p1", "p2", "p3", "p4", "p5"] and run.skipped == []
    assert solver.most_at_once == 2  # jobs bound the concurrency, and it was used
    assert (report.n_problems, report.n_finished, report.n_solved) == (5, 5, 2)
    assert report.pass_at_1 == pytest.approx(0.4)
    assert report.oracle_pass_at_k == pytest.approx(1.0)  # c2 was right everywhere
    assert report.statuses == {"submitted": 5} and report.verdicts == {"AC": 2, "WA": 3}
    assert report.solved_by_phase == {"probe": 2}
    text = report.to_text()
    assert "strict pass@1: 2/5 = 40.0%" in text and f"{CEILING_LABEL}: 5/5" in text
    assert report.to_json()["oracle_label"] == CEILING_LABEL
    assert [r.problem_id for r in report.rows] == ["p1", "p2", "p3", "p4", "p5"]


async def test_a_file_that_holds_a_run_needs_resume(tmp_path: Path) -> None:
    grader = SubprocessGrader()
    solver = PerProblemSolver(set(), grader)
    with Store(tmp_path / "run.sqlite") as store:
        first = await run_bench(_problems(2), BACKEND, None, Config(), store, solver=solver,
                                grader=grader)
        with pytest.raises(BenchError, match="--resume"):
            await run_bench(_problems(2), BACKEND, None, Config(), store, solver=solver,
                            grader=grader)
        again = await run_bench(_problems(3), BACKEND, None, Config(), store, resume=True,
                                solver=solver, grader=grader)
        assert again.session_id == first.session_id == bench_session(store)
        assert again.skipped == ["p1", "p2"] and list(again.outcomes) == ["p3"]
        assert bench_report(store, again.session_id).n_problems == 3  # the run grew
        with pytest.raises(BenchError, match="condition D; resume it with --condition D"):
            await run_bench(_problems(2), BACKEND, None, dataclasses.replace(Config(),
                            condition="C"), store, resume=True, solver=solver, grader=grader)
        with pytest.raises(BenchError, match="unique"):
            await run_bench(_problems(1) * 2, BACKEND, None, Config(), store, resume=True,
                            solver=solver, grader=grader)
        with pytest.raises(BenchError, match="at least 1"):
            await run_bench(_problems(1), BACKEND, None, Config(), store, jobs=0, resume=True)


async def test_errors_are_redone_only_when_asked(tmp_path: Path) -> None:
    grader = SubprocessGrader()
    broken = ScriptedSolver(grader, fail=RuntimeError("server down"))
    with Store(tmp_path / "run.sqlite") as store:
        await run_bench(_problems(1), BACKEND, None, Config(), store, solver=broken, grader=grader)
        kept = await run_bench(_problems(1), BACKEND, None, Config(), store, resume=True,
                               solver=broken, grader=grader)
        assert kept.skipped == ["p1"]
        fixed = PerProblemSolver({"p1"}, grader)
        redone = await run_bench(_problems(1), BACKEND, None, Config(), store, resume=True,
                                 retry_errors=True, solver=fixed, grader=grader)
        assert redone.restarted == ["p1"] and redone.outcomes["p1"].verdict == "AC"
        report = bench_report(store, redone.session_id)
        assert report.n_solved == 1 and [r.attempt for r in report.rows] == [2]


# A bench in its own process: problem p3's solve blocks until a file appears, so the parent
# can kill the process with SIGKILL while p3 is mid-task (p1 and p2 finished, p4 not begun).
BENCH_SCRIPT = textwrap.dedent(
    """
    import asyncio, dataclasses, subprocess, sys
    from pathlib import Path
    from engine import events as ev
    from engine.bench import run_bench
    from engine.llm.scripted import ScriptedBackend
    from engine.pipeline.config import PipelineConfig
    from engine.problems.model import Problem, TestCase, TestKind
    from engine.store import Store

    store_path, release, resume = sys.argv[1], Path(sys.argv[2]), sys.argv[3] == "resume"

    class Result:
        def __init__(self, verdict, passed, total):
            self.verdict, self.passed, self.total = verdict, passed, total

    async def grade(problem, code, sandbox):
        passed = 0
        for test in problem.hidden_tests:
            run = subprocess.run([sys.executable, "-c", code], input=test.input,
                                 capture_output=True, text=True, timeout=60)
            passed += run.stdout.split() == test.expected.split()
        total = len(problem.hidden_tests)
        return Result("AC" if passed == total else "WA", passed, total)

    async def solve(view, backend, sandbox, config, emit, gates=None, lens=None):
        await emit(ev.PhaseStarted(task_id=view.id, phase="probe"))
        for i in range(20):
            await emit(ev.TokenDelta(task_id=view.id, stream_id="g1", text=f"tok{i} "))
        code = "print(int(input()) * 2)"
        await emit(ev.CandidateCreated(task_id=view.id, candidate_id="c1", origin="probe",
                                       code=code))
        while view.id == "p3" and not release.exists():
            await asyncio.sleep(0.01)
        await emit(ev.PhaseFinished(task_id=view.id, phase="probe"))
        await emit(ev.AnswerSubmitted(task_id=view.id, candidate_id="c1", code=code,
                                      phase="probe"))

    base = Problem(id="p", title="Double", statement="Print twice the number.",
                   test_kind=TestKind.STDIN,
                   hidden_tests=(TestCase("5\\n", "10\\n", TestKind.STDIN),))
    problems = [dataclasses.replace(base, id=f"p{i}") for i in range(1, 5)]
    with Store(store_path) as store:
        asyncio.run(run_bench(problems, ScriptedBackend(), None, PipelineConfig.preset("A"),
                              store, jobs=1, resume=resume, solver=solve, grader=grade))
    """
)


def _bench_process(store: Path, release: Path, mode: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", BENCH_SCRIPT, str(store), str(release), mode])


def test_a_bench_killed_mid_task_resumes_without_redoing_finished_tasks(tmp_path: Path
                                                                       ) -> None:
    store_path, release = tmp_path / "run.sqlite", tmp_path / "release"
    proc = _bench_process(store_path, release, "new")
    try:
        deadline = time.monotonic() + 120
        while True:  # wait (not a timed assertion) until p3 is mid-task
            snap = store_attempts(store_path)
            if "p3" in snap and snap["p3"][0][3] >= 23:  # started, tokens, candidate
                break
            assert proc.poll() is None, "the bench process ended early"
            assert time.monotonic() < deadline, f"p3 never started: {snap}"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=60) == -signal.SIGKILL
    finally:
        proc.kill()
        proc.wait()

    before = store_attempts(store_path)
    assert [a[2] for a in before["p1"]] == ["submitted"]
    assert [a[2] for a in before["p2"]] == ["submitted"]
    assert [a[2] for a in before["p3"]] == ["running"] and "p4" not in before

    release.touch()
    resumed = _bench_process(store_path, release, "resume")
    assert resumed.wait(timeout=300) == 0

    after = store_attempts(store_path)
    assert after["p1"] == before["p1"] and after["p2"] == before["p2"]  # not redone, untouched
    assert [(a[1], a[2]) for a in after["p3"]] == [(1, "interrupted"), (2, "submitted")]
    assert after["p3"][0][3] == before["p3"][0][3]  # the cut log is kept as it was
    assert [a[2] for a in after["p4"]] == ["submitted"]

    with Store(store_path) as store:
        assert store.integrity_check() == "ok"
        interrupted = store.state(after["p3"][0][0])
        assert interrupted.status == "running" and "c1" in interrupted.candidates
        assert interrupted.streams["g1"].answer.startswith("tok0 tok1")
        for problem_id in ("p1", "p2", "p4"):
            task_id = after[problem_id][-1][0]
            events = store.events(task_id)
            assert [e.seq for e in events] == list(range(1, len(events) + 1))
            assert isinstance(events[-1], ev.TaskFinished)
        report = bench_report(store, bench_session(store))  # type: ignore[arg-type]
        assert (report.n_problems, report.n_finished, report.n_solved) == (4, 4, 4)
        assert [r.attempt for r in report.rows] == [1, 1, 2, 1]


async def test_the_right_answer_reaches_the_report_through_the_store(tmp_path: Path) -> None:
    grader = SubprocessGrader()
    with Store(tmp_path / "run.sqlite") as store:
        run = await run_bench(_problems(1), BACKEND, None, Config(), store, oracle=False,
                              solver=PerProblemSolver({"p1"}, grader), grader=grader)
        report = bench_report(store, run.session_id)
    assert report.n_solved == 1 and report.oracle_pass_at_k is None
    assert CEILING_LABEL not in report.to_text()
    assert run.outcomes["p1"].submission is not None
    assert run.outcomes["p1"].submission.code == RIGHT
