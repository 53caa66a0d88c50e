"""LeetCodeDataset rows (newfacade/LeetCodeDataset, MIT), HumanEval-shaped, in two schemas.

Both schemas have `task_id`, `prompt` (the judge's import lines and helper classes, no problem
text), `entry_point` (`Solution().method`), `test` (defines `check(candidate)`), `completion`
(a reference answer) and `input_output`. The statement and starter code are
`problem_description` and `starter_code` in the flat schema (v0.3.1 on), `meta.question_title`
and `meta.lang_code` in the nested one (v0.3.0).

The `prompt` is what the judge runs before an answer, so it becomes the problem's `prelude`
(the grader prepends it), not its statement. Hidden test: the dataset's `check` called on
`Solution().method`. Public tests: the rows of `input_output` that are the statement's own
examples, as functional calls (one JSON argument per line), where their arguments are plain
literals; an example built with a helper (`tree_node([...])`) stays hidden-only.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

from engine.problems.fields import RowError, check_statement, opt_str, req_str, row_id
from engine.problems.judges import libraries_for
from engine.problems.model import Problem, Source, TestCase, TestKind

PLATFORM = "leetcode"
_ENTRY = re.compile(r"^Solution\(\)\.([A-Za-z_]\w*)$")


def looks_like(row: dict[str, Any]) -> bool:
    return {"prompt", "entry_point", "test"} <= row.keys() and (
        "problem_description" in row or isinstance(row.get("meta"), dict)
    )


def parse(row: dict[str, Any], source: Source) -> Problem:
    task_id = req_str(row, "task_id")
    meta = row.get("meta")
    fields = {**(meta if isinstance(meta, dict) else {}),
              **{k: v for k, v in row.items() if v is not None}}
    statement = _first(fields, "problem_description", "question_title")
    starter = _first(fields, "starter_code", "lang_code", required=False)
    entry_point = req_str(row, "entry_point")
    match = _ENTRY.match(entry_point.strip())
    if match is None:
        raise RowError(f"field 'entry_point' should be Solution().method, got {entry_point!r}")
    check = req_str(row, "test")
    completion = opt_str(row, "completion")
    question_id = row_id(fields, "question_id", "")
    difficulty = fields.get("difficulty")
    return Problem(
        id=task_id,
        title=f"{question_id}. {task_id}" if question_id else task_id,
        statement=check_statement(statement),
        test_kind=TestKind.ASSERT,
        public_tests=statement_examples(fields.get("input_output"), statement,
                                        _signature(starter, match.group(1))),
        hidden_tests=(
            TestCase(input=f"{check}\n\ncheck({entry_point.strip()})\n", expected="",
                     kind=TestKind.ASSERT),
        ),
        starter_code=starter.rstrip() + "\n" if starter.strip() else "",
        func_name=match.group(1),
        prelude=opt_str(row, "prompt"),
        source=source,
        difficulty=difficulty if isinstance(difficulty, str) and difficulty else None,
        references=(completion,) if completion.strip() else (),
        libraries=libraries_for(PLATFORM),
        metadata={
            "platform": PLATFORM,
            "question_id": question_id,
            "contest_date": opt_str(fields, "estimated_date"),
            "tags": list(fields.get("tags") or []),
        },
    )


def statement_examples(rows: object, statement: str,
                       signature: tuple[list[str], bool] | None) -> tuple[TestCase, ...]:
    """The `input_output` rows the statement itself shows ("Input: nums = [1,2,3], k = 2"), as
    functional tests with the arguments in the method's order; rows that are not plain keyword
    literals of exactly the method's parameters are left to the hidden test. `signature` is
    (parameter names, returns a string)."""
    if not signature or not signature[0]:
        return ()
    if not isinstance(rows, list):
        return ()
    shown = _squash(statement)
    tests = []
    seen: set[tuple[str, str]] = set()
    for row in rows:
        if not isinstance(row, dict) or not isinstance(row.get("input"), str):
            continue
        text, output = row["input"], row.get("output")
        if _squash(text) not in shown or not isinstance(output, str):
            continue
        call = _literal_call(text, output, *signature)
        if call is not None and call not in seen:  # the dataset repeats some, spaced apart
            seen.add(call)
            tests.append(TestCase(call[0], call[1], TestKind.FUNCTIONAL, origin="statement"))
    return tuple(tests)


def _literal_call(arguments: str, output: str, parameters: list[str], returns_str: bool
                  ) -> tuple[str, str] | None:
    """("one JSON argument per line", "JSON result") for `a = 1, b = [2]` and `3`, or None."""
    try:
        call = ast.parse(f"f({arguments})", mode="eval").body
        assert isinstance(call, ast.Call)
        named = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
        if call.args or sorted(named, key=str) != sorted(parameters):
            return None
        values = [named[name] for name in parameters]
        # A string result is written bare (`-1` for "-1"); every other result as a literal.
        expected = output if returns_str else ast.literal_eval(output)
        lines = "\n".join(json.dumps(v) for v in values)
        return lines + "\n", json.dumps(expected)
    except (SyntaxError, ValueError, TypeError, AssertionError, MemoryError, RecursionError):
        return None


def _signature(starter: str, method: str) -> tuple[list[str], bool] | None:
    """(parameter names without self, returns `str`) of `method` in the starter code, or None
    when the method takes or returns a linked structure (TreeNode, ListNode) that JSON cannot
    carry."""
    try:
        tree = ast.parse(starter.rstrip() + "\n            pass\n")
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == method:
            signature = ast.unparse(node.args) + (ast.unparse(node.returns) if node.returns
                                                  else "")
            if "Node" in signature:
                return None
            returns_str = node.returns is not None and ast.unparse(node.returns) == "str"
            return [a.arg for a in node.args.args[1:]], returns_str
    return None


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _first(fields: dict[str, Any], *keys: str, required: bool = True) -> str:
    """The first of `keys` that holds text (the flat schema's name, then the nested one's)."""
    for key in keys:
        value = fields.get(key)
        if isinstance(value, str) and value.strip():
            return value
    if required:
        raise RowError(f"no problem text: field {keys[0]!r} (or meta.{keys[1]}) is missing or "
                       "empty")
    return ""
