"""The fold: what a viewer sees after each event, replay equal to live, fold up to step N."""

from __future__ import annotations

import dataclasses
import json

import pytest

from engine import events as ev
from engine.state import AppendOnlyText, TaskState, apply, reduce


def sample_log(task_id: str = "t1") -> list[ev.Event]:
    """A condition-full style log: probe, plan, examples, self-tests, S*, repair, grading.
    Sequence numbers and times are assigned here the way the task runner assigns them."""
    body: list[ev.Event] = [
        ev.TaskStarted(task_id=task_id, title="Two Sum", condition="full", model="tiny",
                       backend="scripted", sandbox_tier="bubblewrap", config='{"k": 3}'),
        ev.PhaseStarted(task_id=task_id, phase="probe"),
        ev.GenerationStarted(task_id=task_id, stream_id="g1", purpose="probe", template="probe",
                             template_version="1", prompt="Solve: add two numbers",
                             budget_tier="light", temperature=0.6),
        ev.TokenDelta(task_id=task_id, stream_id="g1", text="Let me ", channel="thinking",
                      tokens=2),
        ev.TokenDelta(task_id=task_id, stream_id="g1", text="think.", channel="thinking"),
        ev.TokenDelta(task_id=task_id, stream_id="g1", text="```python\nprint(1)\n```",
                      tokens=5),
        ev.GenerationFinished(task_id=task_id, stream_id="g1", prompt_tokens=10,
                              completion_tokens=8, thinking_tokens=3, elapsed_s=0.5,
                              tokens_per_s=16.0, budget_capped=True, budget_extensions=1),
        ev.CandidateCreated(task_id=task_id, candidate_id="c1", origin="probe", code="print(1)",
                            stream_id="g1", label="probe"),
        ev.PhaseFinished(task_id=task_id, phase="probe", elapsed_s=0.6),
        ev.PhaseStarted(task_id=task_id, phase="plan"),
        ev.ConstraintsExtracted(task_id=task_id, constraint_sets=("n <= 10", "greedy")),
        ev.PlanProposed(task_id=task_id, plan_id="p1", constraints="n <= 10", plan="sum it"),
        ev.CandidateCreated(task_id=task_id, candidate_id="c2", origin="plan",
                            code="print(int(input())+1)", plan_id="p1", label="plan 1"),
        ev.GenerationStarted(task_id=task_id, stream_id="g2", purpose="implement",
                             template="implement", template_version="1", prompt="p"),
        ev.NoCodeFound(task_id=task_id, stream_id="g2", reason="no fenced block"),
        ev.PhaseFinished(task_id=task_id, phase="plan", elapsed_s=1.0),
        ev.PhaseStarted(task_id=task_id, phase="examples"),
        ev.TestAdded(task_id=task_id, test_id="pub1", kind="public", input="1\n",
                     expected="2\n", origin="statement"),
        ev.TestRun(task_id=task_id, candidate_id="c1", test_id="pub1", verdict="WA", got="1\n",
                   expected="2\n", time_s=0.01),
        ev.TestRun(task_id=task_id, candidate_id="c2", test_id="pub1", verdict="AC", got="2\n",
                   expected="2\n", time_s=0.01),
        ev.PhaseFinished(task_id=task_id, phase="examples"),
        ev.PhaseStarted(task_id=task_id, phase="select"),
        ev.CandidateEmbedded(task_id=task_id, candidate_id="c1", dim=4, model="tiny"),
        ev.EnergyScored(task_id=task_id, candidate_id="c1", energy=1.5, pass_probability=0.2,
                        lens="lens:tiny"),
        ev.TestAdded(task_id=task_id, test_id="d1", kind="differential", input="5\n",
                     expected=None, origin="model"),
        ev.CandidatesClustered(task_id=task_id, clusters=(("c2",), ("c1",)), inputs=("d1",)),
        ev.CandidateScored(task_id=task_id, candidate_id="c2", score=0.9,
                           parts='{"examples": 1.0}'),
        ev.PhaseFinished(task_id=task_id, phase="select"),
        ev.PhaseStarted(task_id=task_id, phase="selftest"),
        ev.TestAdded(task_id=task_id, test_id="s1", kind="self", input="3\n", expected="4\n",
                     origin="agreement 2/2"),
        ev.TestAdded(task_id=task_id, test_id="s2", kind="self", input="3\n", expected="9\n",
                     origin="model"),
        ev.TestRun(task_id=task_id, candidate_id="c1", test_id="s2", verdict="WA"),
        ev.TestsGenerated(task_id=task_id, kept=("s1",), discarded=("s2",),
                          reason="candidates disagree"),
        ev.TestRun(task_id=task_id, candidate_id="c2", test_id="s1", verdict="AC", got="4\n"),
        ev.PhaseFinished(task_id=task_id, phase="selftest"),
        ev.PhaseStarted(task_id=task_id, phase="repair"),
        ev.GateReached(task_id=task_id, step="repair 1", detail="c1 fails pub1"),
        ev.GateResolved(task_id=task_id, step="repair 1", action="continue"),
        ev.CandidateCreated(task_id=task_id, candidate_id="c3", origin="repair", code="x",
                            parent_id="c1", label="repair 1 (edge cases)"),
        ev.RepairIteration(task_id=task_id, iteration=1, perspective="edge cases",
                           parent_id="c1", child_id="c3", reasoning="off by one",
                           failing_tests=("pub1",)),
        ev.RepairIteration(task_id=task_id, iteration=1, perspective="trace by hand",
                           parent_id="c1", child_id=None),
        ev.UserAction(task_id=task_id, action="edit_candidate",
                      payload='{"candidate_id": "c3", "code": "print(2)"}'),
        ev.CandidateCreated(task_id=task_id, candidate_id="c4", origin="user", code="print(2)",
                            parent_id="c3", label="edited c3"),
        ev.ErrorRaised(task_id=task_id, where="repair", message="backend hiccup"),
        ev.PhaseFinished(task_id=task_id, phase="repair"),
        ev.CandidateSelected(task_id=task_id, candidate_id="c2", reason="passes all tests"),
        ev.AnswerSubmitted(task_id=task_id, candidate_id="c2", code="print(int(input())+1)",
                           phase="plan"),
        ev.CandidateGraded(task_id=task_id, candidate_id="c1", verdict="WA", passed=0, total=3),
        ev.CandidateGraded(task_id=task_id, candidate_id="c2", verdict="AC", passed=3, total=3),
        ev.Graded(task_id=task_id, candidate_id="c2", verdict="AC", passed=3, total=3,
                  oracle_any_pass=True),
        ev.TaskFinished(task_id=task_id, status="submitted", elapsed_s=4.0),
    ]
    return [dataclasses.replace(e, seq=i, at=1000.0 + i) for i, e in enumerate(body, start=1)]


def test_the_fold_gives_what_a_viewer_needs() -> None:
    s = reduce(sample_log())

    assert (s.task_id, s.title, s.condition, s.status) == ("t1", "Two Sum", "full", "submitted")
    assert s.config == {"k": 3}
    assert s.finished and s.phase is None and s.last_seq == len(sample_log())
    assert [p.phase for p in s.phases] == ["probe", "plan", "examples", "select", "selftest",
                                           "repair"]
    assert s.phases[0].started_at == 1002.0 and s.phases[0].elapsed_s == 0.6

    g1 = s.streams["g1"]
    assert g1.thinking == "Let me think." and g1.answer == "```python\nprint(1)\n```"
    assert (g1.finished, g1.tokens, g1.budget_capped, g1.budget_extensions) == (True, 8, True, 1)
    assert s.tokens.prompt == 10 and s.tokens.completion == 8 and s.tokens.thinking == 3
    assert s.no_code == (("g2", "no fenced block"),)

    assert list(s.candidates) == ["c1", "c2", "c3", "c4"]
    c1, c2, c3, c4 = (s.candidates[c] for c in ("c1", "c2", "c3", "c4"))
    assert [c.candidate_id for c in s.children(None)] == ["c1", "c2"]
    assert [c.candidate_id for c in s.children("c1")] == ["c3"]
    assert (c1.energy, c1.pass_probability, c1.lens, c1.embedded) == (1.5, 0.2, "lens:tiny", True)
    assert (c1.public.passed, c1.public.total) == (0, 1)
    assert c1.self_tests.total == 0  # its only self-test run was on a discarded test
    assert c2.public.all_passed and c2.self_tests.all_passed
    assert (c2.cluster, c1.cluster) == (0, 1)
    assert c2.score == 0.9 and c2.score_parts == {"examples": 1.0}
    assert c3.code == "x" and not c3.edited and c3.parent_id == "c1"
    assert c4.code == "print(2)" and c4.edited and c4.parent_id == "c3"
    assert c2.hidden is not None and c2.hidden.verdict == "AC"

    assert s.tests["s1"].kept is True and s.tests["s2"].kept is False
    assert s.tests["pub1"].expected == "2\n" and s.tests["d1"].expected is None
    assert [t.test_id for t in s.tests_of_kind("self")] == ["s1", "s2"]
    cell = s.cell("c1", "pub1")
    assert cell is not None and (cell.verdict, cell.got, cell.expected) == ("WA", "1\n", "2\n")
    assert s.cell("c3", "pub1") is None
    assert s.clusters == (("c2",), ("c1",)) and s.cluster_inputs == ("d1",)

    by_iteration = s.repairs_by_iteration()
    assert [r.perspective for r in by_iteration[1]] == ["edge cases", "trace by hand"]
    assert by_iteration[1][0].failing_tests == ("pub1",) and by_iteration[1][1].child_id is None

    assert s.gate is None and s.gate_history == (("repair 1", "continue"),)
    assert s.selected is not None and s.selected.candidate_id == "c2"
    assert s.submitted is not None and s.submitted.phase == "plan"
    assert s.graded is not None and s.graded.solved and s.graded.oracle_any_pass is True
    assert [e.message for e in s.errors] == ["backend hiccup"]
    assert s.user_actions[0][0] == "edit_candidate"


def test_folding_up_to_step_n_shows_the_task_as_it_was() -> None:
    log = sample_log()
    gate_seq = next(e.seq for e in log if isinstance(e, ev.GateReached))
    paused = reduce(log, until_seq=gate_seq)
    assert paused.paused and paused.gate is not None and paused.gate.step == "repair 1"
    assert paused.status == "running" and paused.phase == "repair" and paused.submitted is None

    mid_stream = reduce(log, until_seq=4)
    assert mid_stream.streams["g1"].thinking == "Let me " and not mid_stream.streams["g1"].finished
    assert mid_stream.streams["g1"].live_tokens == 2
    assert mid_stream.streams["g1"].live_tokens_per_s == pytest.approx(2 / (1004.0 - 1003.0))

    for n in range(len(log) + 1):
        assert reduce(log, until_seq=n) == reduce(log[:n])


def test_apply_is_pure_and_an_older_state_can_be_continued() -> None:
    """Structural sharing must never let a later event change an earlier state."""
    log = sample_log()
    states = [TaskState()]
    for e in log:
        states.append(apply(states[-1], e))
    for n, state in enumerate(states):
        assert state == reduce(log[:n]), f"state after event {n} changed later"
    # go on from step 4 twice along different paths: neither sees the other's text
    a = apply(states[4], ev.TokenDelta(task_id="t1", seq=5, stream_id="g1", text="A"))
    b = apply(states[4], ev.TokenDelta(task_id="t1", seq=5, stream_id="g1", text="B"))
    assert a.streams["g1"].thinking == "Let me " and a.streams["g1"].answer == "A"
    assert b.streams["g1"].answer == "B"
    assert states[5].streams["g1"].thinking == "Let me think."


def test_replaying_the_json_log_equals_watching_live() -> None:
    log = sample_log()
    live = TaskState()
    for e in log:
        live = apply(live, e)
    stored = [ev.Event.from_json(e.to_json()) for e in log]
    assert reduce(stored) == live
    assert reduce(stored) != reduce(stored[:-1])


def test_events_of_another_task_are_refused() -> None:
    state = reduce(sample_log("t1")[:3])
    with pytest.raises(ValueError, match="t2"):
        apply(state, ev.PhaseStarted(task_id="t2", seq=4, phase="plan"))


def test_many_token_deltas_append_without_losing_text() -> None:
    state = reduce(sample_log()[:3])
    pieces = [f"tok{i} " for i in range(20_000)]
    for i, piece in enumerate(pieces):
        state = apply(state, ev.TokenDelta(task_id="t1", seq=4 + i, stream_id="g1", text=piece))
        if i == 10_000:
            halfway = state
    assert state.streams["g1"].answer == "".join(pieces)
    assert state.streams["g1"].live_tokens == 20_000
    assert halfway.streams["g1"].answer == "".join(pieces[:10_001])


def test_append_only_text_shares_chunks_but_never_changes_a_value() -> None:
    base = AppendOnlyText().appended("ab").appended("cd")
    longer = base.appended("ef")
    assert str(longer) == "abcdef" and len(longer) == 6
    assert base.text == "abcd"  # joining caches without disturbing values that share chunks
    other = base.appended("XY")
    assert (base.text, longer.text, other.text) == ("abcd", "abcdef", "abcdXY")
    assert longer.appended("g").text == "abcdefg"
    assert AppendOnlyText().appended("abcd") == base


def test_task_state_json_config_that_is_not_an_object_is_kept_readable() -> None:
    start = ev.TaskStarted(task_id="t", seq=1, title="x", condition="A", config="not json")
    assert reduce([start]).config == {"raw": "not json"}
    assert json.loads(ev.TaskStarted(task_id="t", title="x", condition="A").config) == {}
