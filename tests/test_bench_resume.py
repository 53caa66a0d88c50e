"""Resume with every real part: a real process runs the benchmark through the real pipeline
(condition D), the real sandbox and the real grader, with the scripted test-double model; it is
killed with SIGKILL while one problem's model call is under way, and a second process resumes
the run from the store."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from support.bench_store import attempts as store_attempts

from engine import events as ev
from engine.bench import bench_report, bench_session
from engine.store import Store

BENCH = textwrap.dedent(
    """
    import asyncio, sys, time
    from pathlib import Path
    from engine.bench import run_bench
    from engine.llm.scripted import ScriptedBackend
    from engine.pipeline.config import PipelineConfig
    from engine.problems.model import Problem, TestCase, TestKind
    from engine.sandbox import Sandbox
    from engine.store import Store

    store_path, release, resume = sys.argv[1], Path(sys.argv[2]), sys.argv[3] == "resume"

    def answer(prompt):
        # problem p3's first model call hangs until the test lets it go (or kills us)
        while "[problem p3]" in prompt and not release.exists():
            time.sleep(0.01)
        return "<think>Twice n.</think>\\n```python\\nprint(int(input()) * 2)\\n```"

    def problem(i):
        return Problem(
            id=f"p{i}", title=f"Double {i}", test_kind=TestKind.STDIN,
            statement=f"[problem p{i}] Read one integer n and print 2*n.",
            public_tests=(TestCase("2\\n", "4\\n", TestKind.STDIN, origin="statement"),),
            hidden_tests=(TestCase("5\\n", "10\\n", TestKind.STDIN),
                          TestCase("-1\\n", "-2\\n", TestKind.STDIN)),
        )

    async def main():
        sandbox = await Sandbox.create()
        try:
            with Store(store_path) as store:
                await run_bench([problem(i) for i in range(1, 5)],
                                ScriptedBackend(default=answer), sandbox,
                                PipelineConfig.preset("D", max_tokens=256), store, jobs=1,
                                resume=resume)
        finally:
            await sandbox.close()

    asyncio.run(main())
    """
)


def _start(store: Path, release: Path, mode: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", BENCH, str(store), str(release), mode],
                            start_new_session=True)


def _p3_waits_on_the_model(path: Path) -> bool:
    attempts = store_attempts(path).get("p3")
    if not attempts:
        return False
    with Store(path, readonly=True) as store:
        return any(isinstance(e, ev.GenerationStarted) for e in store.events(attempts[0][0]))


def test_a_real_bench_killed_mid_task_resumes_where_it_stopped(tmp_path: Path) -> None:
    store_path, release = tmp_path / "run.sqlite", tmp_path / "release"
    proc = _start(store_path, release, "new")
    try:
        deadline = time.monotonic() + 240
        while not _p3_waits_on_the_model(store_path):  # a wait for a real process
            assert proc.poll() is None, "the bench ended before p3 began"
            assert time.monotonic() < deadline, f"p3 never began: {store_attempts(store_path)}"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)  # the bench process only, as an OOM kill would
        assert proc.wait(timeout=60) == -signal.SIGKILL
    finally:
        proc.kill()
        proc.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # sandbox workers it left behind

    before = store_attempts(store_path)
    assert [a[2] for a in before["p1"]] == ["submitted"]
    assert [a[2] for a in before["p2"]] == ["submitted"]
    assert [a[2] for a in before["p3"]] == ["running"] and "p4" not in before

    release.touch()
    resumed = _start(store_path, release, "resume")
    try:
        assert resumed.wait(timeout=300) == 0
    finally:
        resumed.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(resumed.pid, signal.SIGKILL)

    after = store_attempts(store_path)
    assert after["p1"] == before["p1"] and after["p2"] == before["p2"]  # not redone
    assert [(a[1], a[2]) for a in after["p3"]] == [(1, "interrupted"), (2, "submitted")]
    assert after["p3"][0][3] == before["p3"][0][3]  # the cut log is kept as it was
    assert [a[2] for a in after["p4"]] == ["submitted"]

    with Store(store_path) as store:
        assert store.integrity_check() == "ok"
        for problem_id in ("p1", "p2", "p3", "p4"):
            task_id = after[problem_id][-1][0]
            events = store.events(task_id)
            assert [e.seq for e in events] == list(range(1, len(events) + 1))
            state = store.state(task_id)
            assert state.finished and state.graded is not None and state.graded.solved
        report = bench_report(store, bench_session(store))  # type: ignore[arg-type]
        assert (report.n_problems, report.n_finished, report.n_solved) == (4, 4, 4)
        assert [r.attempt for r in report.rows] == [1, 1, 2, 1]
