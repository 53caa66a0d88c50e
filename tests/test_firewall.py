"""The hidden-test firewall: the solver cannot see hidden tests, by construction and in fact.

- the pipeline package does not import the grader, not even indirectly (checked in a fresh
  interpreter that imports every pipeline module);
- the problem view the solver gets has no field for hidden tests or references, and `run_task`
  hands the solver exactly such a view;
- a unique marker planted in the hidden tests (input and expected output) and the reference
  solutions of a real problem never appears in any prompt sent to the model nor in any event of
  a full run (every phase, repair and adjudication included), live or stored, although the
  grader did use those hidden tests.
"""

from __future__ import annotations

import dataclasses
import pkgutil
import subprocess
import sys
import uuid
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
    fenced,
    inputs,
    io_tests,
    lcb_problem_with_private_tests,
    lcb_reference,
    pick_output,
)

import engine.pipeline
from engine import events as ev
from engine.llm.scripted import ScriptedBackend
from engine.pipeline.config import PipelineConfig
from engine.pipeline.runner import solve
from engine.problems.model import ProblemView, TestCase, TestKind
from engine.sandbox.sandbox import Sandbox
from engine.store import Store
from engine.task import run_task

ROOT = Path(__file__).resolve().parent.parent


def test_no_pipeline_module_imports_the_grader_even_indirectly() -> None:
    modules = [
        f"engine.pipeline.{m.name}"
        for m in pkgutil.walk_packages(engine.pipeline.__path__)
    ]
    assert "engine.pipeline.runner" in modules and "engine.pipeline.repair" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "leaked = [m for m in sys.modules if m.startswith(('engine.grading', 'engine.task'))]\n"
        "print(','.join(leaked))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_the_view_has_no_field_for_hidden_tests_or_references() -> None:
    names = {f.name for f in dataclasses.fields(ProblemView)}
    assert not names & {"hidden_tests", "references", "metadata"}
    assert "public_tests" in names


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with await Sandbox.create() as box:
        yield box


@pytest.mark.data
async def test_a_marker_planted_in_hidden_tests_never_reaches_a_prompt_or_an_event(
    shared_data: Path, sandbox: Sandbox, tmp_path: Path
) -> None:
    marker = f"HIDDEN-{uuid.uuid4().hex}"
    real = lcb_problem_with_private_tests(shared_data, "abc313_a")
    planted = (
        # The program reads two lines; the marker rides on a third, so the test stays valid.
        TestCase(f"3\n5 1 9\n{marker}\n", "5\n", TestKind.STDIN),
        TestCase("2\n1 1\n", f"{marker}\n", TestKind.STDIN),  # fails: the grader still runs it
    )
    problem = dataclasses.replace(
        real,
        hidden_tests=real.hidden_tests + planted,
        references=(f"# {marker}\nprint(0)\n",),
    )
    wrong, _ = lcb_reference(shared_data, "abc313_a", "o1_preview")
    right, _ = lcb_reference(shared_data, "abc313_a", "o1_mini")
    crash = "print(1 // 0)\n"
    # Passes the examples, but looks at the wrong people: S* will split it from `wrong`.
    variant = (
        "n = int(input())\np = list(map(int, input().split()))\n"
        "print(max(0, max(p[1:-1]) - p[0] + 1))\n"
    )
    script = {  # drives every step: probe fails, plans, diversity, tests, S*, repair
        PROBE: fenced(crash),
        CONSTRAINTS: "## Constraint set 1\nMax of the others.\n## Constraint set 2\nSort.",
        PLAN: "Find the maximum of the others and add one.",
        IMPLEMENT: [fenced(wrong), fenced(crash)],
        DIVERSITY: fenced(variant),
        SELFTEST: io_tests(("1\n60", "0"), ("3\n1 2 3", "3")),
        DIFFERENTIAL: inputs("3\n1 2 50", "2\n3 3"),
        ADJUDICATE: pick_output("50"),
        REPAIR: fenced(right),
    }
    backend = ScriptedBackend(script)
    seen: list[ProblemView] = []

    async def watching_solve(view, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(view)
        return await solve(view, *args, **kwargs)

    events: list[ev.Event] = []
    with Store(tmp_path / "log.sqlite") as store:
        outcome = await run_task(
            problem,
            backend,
            sandbox,
            # every step runs, also those the defaults skip once the examples decide
            PipelineConfig.preset("full", stop_when_passing=False, only_when_undecided=False,
                                  answer_prefill=False),
            store=store,
            emit=events.append,
            solver=watching_solve,
        )
        stored = store.events(outcome.task_id)

    (view,) = seen
    assert type(view) is ProblemView
    purposes = {c.key for c in backend.calls}
    assert purposes == {
        PROBE, CONSTRAINTS, PLAN, IMPLEMENT, DIVERSITY, SELFTEST, DIFFERENTIAL, ADJUDICATE, REPAIR,
    }
    for call in backend.calls:
        assert marker not in call.prompt
    for event in events:
        assert marker not in event.to_json(), type(event).__name__
    assert len(stored) == len(events)
    for event in stored:
        assert marker not in event.to_json(), type(event).__name__
    # The hidden tests were used, after the submission, by the grader only.
    (graded,) = [e for e in events if isinstance(e, ev.Graded)]
    assert graded.total == len(problem.public_tests) + len(problem.hidden_tests)
    submitted = next(i for i, e in enumerate(events) if isinstance(e, ev.AnswerSubmitted))
    assert events.index(graded) > submitted
    assert outcome.verdict == "WA"  # the planted impossible test fails every answer
