"""Every knob of the pipeline, and the named conditions A, B, C, D and full.

The conditions follow ATLAS's ablation:
  A     baseline: one direct answer, submitted as it is.
  B     + Phase 1: probe, PlanSearch, DivSampling, budget forcing, adaptive k; the first
        candidate that passes the public examples is submitted.
  C     + Phase 1 + Phase 2: selection by public examples, Lens energy, S* differential testing
        with model adjudication, and CodeT-style agreement.
  D     + Phase 1 + Phase 3: self-tests kept only when consistent, and PR-CoT repair.
  full  all of it.
Every knob can also be set one by one (`PipelineConfig.preset("D", repair_iterations=5)`).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from engine.llm.base import BudgetTier

CONDITIONS = ("A", "B", "C", "D", "full")

Selection = Literal["probe", "first_passing", "scored"]

DEFAULT_PERSPECTIVES = (
    "Re-read the specification: compare every sentence of the statement with what the program "
    "does, including the exact input and output format.",
    "Edge cases: empty or minimal input, equal elements, largest values, negative numbers, "
    "off-by-one boundaries.",
    "Complexity and limits: check the constraints; is the algorithm fast enough and does any "
    "value overflow or recurse too deep?",
    "Trace a failing example by hand, line by line, and find where the program's state first "
    "differs from what it should be.",
)

DEFAULT_PERSONAS = (
    "You are a careful competitive programmer who checks edge cases before writing code.",
    "You are a mathematician who looks for a closed form or an invariant first.",
    "You are a pragmatic engineer who prefers the simplest algorithm that fits the limits.",
)

DEFAULT_HINTS = (
    "Think about which standard algorithm family fits the constraints before writing code.",
    "Consider a greedy or sorting-based approach if it can be proven correct.",
    "Consider dynamic programming over a well-chosen state.",
)


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    condition: str = "full"

    # Phase 1: generate
    probe_temperature: float = 0.0
    plansearch: bool = True
    n_plans: int = 1  # constraint sets, each giving one plan and one implementation
    diversity: bool = True
    # Diverse samples are drawn first (one generation each; drawing stops at the first that
    # passes every public example): in the ablation they won every problem the pipeline won.
    n_diverse: int = 6
    diversity_temperatures: tuple[float, ...] = (0.6, 0.8, 1.0)  # a ladder, cycled
    personas: tuple[str, ...] = DEFAULT_PERSONAS
    hints: tuple[str, ...] = DEFAULT_HINTS
    plan_temperature: float = 0.7
    implement_temperature: float = 0.2
    # Adaptive k: candidates beyond the probe. When the probe passes every public example,
    # only `k_after_probe_pass` more are drawn (0: the probe stands, as in ATLAS's early exit).
    adaptive_k: bool = True
    k: int = 7
    k_after_probe_pass: int = 0
    # Early exit: a probe that passes every public example is submitted at once, so easy
    # problems cost what condition A costs. Drawing stops, likewise, as soon as a candidate
    # passes every public example (`stop_when_passing`).
    early_exit: bool = True
    stop_when_passing: bool = True

    # Budget forcing: the thinking budget tier per step (the Lens may raise it per problem).
    tiers: dict[str, str] = field(
        default_factory=lambda: {
            "probe": "standard",
            "constraints": "light",
            "plan": "light",
            "implement": "standard",
            "diversity": "standard",
            "differential": "light",
            "adjudicate": "standard",
            "selftest": "light",
            "repair": "standard",
        }
    )
    budget_forcing: bool = True  # cap and extend thinking per tier (off: the model's default)
    # Answer tokens per generation, by purpose, sized for what each step writes (a program, a
    # short plan, a handful of tests); a thinking model gets its thinking budget on top. A
    # generation that reaches its limit is cut there and says so (finish_reason "length").
    token_limits: dict[str, int] = field(
        default_factory=lambda: {
            "probe": 1024,
            "implement": 1024,
            "diversity": 1024,
            "repair": 1536,
            "constraints": 512,
            "plan": 512,
            "selftest": 768,
            "differential": 512,
            "adjudicate": 384,
        }
    )
    max_tokens: int = 8192  # a ceiling on every generation, thinking included
    # The search budget per problem, in answers: once the problem's completion tokens reach
    # `spend_answers` times one answer's (the probe's, at least `answer_floor_tokens`), no new
    # generation starts and the best candidate so far is submitted. The steps run in the order
    # of what they measured to be worth (BENCHMARKS.md), so a problem nothing solves costs a
    # bounded multiple of condition A. None: no budget.
    spend_answers: float | None = 8.0
    answer_floor_tokens: int = 128
    # Whether the model thinks in <think> tags (the catalogue knows; None: assume it does until
    # a generation shows it does not). A model that does not think gets no thinking budget.
    thinking_model: bool | None = None
    loop_guard: bool = True  # stop a generation caught in a loop, keep what came before it
    # Write the first words of answers whose shape matters (self-tests: `assert f(`) for the
    # model, so that small models keep to the shape (models that think are left alone).
    answer_prefill: bool = True
    seed: int | None = None  # each generation gets seed + its number when set

    # Phase 2: select
    run_examples: bool = True  # public examples (also reported for condition A)
    statement_examples: bool = True  # examples written in the statement are public tests too
    selection: Selection = "scored"
    behaviour_groups: bool = True  # candidates grouped by behaviour on mutated example inputs
    n_mutated_inputs: int = 12
    lens_scoring: bool = True
    differential: bool = True
    n_differential_inputs: int = 4
    adjudicate: bool = True
    max_adjudications: int = 1
    codet: bool = True

    # Phase 3: self-tests and repair
    selftests: bool = True
    # Self-tests and S* cost generations: spend them only when the examples and behaviour groups
    # leave the choice open (no candidate passes the examples, or passing ones disagree).
    only_when_undecided: bool = True
    n_selftests: int = 5  # tests asked for per generation
    selftest_generations: int = 2  # independent generations of self-tests
    selftest_min_witnesses: int = 2  # generations + candidates agreeing on an expected output
    repair: bool = True
    repair_iterations: int = 2
    perspectives: tuple[str, ...] = DEFAULT_PERSPECTIVES

    # Plumbing
    # Answers drawn from one context in one call to the backend (diverse samples, self-test
    # generations). Batching pays where several sequences decode for little more than one (a
    # GPU, a server with parallel slots); on the default 2-core CPU it measured no faster at
    # k = 3 (BENCHMARKS.md, "Batched generation") and drawing one at a time lets the search
    # stop at the first sample that passes, so 1.
    batch_draws: int = 1
    token_batch: int = 8  # deltas per TokenDelta event
    prompts_dir: str | None = None  # overrides the user's config folder for prompt templates

    @classmethod
    def preset(cls, condition: str, **overrides: Any) -> PipelineConfig:
        if condition not in CONDITIONS:
            raise ValueError(f"unknown condition {condition!r}; choose one of {CONDITIONS}")
        phase1 = condition != "A"
        phase2 = condition in ("C", "full")
        phase3 = condition in ("D", "full")
        knobs: dict[str, Any] = {
            "condition": condition,
            "plansearch": phase1,
            "diversity": phase1,
            "adaptive_k": phase1,
            "budget_forcing": phase1,
            "selection": "scored" if (phase2 or phase3) else "first_passing" if phase1
            else "probe",
            "lens_scoring": phase2,
            "behaviour_groups": phase2,
            "differential": phase2,
            "adjudicate": phase2,
            "codet": phase2,
            "selftests": phase3,
            "repair": phase3,
        }
        knobs.update(overrides)
        return cls(**knobs)

    def with_overrides(self, **overrides: Any) -> PipelineConfig:
        return dataclasses.replace(self, **overrides)

    def token_limit(self, purpose: str, thinking_budget: int = 0) -> int:
        """Tokens one generation for `purpose` may use: its answer limit plus the thinking
        budget, never above `max_tokens`."""
        answer = self.token_limits.get(purpose, self.max_tokens)
        return min(answer + thinking_budget, self.max_tokens)

    def tier(self, step: str) -> BudgetTier:
        return BudgetTier(self.tiers.get(step, "none"))

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)
