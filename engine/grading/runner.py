"""The one sandbox call the grader needs, as a protocol: engine.sandbox.Sandbox provides it,
and the grader stays testable against any runner with the same signature."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from engine.problems.model import TestCase
from engine.sandbox.types import Program, RunResult, SandboxLimits


class TestRunner(Protocol):
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
