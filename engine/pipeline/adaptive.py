"""Adaptive k: how many candidates a problem gets, from difficulty signals.

The signals are the probe's result on the public examples (a probe that passes them suggests an
easy problem) and, when a trained Lens that `decides` is present (it beat the random and
shortest-code baselines on held-out problems, engine.lens.gate), the probe's energy (through
`EnergyScorer.suggest_k` and `suggest_tier`, which also picks the thinking budget for the steps
that write code)."""

from __future__ import annotations

from dataclasses import dataclass

from engine.lens.interface import EnergyScore
from engine.pipeline.context import Run


@dataclass(frozen=True, slots=True)
class Draw:
    k: int
    n_plans: int
    n_diverse: int
    reason: str


def choose_draw(run: Run, probe_passed: bool | None, probe_energy: EnergyScore | None) -> Draw:
    """`probe_passed`: None when there were no public examples to judge the probe by."""
    config = run.config
    if not config.adaptive_k:
        k, reason = config.k, "fixed k"
    elif probe_passed:
        k, reason = config.k_after_probe_pass, "the probe passes every public example"
    else:
        decides = probe_energy is not None and run.lens.trained and run.lens.decides
        k = run.lens.suggest_k(probe_energy, config.k) if decides and probe_energy else config.k
        reason = "the probe fails a public example" if probe_passed is False else "no examples"
        if probe_energy is not None and run.lens.trained:
            reason += f"; Lens energy {probe_energy.energy:.3f}"
            if decides:
                run.code_tier = run.lens.suggest_tier(probe_energy, config.tier("implement"))
            else:
                reason += " (shown only: not better than the baselines on held-out problems)"
    n_plans = min(config.n_plans, k) if config.plansearch else 0
    n_diverse = min(config.n_diverse, k - n_plans) if config.diversity else 0
    return Draw(k, n_plans, n_diverse, reason)
