"""The pipeline against the real default model (Qwen2.5-Coder-0.5B-Instruct Q4_K_M) in-process:
properties any sane run has, never exact texts. The model is loaded once for the module; every
generation is bounded by the pipeline's token limits, so the tier stays within minutes.
Skipped with the reason where the model is absent (scripts/setup.sh pulls it)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from support.pipeline_scenarios import dataset_problem

from engine import events as ev
from engine.llm.base import Backend
from engine.llm.llamacpp import LlamaCppBackend
from engine.pipeline.config import PipelineConfig
from engine.problems.loader import load
from engine.problems.model import Problem
from engine.sandbox.sandbox import Sandbox
from engine.task import run_task

ROOT = Path(__file__).resolve().parent.parent
# A quiet 2-core machine runs each test in one to two minutes; a busy one takes several times
# longer, so these get more than the suite's 300 s per test.
pytestmark = [pytest.mark.real_model, pytest.mark.slow, pytest.mark.timeout(1200)]


@pytest.fixture(scope="module")
def model(real_model_path: Path) -> Iterator[Backend]:
    backend = LlamaCppBackend.load(real_model_path)
    yield backend


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with await Sandbox.create() as box:
        yield box


def example(name: str) -> Problem:
    (problem,) = load(ROOT / "examples" / f"{name}.md").problems
    return problem


async def solved(problem: Problem, model: Backend, sandbox: Sandbox, config: PipelineConfig
                 ) -> list[ev.Event]:
    events: list[ev.Event] = []
    await run_task(problem, model, sandbox, config, emit=events.append)
    return events


def of(events: list[ev.Event], cls: type) -> list:
    return [e for e in events if isinstance(e, cls)]


async def test_answers_of_every_kind_extract_to_programs_that_compile(
    model: Backend, sandbox: Sandbox, shared_data: Path
) -> None:
    """Condition A on a stdin problem, a HumanEval and an MBPP function: the extracted program
    compiles and defines what the tests call (the sandbox would say CE otherwise)."""
    problems = [
        example("balanced-brackets"),
        dataset_problem(shared_data, "humaneval/HumanEval.jsonl.gz", "HumanEval/4"),
        dataset_problem(shared_data, "mbpp/sanitized-mbpp.json.gz", "mbpp/12"),
    ]
    for problem in problems:
        events = await solved(problem, model, sandbox, PipelineConfig.preset("A"))
        (submitted,) = of(events, ev.AnswerSubmitted)
        assert submitted.code.strip(), problem.id
        compile(submitted.code, problem.id, "exec")
        if problem.func_name:
            assert f"def {problem.func_name}" in submitted.code, problem.id
        (graded,) = of(events, ev.Graded)
        assert graded.verdict != "CE", (problem.id, submitted.code)


async def test_every_phase_runs_and_no_generation_hits_its_limit(
    model: Backend, sandbox: Sandbox
) -> None:
    """Every step forced on (no early exit, self-tests and S* even when the examples decide, no
    search budget), small k: the run finishes with each phase's events, every generation ends
    by itself or by the loop guard, and exactly one answer is submitted and graded."""
    config = PipelineConfig.preset(
        "full", early_exit=False, stop_when_passing=False, only_when_undecided=False,
        adaptive_k=False, k=2, n_plans=1, n_diverse=1, selftest_generations=2,
        max_adjudications=1, repair_iterations=1, seed=7, spend_answers=None,
    )
    events = await solved(example("balanced-brackets"), model, sandbox, config)

    assert of(events, ev.ErrorRaised) == []
    phases = {e.phase for e in of(events, ev.PhaseStarted)}
    assert {"probe", "examples", "diversity", "plan", "selftest", "select", "final"} <= phases
    purposes = {e.purpose for e in of(events, ev.GenerationStarted)}
    assert {"probe", "diversity", "constraints", "plan", "implement", "selftest"} <= purposes
    finished = of(events, ev.GenerationFinished)
    assert finished and all(e.finish_reason in ("stop", "loop") for e in finished), [
        (e.stream_id, e.finish_reason, e.completion_tokens) for e in finished]
    assert len(of(events, ev.CandidateCreated)) >= 2
    assert len(of(events, ev.AnswerSubmitted)) == 1 and len(of(events, ev.Graded)) == 1
    assert isinstance(events[-1], ev.TaskFinished) and events[-1].status == "submitted"


async def test_the_default_full_run_costs_what_a_probe_costs_when_it_passes(
    model: Backend, sandbox: Sandbox
) -> None:
    """The defaults on an easy problem: the probe passes the examples, the run exits early, one
    generation was spent, and the answer is right on the hidden tests."""
    events = await solved(example("sum-of-two"), model, sandbox, PipelineConfig.preset("full"))
    assert [e.purpose for e in of(events, ev.GenerationStarted)] == ["probe"]
    (graded,) = of(events, ev.Graded)
    assert graded.verdict == "AC"
