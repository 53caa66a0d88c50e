"""The hidden-test firewall through the whole task, with real parts: the real pipeline (every
phase, condition full), the scripted test-double model, the real sandbox and the real grader.
A unique marker is planted in the hidden tests and the references; it must appear in no
prompt and in no event before grading, while grading itself must have used those tests."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from engine import events as ev
from engine.llm.scripted import ScriptedBackend
from engine.pipeline.config import PipelineConfig
from engine.problems.model import Problem, TestCase, TestKind
from engine.sandbox import Sandbox
from engine.state import reduce
from engine.store import Store
from engine.task import run_task

MARKER = "HIDDEN-7f3a9c-MARKER"
RIGHT = "print(int(input()) * 2)"
WRONG = "print(int(input()) + 1)"  # fails the example too

PROBLEM = Problem(
    id="double",
    title="Double it",
    statement="Read one integer n and print 2*n.\n\nExample: input 2, output 4.",
    test_kind=TestKind.STDIN,
    public_tests=(TestCase("2\n", "4\n", TestKind.STDIN, origin="statement"),),
    hidden_tests=(
        TestCase(f"7\n{MARKER}\n", "14\n", TestKind.STDIN),
        TestCase(f"-3\n{MARKER}\n", "-6\n", TestKind.STDIN),
    ),
    references=(f"{RIGHT}  # {MARKER}",),
)


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    box = await Sandbox.create()
    try:
        yield box
    finally:
        await box.close()


async def test_no_prompt_and_no_event_before_grading_sees_a_hidden_test(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    backend = ScriptedBackend(
        {"[atlas:probe]": f"```python\n{WRONG}\n```"},  # a wrong probe: every phase runs
        default=f"<think>Double it.</think>\n```python\n{RIGHT}\n```",
    )
    config = PipelineConfig.preset("full", max_tokens=512, stop_when_passing=False)
    live: list[ev.Event] = []
    with Store(tmp_path / "run.sqlite") as store:
        out = await run_task(PROBLEM, backend, sandbox, config, store=store, emit=live.append)
        stored = store.events(out.task_id)
        info = store.task(out.task_id)

    assert backend.calls, "the model was never asked"
    assert not [c.prompt for c in backend.calls if MARKER in c.prompt]
    graded_at = next(
        i for i, e in enumerate(stored) if isinstance(e, ev.CandidateGraded | ev.Graded)
    )
    assert not [e for e in stored[:graded_at] if MARKER in e.to_json()]
    assert any(isinstance(e, ev.AnswerSubmitted) for e in stored[:graded_at])

    # grading did use the hidden tests (public + hidden, as LiveCodeBench grades)
    assert out.state.graded is not None and not out.state.graded.used_public_fallback
    assert (out.verdict, out.passed, out.total) == ("AC", 3, 3)
    assert out.oracle_any_pass is True
    hidden = {cid: c.hidden.verdict for cid, c in out.state.candidates.items() if c.hidden}
    assert hidden["c1"] == "WA" and set(hidden) == set(out.state.candidates)  # the ceiling
    assert info is not None and info.status == "submitted" and info.verdict == "AC"

    # every phase of condition full ran and the log is whole: live, stored and folded agree
    phases = {e.phase for e in stored if isinstance(e, ev.PhaseStarted)}
    assert {"probe", "plan", "diversity", "examples", "select", "final"} <= phases
    # the store keeps embedding vectors in their own table; the live events carry them
    assert any(isinstance(e, ev.CandidateEmbedded) and e.vector for e in live)
    assert stored == [_without_vector(e) for e in live] and reduce(stored) == out.state
    assert isinstance(stored[-1], ev.TaskFinished) and stored[-1].status == "submitted"
    assert [e.seq for e in stored] == list(range(1, len(stored) + 1))


def _without_vector(event: ev.Event) -> ev.Event:
    if isinstance(event, ev.CandidateEmbedded):
        return dataclasses.replace(event, vector=())
    return event


async def test_a_problem_without_hidden_tests_is_graded_on_its_examples_and_says_so(
    sandbox: Sandbox,
) -> None:
    backend = ScriptedBackend(default=f"```python\n{RIGHT}\n```")
    problem = dataclasses.replace(PROBLEM, hidden_tests=(), references=())
    out = await run_task(problem, backend, sandbox, PipelineConfig.preset("A"))
    assert out.verdict == "AC" and (out.passed, out.total) == (1, 1)
    assert out.state.graded is not None and out.state.graded.used_public_fallback
