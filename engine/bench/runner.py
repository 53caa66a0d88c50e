"""Many tasks against one backend and one sandbox, with bounded concurrency and resume.

A run is one session in a store file. Each problem gets a task; `resume` continues the run
kept in the file: problems whose latest attempt finished are not redone, and a task that
stopped mid-way (its process was killed, or the run was cancelled) is marked "interrupted"
and started again as a new attempt, so its half-written log stays readable but never counts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.llm.base import Backend
from engine.problems.model import Problem
from engine.sandbox.interface import TestRunner
from engine.store import Store, TaskInfo
from engine.task import Emit, Grader, Solver, TaskOutcome, run_task

if TYPE_CHECKING:  # as in engine.task: the pipeline is imported when a task runs
    from engine.lens.interface import EnergyScorer
    from engine.pipeline.config import PipelineConfig

BENCH_KIND = "bench"
DONE_STATUSES = frozenset({"submitted", "no_answer"})  # "error" too unless retry_errors


class BenchError(RuntimeError):
    """The run cannot start as asked (a clear message for the command line)."""


@dataclass(slots=True)
class BenchRun:
    session_id: str
    skipped: list[str] = field(default_factory=list)  # problem ids finished before this run
    restarted: list[str] = field(default_factory=list)  # interrupted attempts begun again
    outcomes: dict[str, TaskOutcome] = field(default_factory=dict)  # problem id -> this run's


def bench_session(store: Store) -> str | None:
    """The benchmark run kept in `store` (the latest one), if any."""
    sessions = store.sessions(BENCH_KIND)
    return sessions[-1].session_id if sessions else None


async def run_bench(
    problems: Sequence[Problem],
    backend: Backend,
    sandbox: TestRunner,
    config: PipelineConfig,
    store: Store,
    *,
    jobs: int = 1,
    resume: bool = False,
    retry_errors: bool = False,
    oracle: bool = True,
    lens: EnergyScorer | None = None,
    title: str = "",
    meta: dict[str, Any] | None = None,
    emit: Emit | None = None,
    on_task_start: Callable[[Problem, str], None] | None = None,
    on_task_done: Callable[[Problem, TaskOutcome], None] | None = None,
    solver: Solver | None = None,
    grader: Grader | None = None,
) -> BenchRun:
    """Solve and grade every problem, `jobs` at a time, recording everything in `store`."""
    if jobs < 1:
        raise BenchError(f"--jobs must be at least 1, not {jobs}")
    ids = [p.id for p in problems]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise BenchError(f"problem ids must be unique in a run; repeated: {duplicates[:5]}")

    session_id = bench_session(store)
    if session_id is not None and not resume:
        raise BenchError(
            f"{store.path} already holds a run; pass --resume to continue it or choose another"
            " --out file"
        )
    condition = config.condition
    if session_id is None:
        run_meta = {"problems": ids, "condition": condition, "problem_info": problem_info(problems)}
        session_id = store.new_session(BENCH_KIND, title, {**run_meta, **(meta or {})})
    else:
        _extend_run(store, session_id, problems, condition)
    run = BenchRun(session_id)

    latest = _latest_attempts(store.tasks(session_id))
    done = DONE_STATUSES if retry_errors else DONE_STATUSES | {"error"}
    todo: list[Problem] = []
    for problem in problems:
        previous = latest.get(problem.id)
        if previous is not None and previous.status in done:
            run.skipped.append(problem.id)
            continue
        if previous is not None:
            store.mark_interrupted(previous.task_id)
            run.restarted.append(problem.id)
        todo.append(problem)

    queue: asyncio.Queue[Problem] = asyncio.Queue()
    for problem in todo:
        queue.put_nowait(problem)

    async def worker() -> None:
        while True:
            try:
                problem = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            task_id = store.new_task(session_id, problem.id, title=problem.title,
                                     condition=condition)
            if on_task_start is not None:
                on_task_start(problem, task_id)
            outcome = await run_task(
                problem, backend, sandbox, config, store=store, emit=emit, task_id=task_id,
                oracle=oracle, lens=lens, solver=solver, grader=grader,
            )
            run.outcomes[problem.id] = outcome
            if on_task_done is not None:
                on_task_done(problem, outcome)

    workers = [asyncio.create_task(worker()) for _ in range(min(jobs, len(todo)))]
    try:
        await asyncio.gather(*workers)
    except BaseException:
        for w in workers:
            w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        raise
    return run


def problem_info(problems: Sequence[Problem]) -> dict[str, dict[str, str]]:
    """What the report groups results by (difficulty, platform), kept in the run's session so
    its report needs no dataset file."""
    info: dict[str, dict[str, str]] = {}
    for problem in problems:
        fields = {"difficulty": problem.difficulty or "",
                  "platform": str(problem.metadata.get("platform") or "")}
        info[problem.id] = {k: v for k, v in fields.items() if v}
    return info


def _extend_run(store: Store, session_id: str, problems: Sequence[Problem], condition: str
                ) -> None:
    """Resuming: the same condition, and problems not in the run yet are added to it."""
    session = store.session(session_id)
    assert session is not None
    kept = str(session.meta.get("condition", ""))
    if kept and kept != condition:
        raise BenchError(
            f"{store.path} holds a run of condition {kept}; resume it with --condition {kept}"
            " (or choose another --out file for condition " + condition + ")"
        )
    known = list(session.meta.get("problems") or [])
    added = [p for p in problems if p.id not in set(known)]
    if added:
        info = {**(session.meta.get("problem_info") or {}), **problem_info(added)}
        store.update_session_meta(session_id, {**session.meta, "problems": known +
                                               [p.id for p in added], "problem_info": info})


def _latest_attempts(tasks: Sequence[TaskInfo]) -> dict[str, TaskInfo]:
    latest: dict[str, TaskInfo] = {}
    for task in tasks:
        if task.problem_id not in latest or task.attempt > latest[task.problem_id].attempt:
            latest[task.problem_id] = task
    return latest

