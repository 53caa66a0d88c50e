"""MBPP in its three shapes.

- Original (`text`, `code`, `test_list`, `test_setup_code`): the candidate runs, then the setup
  code, then each assert (one test per assert). The usual MBPP prompt shows the first assert so
  the solver learns the function's name and signature: that assert is the public test and is
  written into the statement; the others are hidden. `challenge_test_list` is kept in metadata
  (the reference programs are not graded on it upstream).
- Sanitized (`prompt`, `code`, `test_list`, `test_imports`): the same, imports as setup.
- MBPP+ (`prompt`, `entry_point`, `canonical_solution`, `base_input`, `plus_input`, `atol`):
  functional tests whose expected outputs come from running the reference. Loading stays fast
  and pure: each test carries its arguments and an empty `expected` with origin "reference",
  and the grader fills the expected values by running `references[0]` in the sandbox once per
  problem (see engine.grading.references). The first base input is public (the prompt's own
  assert shows it), the rest hidden.
"""

from __future__ import annotations

import json
import re
from typing import Any

from engine.problems.fields import (
    RowError,
    check_statement,
    opt_str,
    req_list,
    req_str,
    row_id,
    str_list,
)
from engine.problems.model import Problem, Source, TestCase, TestKind

NEEDS_REFERENCE = "reference"  # TestCase.origin of a test whose expected output is not known yet


def looks_like_plus(row: dict[str, Any]) -> bool:
    return "base_input" in row or "plus_input" in row


def looks_like_original(row: dict[str, Any]) -> bool:
    return "test_list" in row and "code" in row and ("text" in row or "prompt" in row)


def parse_original(row: dict[str, Any], source: Source) -> Problem:
    """Original and sanitized MBPP (sanitized says `prompt` and `test_imports`)."""
    sanitized = "test_imports" in row or "text" not in row
    text = req_str(row, "prompt" if sanitized else "text")
    asserts = str_list(row, "test_list")
    if not asserts:
        raise RowError("field 'test_list' is empty")
    setup = (
        "\n".join(str_list(row, "test_imports", required=False))
        if sanitized
        else opt_str(row, "test_setup_code")
    )
    fallback = f"{source.format}/{source.row}"
    task_id = row_id(row, "task_id", fallback)
    tests = [TestCase(input=a, expected="", kind=TestKind.ASSERT) for a in asserts]
    code = opt_str(row, "code")
    return Problem(
        id=f"mbpp/{task_id}",
        title=f"MBPP {task_id}",
        statement=check_statement(f"{text.strip()}\n\nYour code should pass this test:\n\n"
                                  f"{asserts[0]}\n"),
        test_kind=TestKind.ASSERT,
        public_tests=(TestCase(asserts[0], "", TestKind.ASSERT, origin="statement"),),
        hidden_tests=tuple(tests[1:]),
        func_name=_called_name(asserts[0]),
        test_setup=setup,
        source=source,
        references=(code,) if code.strip() else (),
        metadata={"challenge_test_list": row.get("challenge_test_list") or []},
    )


def parse_plus(row: dict[str, Any], source: Source) -> Problem:
    task_id = req_str(row, "task_id")
    entry_point = req_str(row, "entry_point")
    solution = req_str(row, "canonical_solution")
    inputs = req_list(row, "base_input") + (row.get("plus_input") or [])
    if not isinstance(row.get("plus_input") or [], list):
        raise RowError("field 'plus_input' should be a list")
    atol = row.get("atol") or 0
    if isinstance(atol, bool) or not isinstance(atol, int | float):
        raise RowError(f"field 'atol' should be a number, got {type(atol).__name__}")
    tests = []
    for i, args in enumerate(inputs):
        if not isinstance(args, list):
            raise RowError(f"input {i} should be a list of arguments, got {type(args).__name__}")
        try:
            lines = "\n".join(json.dumps(arg) for arg in args)
        except (TypeError, ValueError) as exc:
            raise RowError(f"input {i} is not JSON-serialisable: {exc}") from exc
        tests.append(TestCase(lines, "", TestKind.FUNCTIONAL, origin=NEEDS_REFERENCE))
    if not tests:
        raise RowError("no inputs in 'base_input' or 'plus_input'")
    return Problem(
        id=task_id,
        title=f"{task_id}: {entry_point}",
        statement=check_statement(req_str(row, "prompt")),
        test_kind=TestKind.FUNCTIONAL,
        public_tests=tuple(tests[:1]),
        hidden_tests=tuple(tests[1:]),
        func_name=entry_point,
        atol=float(atol) if atol else None,
        source=source,
        references=(solution,),
        metadata={"n_base": len(row["base_input"])},
    )


def _called_name(assert_line: str) -> str | None:
    """The function an MBPP assert calls: `assert set(f(x)) == ...` -> "f"."""
    names = re.findall(r"([A-Za-z_]\w*)\s*\(", assert_line)
    builtins = {"set", "sorted", "list", "tuple", "math", "isclose", "abs", "round", "str",
                "int", "float", "len", "frozenset", "dict", "bool"}
    for name in names:
        if name not in builtins:
            return name
    return None
