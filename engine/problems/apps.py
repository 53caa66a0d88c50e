"""APPS rows, and the MapCoder `selected150` repacking of them.

- APPS (`question`, `input_output` = JSON {inputs, outputs, fn_name?}, `solutions`,
  `starter_code`): with `fn_name` the tests are functional (each input a list of arguments; the
  expected value is unwrapped from APPS's one-element list when every output is so wrapped, the
  Codewars convention APPS's own checker accepts); otherwise stdin. The statement's examples
  (tests whose input and output the question text shows) are public, the rest hidden.
- MapCoder selected150 (`description`, `sample_io`, `test_list`): MapCoder judges every problem
  as a stdin program (input on stdin, the first listed output on stdout), so that is how they
  load; `sample_io` is public and `test_list` hidden.
"""

from __future__ import annotations

import json
from typing import Any

from engine.problems.examples import split_shown
from engine.problems.fields import RowError, check_statement, opt_str, req_list, req_str, row_id
from engine.problems.model import Problem, Source, TestCase, TestKind


def looks_like(row: dict[str, Any]) -> bool:
    return "input_output" in row and ("question" in row or "problem" in row)


def looks_like_mapcoder(row: dict[str, Any]) -> bool:
    return "sample_io" in row and "test_list" in row


def parse(row: dict[str, Any], source: Source) -> Problem:
    statement = check_statement(req_str(row, "question" if "question" in row else "problem"))
    problem_id = row_id(row, "problem_id", f"apps/{source.row}")
    spec = row["input_output"]
    if isinstance(spec, str):
        try:
            spec = json.loads(spec) if spec.strip() else {}
        except json.JSONDecodeError as exc:
            raise RowError(f"field 'input_output' is not valid JSON: {exc.msg}") from exc
    if not isinstance(spec, dict):
        raise RowError("field 'input_output' should be a JSON object")
    inputs = spec.get("inputs", [])
    outputs = spec.get("outputs", [])
    if not isinstance(inputs, list) or not isinstance(outputs, list) or len(inputs) != len(
        outputs
    ):
        raise RowError("field 'input_output' needs equal-length lists 'inputs' and 'outputs'")
    fn_name = spec.get("fn_name")
    if fn_name is not None and not isinstance(fn_name, str):
        raise RowError("field 'input_output.fn_name' should be a string")
    tests = _functional(inputs, outputs) if fn_name else _stdin(inputs, outputs)
    public, hidden = split_shown(statement, tests)
    return Problem(
        id=problem_id,
        title=problem_id,
        statement=statement,
        test_kind=TestKind.FUNCTIONAL if fn_name else TestKind.STDIN,
        public_tests=public,
        hidden_tests=hidden,
        starter_code=opt_str(row, "starter_code"),
        func_name=fn_name,
        source=source,
        difficulty=opt_str(row, "difficulty") or None,
        references=_solutions(row.get("solutions")),
        metadata={"url": opt_str(row, "url")},
    )


def parse_mapcoder(row: dict[str, Any], source: Source) -> Problem:
    statement = check_statement(req_str(row, "description"))
    problem_id = row_id(row, "id", row_id(row, "name", f"apps/{source.row}"))
    return Problem(
        id=f"apps/{problem_id}",
        title=f"APPS {problem_id}",
        statement=statement,
        test_kind=TestKind.STDIN,
        public_tests=_mapcoder_tests(req_list(row, "sample_io"), "sample_io", "statement"),
        hidden_tests=_mapcoder_tests(req_list(row, "test_list"), "test_list", "dataset"),
        starter_code=opt_str(row, "starter_code"),
        source=source,
        difficulty=opt_str(row, "difficulty") or None,
    )


def _stdin(inputs: list[Any], outputs: list[Any]) -> list[TestCase]:
    tests = []
    for i, (inp, out) in enumerate(zip(inputs, outputs, strict=True)):
        if isinstance(out, list):  # a few APPS rows list the output's lines
            out = "\n".join(str(x) for x in out)
        if not isinstance(inp, str) or not isinstance(out, str):
            raise RowError(f"input_output test {i}: stdin tests need string input and output")
        tests.append(TestCase(inp, out, TestKind.STDIN))
    return tests


def _functional(inputs: list[Any], outputs: list[Any]) -> list[TestCase]:
    wrapped = all(isinstance(o, list) and len(o) == 1 for o in outputs)
    tests = []
    for i, (args, out) in enumerate(zip(inputs, outputs, strict=True)):
        if not isinstance(args, list):
            raise RowError(f"input_output test {i}: functional inputs should be argument lists")
        expected = out[0] if wrapped else out
        tests.append(TestCase("\n".join(json.dumps(a) for a in args), json.dumps(expected),
                              TestKind.FUNCTIONAL))
    return tests


def _mapcoder_tests(raw: list[Any], name: str, origin: str) -> tuple[TestCase, ...]:
    tests = []
    for i, test in enumerate(raw):
        if not isinstance(test, dict) or not isinstance(test.get("input"), str):
            raise RowError(f"{name}[{i}] needs a string 'input'")
        outputs = test.get("output")
        if not isinstance(outputs, list) or not outputs:
            raise RowError(f"{name}[{i}] needs a non-empty 'output' list")
        out = outputs[0]
        tests.append(TestCase(test["input"], out if isinstance(out, str) else str(out),
                              TestKind.STDIN, origin=origin))
    return tuple(tests)


def _solutions(field: object) -> tuple[str, ...]:
    if isinstance(field, str):
        try:
            field = json.loads(field) if field.strip() else []
        except json.JSONDecodeError as exc:
            raise RowError(f"field 'solutions' is not valid JSON: {exc.msg}") from exc
    if field is None:
        return ()
    if not isinstance(field, list) or not all(isinstance(s, str) for s in field):
        raise RowError("field 'solutions' should be a list of strings")
    return tuple(field)
