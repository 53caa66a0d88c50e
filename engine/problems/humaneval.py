"""HumanEval rows: `prompt` (signature + docstring), `entry_point`, `test` (defines
`check(candidate)`), `canonical_solution` (the body that completes the prompt).

Public tests: none. The docstring's `>>>` lines are part of the statement the solver reads, but
they are illustrations, not tests (several are wrong or not executable), so nothing is lifted
out of them. Hidden: one assert test, the dataset's `check` called on the entry point.
"""

from __future__ import annotations

from typing import Any

from engine.problems.fields import check_statement, opt_str, req_str
from engine.problems.model import Problem, Source, TestCase, TestKind


def looks_like(row: dict[str, Any]) -> bool:
    return {"prompt", "entry_point", "test"} <= row.keys()


def parse(row: dict[str, Any], source: Source) -> Problem:
    task_id = req_str(row, "task_id")
    prompt = check_statement(req_str(row, "prompt"))
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
