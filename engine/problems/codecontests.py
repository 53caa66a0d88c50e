"""CodeContests rows, in both shapes found in the wild.

- DeepMind's own (`name`, `description`, `public_tests`, `private_tests`, `generated_tests`, each
  {input: [...], output: [...]}): public tests are public, private and generated hidden.
- The rllm repacking (`problem`, `tests` as {input: [...], output: [...]} or as a list of
  {input, output}): one list; the statement's examples are public, the rest hidden.
All are stdin programs. Rows without an id get "<file stem>/<row>".
"""

from __future__ import annotations

import re
from typing import Any

from engine.problems.examples import split_shown
from engine.problems.fields import RowError, check_statement, req_str
from engine.problems.model import Limits, Problem, Source, TestCase, TestKind

# "Time Limit: {'seconds': 2, 'nanos': 0}" (DeepMind) or "Time Limit: 2000 ms" (rllm Codeforces)
_TIME = re.compile(r"Time Limit:\s*(?:\{'seconds':\s*(\d+)|(\d+)\s*ms)")


def looks_like(row: dict[str, Any]) -> bool:
    return ("tests" in row and "problem" in row) or (
        "description" in row and ("public_tests" in row or "private_tests" in row)
    )


def parse(row: dict[str, Any], source: Source, stem: str) -> Problem:
    fallback = f"{stem}/{source.row}"
    if "description" in row:
        statement = check_statement(req_str(row, "description"))
        public = _tests(row.get("public_tests"), "public_tests", "statement")
        hidden = _tests(row.get("private_tests"), "private_tests", "dataset") + _tests(
            row.get("generated_tests"), "generated_tests", "dataset"
        )
        problem_id = str(row.get("name") or fallback)
    else:
        statement = check_statement(req_str(row, "problem"))
        public, hidden = split_shown(statement, _tests(row.get("tests"), "tests", "dataset"))
        problem_id = fallback
    title = problem_id
    match = _TIME.search(statement)
    limits = Limits()
    if match:  # the statement's own time limit, never below LiveCodeBench's generous default
        seconds = float(match.group(1)) if match.group(1) else int(match.group(2)) / 1000
        limits = Limits(time_s=max(limits.time_s, seconds))
    return Problem(
        id=problem_id,
        title=title,
        statement=statement,
        test_kind=TestKind.STDIN,
        public_tests=public,
        hidden_tests=hidden,
        limits=limits,
        source=source,
    )


def _tests(field: object, name: str, origin: str) -> tuple[TestCase, ...]:
    if field is None:
        return ()
    pairs: list[tuple[object, object]]
    if isinstance(field, dict):
        inputs, outputs = field.get("input", []), field.get("output", [])
        if not isinstance(inputs, list) or not isinstance(outputs, list) or len(inputs) != len(
            outputs
        ):
            raise RowError(f"field {name!r} needs equal-length lists 'input' and 'output'")
        pairs = list(zip(inputs, outputs, strict=True))
    elif isinstance(field, list):
        pairs = []
        for i, test in enumerate(field):
            if not isinstance(test, dict):
                raise RowError(f"{name}[{i}] should be an object with 'input' and 'output'")
            pairs.append((test.get("input"), test.get("output")))
    else:
        raise RowError(f"field {name!r} should be an object or a list, got {type(field).__name__}")
    tests = []
    for i, (inp, out) in enumerate(pairs):
        if not isinstance(inp, str) or not isinstance(out, str):
            raise RowError(f"{name} test {i}: input and output should be strings")
        tests.append(TestCase(inp, out, TestKind.STDIN, origin=origin))
    return tuple(tests)
