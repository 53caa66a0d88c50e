"""End-to-end behaviour of the pipeline on real problems (HumanEval, MBPP, LiveCodeBench stdin
and functional), one test per behaviour, each through `engine.task.run_task`: the scripted
model's answers go through the real pipeline, the real sandbox runs every candidate, and the
real grader grades the one submitted answer on hidden tests (LiveCodeBench: genuine private
tests recovered from the official failure reports). Wrong and right programs are real model
answers with their official verdicts where the data has them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from engine import events as ev
from engine.llm.base import BackendError
from engine.sandbox.sandbox import Sandbox
from support.pipeline_scenarios import (
    ADJUDICATE,
    CONSTRAINTS,
    DIFFERENTIAL,
    DIVERSITY,
    IMPLEMENT,
    PLAN,
    PROBE,
    REPAIR,
    SELFTEST,
    dataset_problem,
    fenced,
    inputs,
    io_tests,
    lcb_problem_with_private_tests,
    lcb_reference,
    pick_output,
    solve_task,
)

pytestmark = pytest.mark.data


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with await Sandbox.create() as box:
        yield box


def no_errors(events: list[ev.Event]) -> None:
    errors = [e for e in events if isinstance(e, ev.ErrorRaised)]
    assert errors == [], errors


async def test_probe_right_is_submitted_without_drawing_more(
    shared_data: Path, sandbox: Sandbox
) -> None:
    """MBPP (assert tests), condition full: the probe passes the public example, so adaptive k
    draws nothing more; the probe is submitted and passes the hidden asserts."""
    problem = dataset_problem(shared_data, "mbpp/sanitized-mbpp.json.gz", "mbpp/2")
    right = "def similar_elements(a, b):\n    return tuple(set(a) & set(b))\n"
    script = {
        PROBE: fenced(right),
        SELFTEST: io_tests(("[1, 2, 3]\n[3, 4]", "[3]")),
    }
    done = await solve_task(problem, script, sandbox, "full")

    no_errors(done.events)
    assert [c.origin for c in done.of(ev.CandidateCreated)] == ["probe"]
    assert not any(CONSTRAINTS in call.prompt for call in done.backend.calls)
    public_runs = [r for r in done.of(ev.TestRun) if r.test_id.startswith("e")]
    assert [r.verdict for r in public_runs] == ["AC"]
    assert done.submitted.phase == "probe" and done.submitted.code == right
    assert done.outcome.verdict == "AC"
    graded = len(problem.public_tests) + len(problem.hidden_tests)
    assert done.outcome.passed == done.outcome.total == graded
    (kept,) = done.of(ev.TestsGenerated)
    assert kept.kept == ("s1",)  # both generations wrote it: two witnesses
    assert [r.verdict for r in done.of(ev.TestRun) if r.test_id == "s1"] == ["AC"]


async def test_probe_wrong_and_a_plan_right(shared_data: Path, sandbox: Sandbox) -> None:
    """LiveCodeBench stdin (abc313_a), condition B: the probe fails the examples, PlanSearch
    draws plans, the second plan's program (o1-mini's, officially correct) passes them and is
    submitted; it passes the recovered private test."""
    problem = lcb_problem_with_private_tests(shared_data, "abc313_a")
    right, official = lcb_reference(shared_data, "abc313_a", "o1_mini")
    assert official
    wrong = "n = int(input())\np = list(map(int, input().split()))\nprint(max(p) - p[0])\n"
    script = {
        PROBE: fenced(wrong),
        CONSTRAINTS: "## Constraint set 1\nSort the scores.\n## Constraint set 2\n"
        "Only the maximum of the others matters; N can be 1.\n## Constraint set 3\nSimulate.",
        PLAN: "Take the largest score among the others and add one.",
        IMPLEMENT: [fenced(wrong), fenced(right), "I am not sure how to write this."],
        DIVERSITY: fenced(wrong),
    }
    done = await solve_task(problem, script, sandbox, "B", n_diverse=1)

    no_errors(done.events)
    origins = [(c.candidate_id, c.origin, c.label) for c in done.of(ev.CandidateCreated)]
    assert origins == [
        ("c1", "probe", "probe"),
        ("c2", "plan", "plan 1"),
        ("c3", "plan", "plan 2"),
        ("c4", "diversity", "diverse 1 (T=0.6)"),
    ]
    assert len(done.of(ev.PlanProposed)) == 3
    assert len(done.of(ev.NoCodeFound)) == 1  # plan 3 answered in prose
    (selected,) = done.of(ev.CandidateSelected)
    assert selected.candidate_id == "c3" and "first candidate to pass" in selected.reason
    assert done.submitted.phase == "plan" and done.submitted.code.strip() == right.strip()
    assert done.outcome.verdict == "AC"
    assert done.outcome.total == len(problem.public_tests) + len(problem.hidden_tests)
