"""Public examples: the statement's own tests, run on every candidate in the sandbox. This is
information the solver may use (it is in the statement), never a hidden test."""

from __future__ import annotations

from collections.abc import Sequence

from engine.pipeline.context import Candidate, Run
from engine.pipeline.execution import evaluate_missing


async def add_public_tests(run: Run) -> None:
    for case in run.view.public_tests:
        await run.add_test("public", case, case.origin or "statement", prefix="e")


async def run_examples(run: Run, candidates: Sequence[Candidate]) -> None:
    await evaluate_missing(run, candidates, run.tests_of("public", "user"))


def passes_examples(run: Run, candidate_id: str) -> bool | None:
    """True/False on the public examples; None when there are none."""
    passed, total = run.tally(candidate_id, ["public"])
    return None if total == 0 else passed == total
