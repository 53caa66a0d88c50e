"""The runner: composes the techniques by the configured condition into one solve.

Order of a full run: probe -> public examples (a probe that passes them all is submitted at
once: early exit) -> adaptive k -> DivSampling -> PlanSearch (each new candidate is checked on
the examples, and drawing stops once one passes them) -> behaviour groups on mutated example
inputs -> self-tests (Phase 3 tests, also used by CodeT agreement) -> selection (Lens energy,
S* differential testing with adjudication, scoring) -> PR-CoT repair -> final answer. Self-tests
and S* cost generations and run only while the examples and behaviour groups leave the choice
open. A condition switches steps off (see `engine.pipeline.config`). Before each step the gates
may pause for a person.

Failure is honest: a model that fails (after the backend's own retries) or any other error ends
the search with an `ErrorRaised` event, and the best candidate so far is still submitted. A
person's stop does the same without an error. The answer is submitted once; grading happens
after `solve` returns (in `engine.task.run_task`), never here.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

from engine import events as ev
from engine.lens.interface import EnergyScorer, NeutralLens
from engine.llm.base import Backend, BackendError
from engine.pipeline.adaptive import choose_draw
from engine.pipeline.config import PipelineConfig
from engine.pipeline.context import Candidate, Emit, Run, StopSolving
from engine.pipeline.differential import differential
from engine.pipeline.diversity import diversify
from engine.pipeline.energy import probe_energy, score_energy
from engine.pipeline.evidence import behaviour_groups, mutated_inputs
from engine.pipeline.examples import add_public_tests, passes_examples, run_examples
from engine.pipeline.final import submit
from engine.pipeline.gates import Gates
from engine.pipeline.plansearch import plansearch
from engine.pipeline.probe import probe
from engine.pipeline.repair import repair
from engine.pipeline.selection import emit_scores, rank
from engine.pipeline.selftest import selftests
from engine.pipeline.steering import checkpoint
from engine.problems.model import ProblemView
from engine.sandbox.interface import TestRunner


@dataclass(frozen=True, slots=True)
class SolveOutcome:
    status: str  # "submitted"; "no_answer" (an empty answer went in); "error" (and an error)
    answer: str | None
    candidate_id: str | None
    phase: str | None  # the phase whose candidate was submitted: probe, plan, diversity, ...
    examples_verdict: str | None  # the answer on the public examples; None when there are none
    examples_passed: int
    examples_total: int
    candidates: int
    prompt_tokens: int
    completion_tokens: int
    elapsed_s: float
    errors: tuple[str, ...] = ()


async def solve(
    view: ProblemView,
    backend: Backend,
    sandbox: TestRunner,
    config: PipelineConfig,
    emit: Emit,
    gates: Gates | None = None,
    lens: EnergyScorer | None = None,
    *,
    task_id: str | None = None,
) -> SolveOutcome:
    """Solve one problem from its view; every step is an event passed to `emit`."""
    run = Run(
        view=view,
        backend=backend,
        sandbox=sandbox,
        config=config,
        emit_fn=emit,
        task_id=task_id or view.id,
        gates=gates,
        lens=lens or NeutralLens(),
    )
    try:
        await _search(run)
    except StopSolving:
        pass  # the person's stop is already in the log (GateResolved)
    except BackendError as exc:
        await run.error(run.step, f"the model failed: {exc}")
    except Exception as exc:  # a bug or a broken sandbox: said, and the best so far still goes
        await run.error(run.step, f"{type(exc).__name__}: {exc}")
    with contextlib.suppress(StopSolving):
        await checkpoint(run, "final")
    async with run.phase("final"):
        chosen = await submit(run)
    outcome = _outcome(run, chosen)
    # run_task holds this one back and ends the log itself, after grading.
    await run.emit(ev.TaskFinished, status=outcome.status, elapsed_s=outcome.elapsed_s)
    return outcome


async def _search(run: Run) -> None:
    config = run.config
    await add_public_tests(run)

    first = None
    if await checkpoint(run, "probe") == "continue":
        async with run.phase("probe"):
            first = await probe(run)
    if first is not None and config.run_examples and run.tests_of("public"):
        async with run.phase("examples"):
            await run_examples(run, [first])

    probe_passed = passes_examples(run, first.id) if first else False
    if probe_passed and config.early_exit and config.condition != "A":
        return  # the probe passes every example: submitted as it is, at condition A's cost
    draw = choose_draw(run, probe_passed, await probe_energy(run, first))

    async def enough(candidate: Candidate) -> bool:
        """Check each new candidate on the examples at once; stop drawing once one passes."""
        if not (config.run_examples and run.tests_of("public")):
            return False
        await run_examples(run, [candidate])
        return config.stop_when_passing and bool(passes_examples(run, candidate.id))

    # The cheaper draws first: a diverse sample costs one generation, a plan three.
    if draw.n_diverse and await checkpoint(run, "diversity", draw.reason) == "continue":
        async with run.phase("diversity"):
            await diversify(run, draw.n_diverse, enough)
    if (
        draw.n_plans
        and not _solved_by_examples(run)
        and await checkpoint(run, "plansearch", draw.reason) == "continue"
    ):
        async with run.phase("plan"):
            await plansearch(run, draw.n_plans, enough)

    pool = list(run.candidates.values())
    if not pool:
        return
    if config.run_examples and run.tests_of("public") and len(pool) > 1:
        async with run.phase("examples"):
            await run_examples(run, pool)

    if config.selection == "scored" and config.behaviour_groups and len(pool) > 1:
        async with run.phase("select"):
            await behaviour_groups(run, pool, mutated_inputs(run, config.n_mutated_inputs))

    undecided = not config.only_when_undecided or not _decided(run, pool)
    if config.selftests and undecided and await checkpoint(run, "selftest") == "continue":
        async with run.phase("selftest"):
            await selftests(run, pool)

    best: Candidate = pool[0]
    if config.selection == "scored" and await checkpoint(run, "select") == "continue":
        async with run.phase("select"):
            await score_energy(run, pool)
            if (
                config.differential
                and undecided
                and await checkpoint(run, "differential") == "continue"
            ):
                await differential(run, _passing_examples_or_all(run, pool))
            ranked = rank(run, pool)
            await emit_scores(run, ranked)
            best = ranked[0].candidate

    if config.repair and config.repair_iterations > 0 and run.failing(
        best.id, ("public", "self", "user")
    ):
        async with run.phase("repair"):
            await repair(run, best)


def _solved_by_examples(run: Run) -> bool:
    """A candidate passes every public example (and there are examples) and drawing may stop."""
    return run.config.stop_when_passing and any(
        passes_examples(run, c.id) for c in run.candidates.values()
    )


def _decided(run: Run, pool: list[Candidate]) -> bool:
    """The examples and behaviour groups settle the choice: some candidate passes every public
    example and all such candidates behave alike on the generated inputs."""
    passing = [c for c in pool if passes_examples(run, c.id)]
    if not passing:
        return False
    groups = {run.behaviour.get(c.id) for c in passing}
    return len(passing) == 1 or (len(groups) == 1 and None not in groups)


def _passing_examples_or_all(run: Run, pool: list[Candidate]) -> list[Candidate]:
    passing = [c for c in pool if passes_examples(run, c.id) is not False]
    return passing if len(passing) >= 2 else pool


def _outcome(run: Run, chosen: Candidate | None) -> SolveOutcome:
    passed, total = run.tally(chosen.id, ["public"]) if chosen else (0, 0)
    verdict = None
    if chosen is not None and total:
        failing = run.failing(chosen.id, ["public"])
        verdict = "AC" if not failing else run.outcomes[(chosen.id, failing[0].id)].verdict.value
    status = "submitted" if chosen else ("error" if run.errors else "no_answer")
    return SolveOutcome(
        status=status,
        answer=chosen.code if chosen else None,
        candidate_id=chosen.id if chosen else None,
        phase=chosen.phase if chosen else None,
        examples_verdict=verdict,
        examples_passed=passed,
        examples_total=total,
        candidates=len(run.candidates),
        prompt_tokens=run.usage.prompt_tokens,
        completion_tokens=run.usage.completion_tokens,
        elapsed_s=time.monotonic() - run.started,
        errors=tuple(run.errors),
    )
