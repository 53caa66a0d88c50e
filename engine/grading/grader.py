"""Grade one submitted answer on a problem's tests, after submission.

The grader runs the public tests and then the hidden ones (LiveCodeBench grades on both); a
problem without hidden tests is graded on its public tests and the result says so; a problem
with no tests at all gets no verdict, never a pass.
"""

from __future__ import annotations

import time

from engine.grading.references import with_reference_outputs
from engine.grading.result import NO_CODE, GradeResult
from engine.grading.runner import TestRunner
from engine.problems.model import Problem
from engine.sandbox.types import Program, SandboxLimits, Verdict


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
    program = Program(code=code, kind=problem.test_kind, func_name=problem.func_name,
                      test_setup=problem.test_setup, atol=problem.atol)
    run = await sandbox.run(program, tests, limits, stop_on_first_failure=stop_on_first_failure)
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
