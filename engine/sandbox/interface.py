"""The sandbox as the solver and the grader see it: one call, run a program on many tests.
`engine.sandbox.Sandbox` provides it; the pipeline (`engine.pipeline.runner.solve`), the task
(`engine.task.run_task`) and the grader take any runner with the same signature, so a remote
executor can replace the local sandbox and tests can pass their own."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from engine.problems.model import TestCase
from engine.sandbox.types import Program, RunResult, SandboxLimits


class TestRunner(Protocol):
    """Runs `program` on `tests` under `limits` (the sandbox's defaults when None) and judges
    each (with `compare`, against its expected output)."""

    if not TYPE_CHECKING:  # for pytest, not a test class; for mypy, not a protocol member
        __test__ = False

    async def run(
        self,
        program: Program,
        tests: Sequence[TestCase],
        limits: SandboxLimits | None = None,
        *,
        stop_on_first_failure: bool = False,
        compare: bool = True,
    ) -> RunResult: ...
