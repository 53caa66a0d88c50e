"""Problems: the model and the loaders for every format `load(path)` detects."""

from engine.problems.loader import load
from engine.problems.model import (
    Limits,
    LoadError,
    LoadResult,
    Problem,
    ProblemView,
    Source,
    TestCase,
    TestKind,
)

__all__ = [
    "Limits",
    "LoadError",
    "LoadResult",
    "Problem",
    "ProblemView",
    "Source",
    "TestCase",
    "TestKind",
    "load",
]
