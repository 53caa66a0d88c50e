"""Grade one submitted answer on a problem's tests, after submission.

The grader runs the public tests and then the hidden ones (LiveCodeBench grades on both); a
problem without hidden tests is graded on its public tests and the result says so; a problem
with no tests at all gets no verdict, never a pass.
"""

from __future__ import annotations

import dataclasses
import time

from engine.grading.references import with_reference_outputs
from engine.grading.result import NO_CODE, GradeResult
from engine.problems.judges import unavailable
from engine.problems.model import Problem, TestCase, TestKind, with_prelude
from engine.sandbox.interface import TestRunner
from engine.sandbox.types import Program, RunResult, SandboxLimits, Verdict


def limits_for(problem: Problem, timeout_s: float | None = None) -> SandboxLimits:
    """The sandbox limits a problem asks for; `timeout_s` overrides its time limit."""
    return SandboxLimits(wall_s=timeout_s or problem.limits.time_s,
                         memory_mb=problem.limits.memory_mb)


async def grade(
    problem: Problem,
    code: str | None,
    sandbox: TestRunner,
    *,
    limits: SandboxLimits | None = None,
    public_only: bool = False,
    stop_on_first_failure: bool = False,
) -> GradeResult:
    """Run `code` on the problem's tests in `sandbox` (an engine.sandbox.Sandbox).

    `code` None means no program could be extracted from the answer: a CE without running.
    `public_only` grades the public tests alone (for checks against published public-test
    verdicts); the result then says "public". `stop_on_first_failure` skips the tests after the
    first failing one (faster; `passed` then counts only the tests that ran).
    """
    started = time.perf_counter()
    limits = limits or limits_for(problem)
    problem, dropped = await with_reference_outputs(problem, sandbox, limits)
    extra = {"dropped_reference_failures": dropped} if dropped else {}
    if public_only or not problem.hidden_tests:
        tests, used = problem.public_tests, "public"
    else:
        tests, used = problem.public_tests + problem.hidden_tests, "all"
    if not tests:
        return GradeResult(problem.id, None, 0, 0, tests_used="none",
                           detail="the problem has no tests", extra=extra)
    if code is None or not code.strip():
        return GradeResult(problem.id, Verdict.CE, 0, len(tests), tests_used=used,
                           detail=NO_CODE, time_s=time.perf_counter() - started, extra=extra)
    run = await _run_by_kind(problem, with_prelude(problem.prelude, code), tests, sandbox,
                             limits, stop_on_first_failure)
    return GradeResult(
        task_id=problem.id,
        verdict=run.verdict,
        passed=run.n_passed,
        total=len(tests),
        tests=run.tests,
        time_s=time.perf_counter() - started,
        tests_used=used,
        detail=run.detail,
        tier=run.tier.value,
        extra=extra,
    )


async def _run_by_kind(problem: Problem, code: str, tests: tuple[TestCase, ...],
                       sandbox: TestRunner, limits: SandboxLimits, stop_on_first_failure: bool
                       ) -> RunResult:
    """Run the tests, each kind through its own harness: a LeetCodeDataset problem has
    functional examples and an assert-style hidden check. One kind is one sandbox call."""
    groups: dict[TestKind, list[TestCase]] = {}
    for test in tests:
        groups.setdefault(test.kind, []).append(test)
    results: list[RunResult] = []
    for kind, group in groups.items():
        program = Program(code=code, kind=kind, func_name=problem.func_name,
                          test_setup=problem.test_setup, atol=problem.atol,
                          hidden_modules=unavailable(problem.libraries))
        result = await sandbox.run(program, group, limits,
                                   stop_on_first_failure=stop_on_first_failure)
        results.append(result)
        if stop_on_first_failure and not result.passed:
            break
    if len(results) == 1:
        return results[0]
    failed = next((r for r in results if not r.passed), None)
    return RunResult(
        verdict=failed.verdict if failed else Verdict.AC,
        tests=tuple(dataclasses.replace(t, index=i)
                    for i, t in enumerate(t for r in results for t in r.tests)),
        tier=results[-1].tier,
        detail=failed.detail if failed else "",
    )
