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

from engine import events as ev
from engine.llm.base import BackendError
from engine.sandbox.sandbox import Sandbox

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
    """MBPP (assert tests), condition full: the probe passes the public example, so the run
    exits early (condition A's cost): nothing more is generated; the probe is submitted and
    passes the hidden asserts."""
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
    assert [call.params.purpose for call in done.backend.calls] == ["probe"]
    assert done.of(ev.TestsGenerated) == []


async def test_probe_wrong_and_a_plan_right(shared_data: Path, sandbox: Sandbox) -> None:
    """LiveCodeBench stdin (abc313_a), condition B: the probe fails the examples; the cheaper
    diverse sample is drawn first and fails too; PlanSearch draws plans, the second plan's
    program (o1-mini's, officially correct) passes them and is submitted; drawing stops there
    (no third plan); it passes the recovered private test."""
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
    done = await solve_task(problem, script, sandbox, "B", k=4, n_plans=3, n_diverse=1)

    no_errors(done.events)
    origins = [(c.candidate_id, c.origin, c.label) for c in done.of(ev.CandidateCreated)]
    assert origins == [
        ("c1", "probe", "probe"),
        ("c2", "diversity", "diverse 1 (T=0.6)"),
        ("c3", "plan", "plan 1"),
        ("c4", "plan", "plan 2"),
    ]
    assert len(done.of(ev.PlanProposed)) == 2  # plan 3 was never asked for
    (selected,) = done.of(ev.CandidateSelected)
    assert selected.candidate_id == "c4" and "first candidate to pass" in selected.reason
    assert done.submitted.phase == "plan" and done.submitted.code.strip() == right.strip()
    assert done.outcome.verdict == "AC"
    assert done.outcome.total == len(problem.public_tests) + len(problem.hidden_tests)


async def test_all_pass_the_examples_but_s_star_tells_the_right_one(
    shared_data: Path, sandbox: Sandbox
) -> None:
    """LiveCodeBench functional (2857), condition C: o1-preview's answer (officially wrong) and
    o1-mini's (officially right) both pass the public examples. S* inputs split them into two
    clusters; the model adjudicates the disagreeing input; the right one is submitted and passes
    the recovered private test the wrong one fails."""
    problem = lcb_problem_with_private_tests(shared_data, "2857")
    wrong, wrong_official = lcb_reference(shared_data, "2857", "o1_preview")
    right, right_official = lcb_reference(shared_data, "2857", "o1_mini")
    assert not wrong_official and right_official
    script = {
        PROBE: fenced(wrong),
        CONSTRAINTS: "## Constraint set 1\nClosed form from the number of transfers.",
        PLAN: "Count transfers as mainTank // 5, capped by the additional tank.",
        IMPLEMENT: fenced(wrong),
        DIVERSITY: fenced(right),
        DIFFERENTIAL: inputs("5\n10", "9\n9", "25\n10"),
        ADJUDICATE: pick_output("110"),  # 9 + 9 liters: 90 km, one refill at 5, one more at 10
    }
    done = await solve_task(
        problem, script, sandbox, "C", adaptive_k=False, k=2, n_plans=1, n_diverse=1,
        # all three pass the examples and behave alike on mutated inputs: only S* tells them
        # apart, so it runs although the defaults would call the choice decided
        early_exit=False, stop_when_passing=False, only_when_undecided=False,
    )

    no_errors(done.events)
    runs = done.of(ev.TestRun)
    for cid in ("c1", "c2", "c3"):  # every candidate passes every public example
        assert [r.verdict for r in runs if r.candidate_id == cid and r.test_id[0] == "e"] == [
            "AC",
            "AC",
        ]
    # Mutated example inputs do not split them (first clustering); S*'s inputs do (the last).
    behaviour, clustered = done.of(ev.CandidatesClustered)
    assert behaviour.clusters == (("c1", "c2", "c3"),)
    assert all(t.startswith("m") for t in behaviour.inputs)
    assert sorted(clustered.clusters) == [("c1", "c3"), ("c2",)]  # c2: the diverse sample
    adjudicated = [t for t in done.of(ev.TestAdded) if t.origin.startswith("adjudicated")]
    assert [(t.input, t.expected) for t in adjudicated] == [("9\n9", "110")]
    assert done.submitted.candidate_id == "c2"
    assert done.submitted.code.strip() == right.strip()
    assert done.outcome.verdict == "AC"
    graded = {g.candidate_id: g.verdict for g in done.of(ev.CandidateGraded)}
    assert graded == {"c1": "WA", "c2": "AC", "c3": "WA"}  # the ceiling, after submission


async def test_no_candidate_right_and_a_repair_fixes_it(
    shared_data: Path, sandbox: Sandbox
) -> None:
    """LiveCodeBench stdin (abc313_a), condition D: the probe (o1-preview's officially wrong
    answer) passes the examples but crashes when N = 1. Both self-test generations agree on that
    case, so it is kept; it fails; a repair from the first perspective fixes it, the repair is
    submitted and passes the recovered private test (N = 1) the probe fails."""
    problem = lcb_problem_with_private_tests(shared_data, "abc313_a")
    wrong, _ = lcb_reference(shared_data, "abc313_a", "o1_preview")
    right, _ = lcb_reference(shared_data, "abc313_a", "o1_mini")
    script = {
        PROBE: fenced(wrong),
        SELFTEST: io_tests(("1\n60", "0"), ("2\n5 5", "1")),
        REPAIR: "<think>With N = 1 there are no other people: max of an empty list fails."
        "</think>\n" + fenced(right, "Handle N = 1 on its own."),
    }
    done = await solve_task(
        problem, script, sandbox, "D", early_exit=False, only_when_undecided=False
    )

    no_errors(done.events)
    assert [c.candidate_id for c in done.of(ev.CandidateCreated)] == ["c1", "c2"]
    (generated,) = done.of(ev.TestsGenerated)
    assert generated.kept == ("s1", "s2") and generated.discarded == ()
    assert {(r.candidate_id, r.test_id): r.verdict for r in done.of(ev.TestRun)}[
        ("c1", "s1")
    ] == "RE"
    (iteration,) = done.of(ev.RepairIteration)
    assert (iteration.parent_id, iteration.child_id) == ("c1", "c2")
    assert iteration.failing_tests == ("s1",)
    assert iteration.perspective.startswith("Re-read the specification")
    assert "max of an empty list" in iteration.reasoning
    repair_prompt = next(c.prompt for c in done.backend.calls if REPAIR in c.prompt)
    assert "verdict RE" in repair_prompt and "1\n60" in repair_prompt
    assert done.submitted.candidate_id == "c2" and done.submitted.phase == "repair"
    assert done.outcome.verdict == "AC"
    graded = {g.candidate_id: g.verdict for g in done.of(ev.CandidateGraded)}
    assert graded["c1"] != "AC"


async def test_a_self_test_with_a_wrong_expected_output_is_discarded(
    shared_data: Path, sandbox: Sandbox
) -> None:
    """HumanEval/0 (check() asserts as hidden tests), condition D: two self-test generations;
    one writes a wrong expected output that no generation and no candidate agrees with, so it
    is discarded; the tests with witnesses are kept; the right probe needs no repair."""
    problem = dataset_problem(shared_data, "humaneval/HumanEval.jsonl.gz", "HumanEval/0")
    right = (
        "from typing import List\n\n"
        "def has_close_elements(numbers: List[float], threshold: float) -> bool:\n"
        "    return any(abs(a - b) < threshold\n"
        "               for i, a in enumerate(numbers) for b in numbers[i + 1:])\n"
    )
    script = {
        PROBE: fenced(right),
        SELFTEST: [
            io_tests(("[1.0, 2.0, 3.0]\n0.5", "false"), ("[1.0, 2.0, 2.1]\n0.5", "false")),
            io_tests(("[1.0, 2.0, 3.0]\n0.5", "false"), ("[1.0, 1.2]\n0.5", "true")),
        ],
    }
    done = await solve_task(problem, script, sandbox, "D", adaptive_k=False, k=0,
                            early_exit=False, only_when_undecided=False)

    no_errors(done.events)
    (generated,) = done.of(ev.TestsGenerated)
    assert generated.kept == ("s1", "s3")
    assert generated.discarded == ("s2",)
    assert "s2: expected 'false' has 1 witness(es)" in generated.reason
    kept = {t.test_id: t for t in done.of(ev.TestAdded) if t.kind == "self"}
    assert set(kept) == {"s1", "s3"}  # the discarded one never became a test
    assert kept["s1"].origin == "self-test agreed by 2 generations + candidates c1"
    assert kept["s3"].origin == "self-test agreed by 1 generation + candidates c1"
    assert done.of(ev.RepairIteration) == []
    assert done.submitted.candidate_id == "c1"
    assert done.outcome.verdict == "AC"


async def test_no_code_in_the_answer(shared_data: Path, sandbox: Sandbox) -> None:
    """HumanEval/2, condition A: the model answers in prose only. A NoCodeFound event says so,
    an empty answer is submitted (there is exactly one answer), and it is graded a failure."""
    problem = dataset_problem(shared_data, "humaneval/HumanEval.jsonl.gz", "HumanEval/2")
    script = {PROBE: "Take the number modulo one; that is the decimal part of the number."}
    done = await solve_task(problem, script, sandbox, "A")

    no_errors(done.events)
    (missing,) = done.of(ev.NoCodeFound)
    assert missing.stream_id == "g1" and missing.reason == "no code block in the answer"
    assert done.of(ev.CandidateCreated) == []
    assert (done.submitted.candidate_id, done.submitted.code) == ("", "")
    assert done.outcome.verdict not in (None, "AC")
    assert done.outcome.passed == 0
    assert done.of(ev.TaskFinished)[-1].status == "no_answer"


async def test_backend_error_mid_run_still_submits_the_best_so_far(
    shared_data: Path, sandbox: Sandbox
) -> None:
    """MBPP, condition full: the model server fails (after its retries) during PlanSearch. The
    run says so in an ErrorRaised event, finishes cleanly, and submits the probe, which passes
    the hidden tests."""
    problem = dataset_problem(shared_data, "mbpp/sanitized-mbpp.json.gz", "mbpp/3")
    right = (
        "import math\n\ndef is_not_prime(n):\n    if n < 2:\n        return True\n"
        "    return any(n % d == 0 for d in range(2, math.isqrt(n) + 1))\n"
    )
    script = {
        PROBE: fenced(right),
        CONSTRAINTS: BackendError("the server at 127.0.0.1:8080 stopped answering (3 retries)"),
    }
    done = await solve_task(problem, script, sandbox, "full", adaptive_k=False, early_exit=False,
                            stop_when_passing=False, n_diverse=0)

    (error,) = done.of(ev.ErrorRaised)
    assert error.where == "plan" and "stopped answering" in error.message
    assert not error.fatal
    phases = [(type(e).__name__, e.phase) for e in done.events if hasattr(e, "phase")
              and isinstance(e, ev.PhaseStarted | ev.PhaseFinished)]
    assert ("PhaseFinished", "plan") in phases  # the timeline is closed, not left running
    assert done.submitted.candidate_id == "c1"
    assert done.outcome.status == "submitted" and done.outcome.verdict == "AC"
    assert isinstance(done.events[-1], ev.TaskFinished)
