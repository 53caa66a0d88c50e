"""MBPP, original and sanitized.

- Original (`text`, `code`, `test_list`, `test_setup_code`): the candidate runs, then the setup
  code, then each assert (one test per assert). The usual MBPP prompt shows the first assert so
  the solver learns the function's name and signature: that assert is the public test and is
  written into the statement; the others are hidden. `challenge_test_list` is kept in metadata
  (the reference programs are not graded on it upstream).
- Sanitized (`prompt`, `code`, `test_list`, `test_imports`): the same, imports as setup.
MBPP+ lives in engine.problems.mbpp_plus.
"""

from __future__ import annotations

import re
from typing import Any

from engine.problems.fields import (
    RowError,
    check_statement,
    opt_str,
    req_str,
    row_id,
    str_list,
)
from engine.problems.model import Problem, Source, TestCase, TestKind


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


def _called_name(assert_line: str) -> str | None:
    """The function an MBPP assert calls: `assert set(f(x)) == ...` -> "f"."""
    names = re.findall(r"([A-Za-z_]\w*)\s*\(", assert_line)
    builtins = {"set", "sorted", "list", "tuple", "math", "isclose", "abs", "round", "str",
                "int", "float", "len", "frozenset", "dict", "bool"}
    for name in names:
        if name not in builtins:
            return name
    return None
