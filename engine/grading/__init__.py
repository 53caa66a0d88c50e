"""Grading: runs hidden tests on one submitted answer per task, after submission."""

from engine.grading.grader import grade, limits_for
from engine.grading.result import NO_TESTS, GradeResult

__all__ = ["NO_TESTS", "GradeResult", "grade", "limits_for"]
