"""HumanEval rows: `prompt` (signature + docstring), `entry_point`, `test` (defines
`check(candidate)`), `canonical_solution` (the body that completes the prompt).

Public tests: none. The docstring's `>>>` lines are part of the statement the solver reads, but
they are illustrations, not tests (several are wrong or not executable), so nothing is lifted
out of them. Hidden: one assert test, the dataset's `check` called on the entry point.
"""

from __future__ import annotations

import ast
from typing import Any

from engine.problems.fields import RowError, check_statement, opt_str, req_str
from engine.problems.model import Problem, Source, TestCase, TestKind


def looks_like(row: dict[str, Any]) -> bool:
    return {"prompt", "entry_point", "test"} <= row.keys()


def parse(row: dict[str, Any], source: Source) -> Problem:
    task_id = req_str(row, "task_id")
    prompt = check_statement(req_str(row, "prompt"))
    if not has_problem_text(prompt):
        raise RowError(
            "field 'prompt' holds no problem text (no docstring, only code such as import "
            "lines); a LeetCodeDataset row needs its 'problem_description' or 'meta' field"
        )
    entry_point = req_str(row, "entry_point")
    check = req_str(row, "test")
    solution = opt_str(row, "canonical_solution")
    return Problem(
        id=task_id,
        title=f"{task_id}: {entry_point}",
        statement=prompt,
        test_kind=TestKind.ASSERT,
        hidden_tests=(
            TestCase(input=f"{check}\n\ncheck({entry_point})\n", expected="", kind=TestKind.ASSERT),
        ),
        starter_code=prompt,
        func_name=entry_point,
        source=source,
        references=(prompt + solution,) if solution.strip() else (),
    )


def has_problem_text(prompt: str) -> bool:
    """Whether the prompt states a problem: HumanEval's statement is a docstring-like string (of
    the function, sometimes after an `import` line in its body); import lines alone are not."""
    try:
        tree = ast.parse(prompt)
    except SyntaxError:
        return '"""' in prompt or "'''" in prompt  # a prompt cut before its body
    return any(
        isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str) and node.value.value.strip()
        for node in ast.walk(tree)
    )
