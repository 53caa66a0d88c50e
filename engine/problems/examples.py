"""Which dataset tests a statement already shows: those may be public.

Datasets such as APPS and CodeContests mix the statement's examples into one list of tests.
A test counts as an example when its input and then its output both appear, in that order, in
the statement text (whitespace-insensitive): a solver reading the statement sees exactly that.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from engine.problems.model import TestCase

_SPACE = re.compile(r"\s+")


def _norm(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def split_shown(
    statement: str, tests: Sequence[TestCase]
) -> tuple[tuple[TestCase, ...], tuple[TestCase, ...]]:
    """(tests the statement shows, the others), each keeping its order."""
    text = _norm(statement)
    shown: list[TestCase] = []
    rest: list[TestCase] = []
    for test in tests:
        inp, out = _norm(test.input), _norm(test.expected)
        at = text.find(inp) if inp else -1
        if at >= 0 and out and text.find(out, at + len(inp)) >= 0:
            shown.append(TestCase(test.input, test.expected, test.kind, origin="statement"))
        else:
            rest.append(test)
    return tuple(shown), tuple(rest)
