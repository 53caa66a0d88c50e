"""After a run: how many of the self-tests the pipeline kept were right?

A kept self-test is an input and the expected output the pipeline trusted because independent
generations and candidates agreed on it. Whether it was right is only knowable with the
dataset's reference solution, which the solver never sees: here the reference runs on each kept
test's input in the sandbox and the test counts as correct when the reference's output matches
the kept expected output (by the same comparison the pipeline used). A reference that fails on
an input (the model wrote an input outside the problem's constraints) makes that test not
correct. This runs only in reports, after the run, and never feeds back into solving.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.bench.analysis import analyse_task
from engine.bench.report import BenchReport
from engine.grading.grader import limits_for
from engine.problems.judges import unavailable
from engine.problems.model import Problem, TestCase, TestKind, with_prelude
from engine.sandbox.types import Program
from engine.store import Store


@dataclass(frozen=True, slots=True)
class SelfTestCheck:
    problem_id: str
    checked: int
    correct: int


async def check_selftests(store: Store, report: BenchReport, problems: Mapping[str, Problem],
                          sandbox: Any) -> tuple[BenchReport, list[SelfTestCheck]]:
    """The report with `selftests_checked` / `selftests_correct` filled in (problems without a
    reference, or whose tests cannot be run as the pipeline ran them, are not counted), and
    the figures per problem."""
    checks = []
    for row in report.rows:
        problem = problems.get(row.problem_id)
        task = store.task(row.task_id)
        if problem is None or not problem.references or task is None or not task.finished:
            continue
        kind = _generated_kind(problem)
        kept = analyse_task(store, task).selftests_kept
        if kind is None or not kept:
            continue
        tests = [TestCase(t.input, t.expected, kind, origin="self-test") for t in kept]
        program = Program(code=with_prelude(problem.prelude, problem.references[0]), kind=kind,
                          func_name=problem.func_name, atol=problem.atol,
                          hidden_modules=unavailable(problem.libraries))
        result = await sandbox.run(program, tests, limits_for(problem))
        checks.append(SelfTestCheck(row.problem_id, len(tests), result.n_passed))
    checked = dataclasses.replace(
        report,
        selftests_checked=sum(c.checked for c in checks),
        selftests_correct=sum(c.correct for c in checks),
    )
    return checked, checks


def _generated_kind(problem: Problem) -> TestKind | None:
    """How the pipeline ran the tests it wrote (engine.pipeline.context.Run.generated_kind)."""
    if problem.test_kind is TestKind.STDIN:
        return TestKind.STDIN
    return TestKind.FUNCTIONAL if problem.func_name else None
