"""The pipeline's own parts, without benchmark data: conditions, prompt templates and their
overrides, token batching, step gates and a person's actions, constraint parsing. A small
stdin problem, a scripted model and the real sandbox."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support.pipeline_scenarios import (
    CONSTRAINTS,
    DIFFERENTIAL,
    DIVERSITY,
    IMPLEMENT,
    PLAN,
    PROBE,
    REPAIR,
    SELFTEST,
    double_problem,
    fenced,
    io_tests,
)

from engine import events as ev
from engine.llm.scripted import ScriptedBackend
from engine.pipeline.config import CONDITIONS, PipelineConfig
from engine.pipeline.gates import Gates
from engine.pipeline.plansearch import split_constraint_sets
from engine.pipeline.prompts import NAMES, TemplateError, load_template
from engine.pipeline.runner import SolveOutcome, solve
from engine.sandbox.sandbox import Sandbox

RIGHT = "print(int(input()) * 2)\n"
WRONG = "print(int(input()) + 2)\n"
PROBLEM = double_problem()
FULL_SCRIPT = {
    PROBE: fenced(WRONG),
    CONSTRAINTS: "## Constraint set 1\nMultiply.\n## Constraint set 2\nAdd n to itself.",
    PLAN: "Multiply by two.",
    IMPLEMENT: fenced(WRONG),
    DIVERSITY: fenced(WRONG),
    SELFTEST: io_tests(("4", "8"), ("0", "0")),
    DIFFERENTIAL: "```input\n7\n```",
    REPAIR: fenced(RIGHT),
}


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with await Sandbox.create() as box:
        yield box


async def run(
    sandbox: Sandbox,
    script: dict,
    config: PipelineConfig,
    gates: Gates | None = None,
) -> tuple[SolveOutcome, list[ev.Event], ScriptedBackend]:
    backend = ScriptedBackend(script)
    events: list[ev.Event] = []
    outcome = await solve(PROBLEM.view(), backend, sandbox, config, events.append, gates)
    return outcome, events, backend


def of(events: list[ev.Event], cls: type) -> list:
    return [e for e in events if isinstance(e, cls)]


# --- conditions ---------------------------------------------------------------------------


def test_presets_switch_the_phases_as_the_conditions_say() -> None:
    a, b, c, d, full = (PipelineConfig.preset(name) for name in CONDITIONS)
    assert (a.plansearch, a.diversity, a.selection) == (False, False, "probe")
    assert (b.plansearch, b.differential, b.selftests, b.selection) == (
        True, False, False, "first_passing"
    )
    assert (c.differential, c.codet, c.lens_scoring, c.repair) == (True, True, True, False)
    assert (d.differential, d.selftests, d.repair) == (False, True, True)
    assert (full.differential, full.selftests, full.repair) == (True, True, True)
    assert PipelineConfig.preset("D", repair_iterations=7).repair_iterations == 7
    with pytest.raises(ValueError, match="unknown condition"):
        PipelineConfig.preset("E")
    with pytest.raises(TypeError):
        PipelineConfig.preset("A", no_such_knob=1)
    assert json.loads(full.to_json())["condition"] == "full"


@pytest.mark.parametrize(
    ("condition", "purposes"),
    [
        ("A", {"probe"}),
        ("B", {"probe", "constraints", "plan", "implement", "diversity"}),
        ("C", {"probe", "constraints", "plan", "implement", "diversity"}),
        ("D", {"probe", "constraints", "plan", "implement", "diversity", "selftest", "repair"}),
    ],
)
async def test_each_condition_runs_only_its_steps(
    sandbox: Sandbox, condition: str, purposes: set[str]
) -> None:
    config = PipelineConfig.preset(condition, n_plans=1, n_diverse=1)
    outcome, events, _ = await run(sandbox, FULL_SCRIPT, config)
    assert {g.purpose for g in of(events, ev.GenerationStarted)} == purposes
    assert len(of(events, ev.AnswerSubmitted)) == 1
    assert of(events, ev.ErrorRaised) == []
    # Only D repairs the wrong program; the others submit a wrong one (C has nothing to tell
    # apart: every candidate is the same program, so S* has no second cluster to run).
    assert outcome.examples_verdict == ("AC" if condition == "D" else "WA")
    assert (outcome.phase == "repair") is (condition == "D")


# --- prompts ------------------------------------------------------------------------------


def test_every_template_loads_with_a_version_and_no_routing_marker() -> None:
    for name in NAMES:
        template = load_template(name, Path("/nonexistent"))
        assert template.version.isdigit()
        # The model sees only the task: the purpose travels in SamplingParams, not the prompt.
        assert "[atlas:" not in template.body
    with pytest.raises(TemplateError, match="needs variable 'problem'"):
        load_template("probe", Path("/nonexistent")).render(answer_format="x")
    with pytest.raises(TemplateError, match="unknown prompt template"):
        load_template("nope")


async def test_a_users_template_overrides_the_builtin_and_is_recorded(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    prompts = tmp_path / "atlas-tui" / "prompts"
    prompts.mkdir(parents=True)
    (prompts / "probe.txt").write_text(
        "version: 7-mine\n---\n[atlas:probe] MY OWN PROMPT\n$problem\n$answer_format\n"
    )
    _, events, backend = await run(sandbox, FULL_SCRIPT, PipelineConfig.preset("A"))
    (started,) = of(events, ev.GenerationStarted)
    assert (started.template, started.template_version) == ("probe", "user:7-mine")
    assert "MY OWN PROMPT" in started.prompt and "Read an integer n" in started.prompt
    assert "MY OWN PROMPT" in backend.calls[0].prompt
    # A file without a version line is versioned by its content.
    (prompts / "probe.txt").write_text("[atlas:probe] plain $problem $answer_format")
    assert load_template("probe").version.startswith("user:")


async def test_token_deltas_are_batched_and_add_up_to_the_answer(sandbox: Sandbox) -> None:
    answer = "<think>double it, so multiply by two</think>" + fenced(RIGHT, "Multiply it by two.")
    config = PipelineConfig.preset("A", token_batch=4)
    _, events, _ = await run(sandbox, {PROBE: answer}, config)
    deltas = of(events, ev.TokenDelta)
    assert all(d.tokens <= 4 for d in deltas) and any(d.tokens == 4 for d in deltas)
    thinking = "".join(d.text for d in deltas if d.channel == "thinking")
    said = "".join(d.text for d in deltas if d.channel == "answer")
    assert thinking.strip() == "double it, so multiply by two"
    assert said.strip() == fenced(RIGHT, "Multiply it by two.").strip()


# --- gates --------------------------------------------------------------------------------


async def test_gates_pause_before_repairs_and_a_person_steers(sandbox: Sandbox) -> None:
    """Pause before every repair: skip the first, continue the second; meanwhile add a test,
    edit a candidate and pin it. Every action is an event and the pin decides the answer."""
    gates = Gates(pause_before={"repair"})
    config = PipelineConfig.preset("D", n_plans=0, n_diverse=0, adaptive_k=False)
    backend = ScriptedBackend(FULL_SCRIPT)
    events: list[ev.Event] = []

    async def steer(event: ev.Event) -> None:
        events.append(event)
        if isinstance(event, ev.GateReached) and event.step == "repair 1":
            gates.resolve("skip")
        elif isinstance(event, ev.GateReached) and event.step == "repair 2":
            gates.add_test("10\n", "20\n")
            gates.edit_candidate("c1", "n = int(input())\nprint(n + n)\n")
            gates.pin_answer("c2")  # the edit will be c2
            gates.resolve("continue")

    outcome = await solve(PROBLEM.view(), backend, sandbox, config, steer, gates)

    reached = [e.step for e in of(events, ev.GateReached)]
    resolved = [(e.step, e.action) for e in of(events, ev.GateResolved)]
    assert reached[:2] == ["repair 1", "repair 2"]
    assert resolved[:2] == [("repair 1", "skip"), ("repair 2", "continue")]
    assert [a.action for a in of(events, ev.UserAction)] == [
        "add_test", "edit_candidate", "pin_answer",
    ]
    user_test = [t for t in of(events, ev.TestAdded) if t.kind == "user"]
    assert [(t.input, t.expected) for t in user_test] == [("10\n", "20\n")]
    edited = [c for c in of(events, ev.CandidateCreated) if c.origin == "user"]
    assert [(c.candidate_id, c.parent_id) for c in edited] == [("c2", "c1")]
    assert {(r.candidate_id, r.verdict) for r in of(events, ev.TestRun) if r.test_id == "u1"} >= {
        ("c1", "WA"), ("c2", "AC"),
    }
    # The skipped iteration made no repair; the continued one did.
    assert [r.iteration for r in of(events, ev.RepairIteration)] == [2]
    (selected,) = of(events, ev.CandidateSelected)
    assert (selected.candidate_id, selected.reason) == ("c2", "pinned by a person")
    assert outcome.candidate_id == "c2" and outcome.answer == "n = int(input())\nprint(n + n)\n"


async def test_stop_at_a_gate_ends_the_search_and_still_submits(sandbox: Sandbox) -> None:
    gates = Gates(pause_before={"diversity"}, policy=lambda step: "stop")
    config = PipelineConfig.preset("full", adaptive_k=False)
    outcome, events, backend = await run(sandbox, FULL_SCRIPT, config, gates)
    assert [(e.step, e.action) for e in of(events, ev.GateResolved)] == [("diversity", "stop")]
    assert [c.key for c in backend.calls] == [PROBE]
    assert outcome.status == "submitted" and outcome.candidate_id == "c1"
    assert of(events, ev.ErrorRaised) == []
    with pytest.raises(ValueError, match="unknown gate action"):
        gates.resolve("pause")  # type: ignore[arg-type]


# --- parsing ------------------------------------------------------------------------------


def test_constraint_sets_are_split_by_their_headings() -> None:
    text = (
        "Some preamble.\n## Constraint set 1\nGreedy works: costs are positive.\n\n"
        "**Constraint set 2**\nDP over prefixes.\n### Observation set 3:\nMath."
    )
    assert split_constraint_sets(text) == [
        "Greedy works: costs are positive.",
        "DP over prefixes.",
        "Math.",
    ]
    assert split_constraint_sets("just one idea") == ["just one idea"]
    assert split_constraint_sets("   ") == []


# --- the Lens -----------------------------------------------------------------------------


class ShortIsLikely:
    """A trained-looking scorer for the test: lower energy for shorter code (a real rule a
    Lens could learn), and k and tier from the probe's energy."""

    name = "lens:test-short"
    decides = True  # as if it had beaten the baselines on held-out problems
    trained = True

    def __init__(self) -> None:
        self.probe_energies: list[float] = []

    def feature_text(self, view, code: str) -> str:  # type: ignore[no-untyped-def]
        return code

    def score(self, embeddings, model: str):  # type: ignore[no-untyped-def]
        from engine.lens.interface import EnergyScore

        return [EnergyScore(energy=float(len(e)), pass_probability=0.5) for e in embeddings]

    def suggest_k(self, probe_energy, default_k: int) -> int:  # type: ignore[no-untyped-def]
        self.probe_energies.append(probe_energy.energy)
        return 2

    def suggest_tier(self, probe_energy, default):  # type: ignore[no-untyped-def]
        from engine.llm.base import BudgetTier

        return BudgetTier.HARD


# A wrong probe, a longer right diverse sample and a short right plan: the Lens's tie to break.
LONG_RIGHT = "n = int(input())\nresult = n * 2\nprint(result)\n"
TIE_SCRIPT = {
    PROBE: fenced(WRONG),
    CONSTRAINTS: "## Constraint set 1\nDouble.",
    PLAN: "Double it.",
    IMPLEMENT: fenced(RIGHT),
    DIVERSITY: fenced(LONG_RIGHT),
}


class EmbedsByLength(ScriptedBackend):
    """Embeddings whose size is the code's length in lines (so the scorer above sees it)."""

    async def embed(self, text: str) -> list[float]:
        return [1.0] * len(text.splitlines())


async def test_a_trained_lens_sets_k_and_tier_and_breaks_ties_by_energy(
    sandbox: Sandbox,
) -> None:
    lens = ShortIsLikely()
    backend = EmbedsByLength(TIE_SCRIPT)
    events: list[ev.Event] = []
    config = PipelineConfig.preset("C", differential=False, n_plans=1, thinking_model=True,
                                   stop_when_passing=False)
    outcome = await solve(PROBLEM.view(), backend, sandbox, config, events.append, lens=lens)

    assert lens.probe_energies == [1.0]  # the one-line probe, scored before k was chosen
    tiers = {g.purpose: g.budget_tier for g in of(events, ev.GenerationStarted)}
    assert tiers == {  # the Lens's tier for code-writing steps; the probe kept its own
        "probe": "standard", "constraints": "light", "plan": "light", "implement": "hard",
        "diversity": "hard",
    }
    created = [(c.candidate_id, c.origin) for c in of(events, ev.CandidateCreated)]
    assert created == [("c1", "probe"), ("c2", "diversity"), ("c3", "plan")]  # k = 2
    energies = {e.candidate_id: e.energy for e in of(events, ev.EnergyScored)}
    assert energies == {"c1": 1.0, "c2": 3.0, "c3": 1.0}
    assert all(e.lens == "lens:test-short" for e in of(events, ev.EnergyScored))
    # c2 and c3 both pass the example; the lower energy wins although c3 came later.
    assert outcome.candidate_id == "c3"
    (selected,) = of(events, ev.CandidateSelected)
    assert "energy 1.000" in selected.reason


class ShortIsLikelyShownOnly(ShortIsLikely):
    """The same energies from a Lens that did not beat the baselines on held-out problems."""

    name = "lens:test-short (shown only)"
    decides = False


async def test_a_lens_that_did_not_beat_the_baselines_is_shown_but_decides_nothing(
    sandbox: Sandbox,
) -> None:
    lens = ShortIsLikelyShownOnly()
    events: list[ev.Event] = []
    config = PipelineConfig.preset("C", differential=False, n_plans=1, n_diverse=1, k=2,
                                   thinking_model=True, stop_when_passing=False)
    backend = EmbedsByLength(TIE_SCRIPT)
    outcome = await solve(PROBLEM.view(), backend, sandbox, config, events.append, lens=lens)

    assert lens.probe_energies == []  # k and the tier are not asked of it
    tiers = {g.purpose: g.budget_tier for g in of(events, ev.GenerationStarted)}
    assert tiers["implement"] != "hard"
    energies = {e.candidate_id: e.energy for e in of(events, ev.EnergyScored)}
    assert energies == {"c1": 1.0, "c2": 3.0, "c3": 1.0}  # still scored and shown
    # c2 and c3 both pass the example; the energy ranks nothing, so the earlier one wins.
    assert outcome.candidate_id == "c2"
    (selected,) = of(events, ev.CandidateSelected)
    assert "shown only" in selected.reason
    scored = [json.loads(e.parts) for e in of(events, ev.CandidateScored)]
    assert all(p["energy_ranks"] is False for p in scored)
