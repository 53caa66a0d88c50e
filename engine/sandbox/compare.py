"""Output comparison as LiveCodeBench's grader does it.

Stdin programs: the whole output is stripped and split into lines, each line stripped; the
line counts must agree; each line must be equal as text or, failing that, element-wise equal as
decimal numbers (so "1.50" matches "1.5", and 50000000000000000 never matches
50000000000000001, which float closeness would allow). MBPP+ passes an absolute tolerance.

Functional tests compare the JSON return value with the expected JSON value (a tuple answer has
already been turned into a list by the harness).
"""

from __future__ import annotations

import json
import math
from decimal import Decimal, InvalidOperation
from typing import Any


def stripped_lines(text: str) -> list[str]:
    return [line.strip() for line in text.strip().split("\n")]


def _decimals(line: str) -> list[Decimal] | None:
    try:
        return [Decimal(token) for token in line.split()]
    except InvalidOperation:
        return None


def _close(a: Decimal, b: Decimal, atol: float) -> bool:
    if a.is_nan() or b.is_nan():
        return a.is_nan() and b.is_nan()
    if a.is_infinite() or b.is_infinite():
        return a == b
    return abs(a - b) <= Decimal(repr(atol))


def compare_outputs(expected: str, got: str, atol: float | None = None) -> tuple[bool, str]:
    """(match, reason); the reason says where the first difference is."""
    want = stripped_lines(expected)
    have = stripped_lines(got)
    if len(want) != len(have):
        return False, f"expected {len(want)} line(s), got {len(have)}"
    for number, (w, h) in enumerate(zip(want, have, strict=True), start=1):
        if w == h:
            continue
        w_dec, h_dec = _decimals(w), _decimals(h)
        if w_dec is None or h_dec is None or len(w_dec) != len(h_dec):
            return False, f"line {number}: {_short(h)!r} != {_short(w)!r}"
        try:
            if atol is None:
                if w_dec == h_dec:
                    continue
            elif all(_close(x, y, atol) for x, y in zip(w_dec, h_dec, strict=True)):
                continue
        except InvalidOperation:  # a signalling NaN refuses to be compared
            pass
        return False, f"line {number}: {_short(h)!r} != {_short(w)!r}"
    return True, ""


def outputs_match(expected: str, got: str, atol: float | None = None) -> bool:
    return compare_outputs(expected, got, atol)[0]


def values_match(expected: Any, got: Any, atol: float | None = None) -> bool:
    """Functional tests: Python equality of the decoded JSON values, or closeness within atol
    for numbers (element-wise through lists and dicts) when a tolerance is given."""
    if atol is None:
        return bool(expected == got)
    if isinstance(expected, bool) or isinstance(got, bool):
        return expected == got
    if isinstance(expected, int | float) and isinstance(got, int | float):
        if math.isnan(expected) or math.isnan(got):
            return math.isnan(expected) and math.isnan(got)
        return expected == got or abs(expected - got) <= atol
    if isinstance(expected, list) and isinstance(got, list):
        return len(expected) == len(got) and all(
            values_match(e, g, atol) for e, g in zip(expected, got, strict=True)
        )
    if isinstance(expected, dict) and isinstance(got, dict):
        return expected.keys() == got.keys() and all(
            values_match(expected[k], got[k], atol) for k in expected
        )
    return bool(expected == got)


def compare_values(
    expected_json: str, got_json: str, atol: float | None = None
) -> tuple[bool, str]:
    """(match, reason) for a functional test's JSON expected value and JSON return value."""
    try:
        expected = json.loads(expected_json)
    except ValueError as exc:
        return False, f"expected value is not JSON: {exc}"
    got = json.loads(got_json)
    if values_match(expected, got, atol):
        return True, ""
    return False, f"returned {_short(got_json)} != expected {_short(expected_json)}"


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit // 2] + "..." + text[-limit // 2 :]
