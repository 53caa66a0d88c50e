"""Public examples: the statement's own tests, run on every candidate in the sandbox. This is
information the solver may use (it is in the statement), never a hidden test."""

from __future__ import annotations

from collections.abc import Sequence

from engine.pipeline.context import Candidate, Run
from engine.pipeline.execution import evaluate_missing
from engine.pipeline.statement_examples import statement_tests


async def add_public_tests(run: Run) -> None:
    """The view's public tests; where it has none, the examples its statement shows (HumanEval
    docstrings, LeetCode-style Input/Output), which are as public as the statement itself."""
    cases = list(run.view.public_tests)
    if not cases and run.config.statement_examples:
        cases = statement_tests(run.view)
    for case in cases:
        await run.add_test("public", case, case.origin or "statement", prefix="e")


async def run_examples(run: Run, candidates: Sequence[Candidate]) -> None:
    await evaluate_missing(run, candidates, run.tests_of("public", "user"))


def passes_examples(run: Run, candidate_id: str) -> bool | None:
    """True/False on the public examples; None when there are none."""
    passed, total = run.tally(candidate_id, ["public"])
    return None if total == 0 else passed == total
