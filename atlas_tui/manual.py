"""Running a person's program on a problem's examples without a model: the workbench's
"edit a candidate and re-test it" when nothing is solving (or no model is configured).

It is recorded like any task, as events in the store (a task of condition "manual"), so the
panes, the replay and the log all see it the same way.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Literal

from engine import events as ev
from engine.problems.model import Problem, TestCase
from engine.sandbox.interface import TestRunner
from engine.sandbox.types import Program, SandboxLimits
from engine.store import Store
from engine.task import TaskLog


async def retest(
    problem: Problem,
    code: str,
    sandbox: TestRunner,
    *,
    store: Store | None,
    session_id: str | None,
    emit: Callable[[ev.Event], Awaitable[None] | None],
    parent_id: str | None = None,
    extra_tests: Sequence[TestCase] = (),
) -> str:
    """Run `code` on the public examples (and `extra_tests`) under the problem's limits (the
    caller caps them by the person's); returns the task id."""
    task_id = None
    if store is not None and session_id is not None:
        task_id = store.new_task(session_id, problem.id, title=problem.title, condition="manual")
    log = TaskLog(task_id or f"manual-{problem.id}", store=store, forward=emit)
    started = time.monotonic()
    await log.emit(ev.TaskStarted(task_id=log.task_id, title=problem.title, condition="manual",
                                  sandbox_tier=str(getattr(sandbox, "tier", ""))))
    await log.emit(ev.UserAction(task_id=log.task_id, action="edit_candidate",
                                 payload=json.dumps({"parent_id": parent_id})))
    await log.emit(ev.PhaseStarted(task_id=log.task_id, phase="examples"))
    tests = [*problem.public_tests, *extra_tests]
    ids = []
    for number, test in enumerate(tests, 1):
        kind: Literal["public", "user"] = (
            "public" if number <= len(problem.public_tests) else "user")
        test_id = f"{kind[0]}{number}"
        ids.append(test_id)
        await log.emit(ev.TestAdded(task_id=log.task_id, test_id=test_id, kind=kind,
                                    input=test.input, expected=test.expected,
                                    origin=test.origin))
    candidate_id = "edit1"
    await log.emit(ev.CandidateCreated(task_id=log.task_id, candidate_id=candidate_id,
                                       origin="user", code=code, label="your edit"))
    program = Program(code=code, kind=problem.test_kind, func_name=problem.func_name,
                      test_setup=problem.test_setup, atol=problem.atol)
    status: Literal["no_answer", "error"] = "no_answer"  # a check: nothing is submitted
    if tests:
        try:
            # the limits the pipeline runs candidates under (engine.pipeline.context.Run):
            # the problem's, already capped by the person's [limits]
            limits = SandboxLimits(wall_s=problem.limits.time_s,
                                   memory_mb=problem.limits.memory_mb)
            result = await sandbox.run(program, tests, limits)
        except Exception as exc:
            await log.emit(ev.ErrorRaised(task_id=log.task_id, where="sandbox",
                                          message=f"{type(exc).__name__}: {exc}"))
            status = "error"
        else:
            for test_id, outcome in zip(ids, result.tests, strict=False):
                await log.emit(ev.TestRun(
                    task_id=log.task_id, candidate_id=candidate_id, test_id=test_id,
                    verdict=str(outcome.verdict), got=outcome.got, expected=outcome.expected,
                    time_s=outcome.time_s, detail=outcome.detail,
                ))
    await log.emit(ev.PhaseFinished(task_id=log.task_id, phase="examples",
                                    elapsed_s=time.monotonic() - started))
    await log.emit(ev.TaskFinished(task_id=log.task_id, status=status,
                                   elapsed_s=time.monotonic() - started))
    return log.task_id
