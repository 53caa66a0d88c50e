"""What grading one submitted answer found."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.sandbox.types import TestResult, Verdict

NO_TESTS = "NO_TESTS"  # the verdict text of a task that has no tests at all: not a pass
NO_CODE = "no program found in the answer"


@dataclass(frozen=True, slots=True)
class GradeResult:
    """`verdict` is None when the problem has no tests; `tests_used` says which tests ran:
    "all" (public then hidden, as LiveCodeBench grades), "public" (the problem has no hidden
    tests, so the grader fell back to its public ones), "none"."""

    task_id: str
    verdict: Verdict | None
    passed: int
    total: int
    tests: tuple[TestResult, ...] = ()
    time_s: float = 0.0
    tests_used: str = "all"
    detail: str = ""
    tier: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        return self.verdict is Verdict.AC

    @property
    def no_tests(self) -> bool:
        return self.verdict is None

    @property
    def used_public_fallback(self) -> bool:
        return self.tests_used == "public"

    @property
    def status(self) -> str:
        """The verdict as text, NO_TESTS for a task without tests."""
        return NO_TESTS if self.verdict is None else self.verdict.value

    def to_json(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "verdict": self.status,
            "passed": self.passed,
            "total": self.total,
            "tests_used": self.tests_used,
            "time_s": round(self.time_s, 4),
            "detail": self.detail,
            "tier": self.tier,
            "tests": [
                {
                    "index": t.index,
                    "verdict": t.verdict.value,
                    "time_s": round(t.time_s, 4),
                    "peak_memory_mb": round(t.peak_memory_mb, 1),
                    "detail": t.detail,
                }
                for t in self.tests
            ],
        }
