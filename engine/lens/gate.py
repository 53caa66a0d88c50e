"""The rule that decides whether a trained Lens may take part in decisions.

A Lens is kept out of every decision (ranking in selection, adaptive k, the thinking tier)
unless its stored held-out evaluation beat both baselines measured on the same problems: a
random scorer and "shortest code wins", on AUROC and on selection accuracy. Otherwise its
energies are still computed and shown (the energy pane, the events), but ranking ignores them,
and what shows them says so.

Imports neither torch nor numpy: the workbench and `doctor` ask it without loading a network.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

# The keys of `TrainingRecord.heldout` the rule reads (the Lens's own figures are "auroc" and
# "selection_accuracy"; each baseline's carry its name as a prefix).
BASELINES = ("random", "shortest")
FIGURES = ("auroc", "selection_accuracy")
SHOWN_ONLY = "shown only"  # appended to a gated Lens's name wherever it is displayed


@dataclass(frozen=True, slots=True)
class GateVerdict:
    decides: bool
    reason: str


def baseline_keys() -> list[str]:
    return [f"{b}_{f}" for b in BASELINES for f in FIGURES]


def ranking_gate(heldout: Mapping[str, float]) -> GateVerdict:
    """Whether a Lens with these held-out figures beat both baselines on both figures."""
    missing = [k for k in (*FIGURES, *baseline_keys()) if not _known(heldout.get(k))]
    if missing:
        return GateVerdict(
            False,
            "no held-out comparison with the random and shortest-code baselines is stored "
            f"(missing: {', '.join(missing)}); the Lens is shown but does not rank",
        )
    losses = []
    for figure in FIGURES:
        mine = float(heldout[figure])
        for baseline in BASELINES:
            theirs = float(heldout[f"{baseline}_{figure}"])
            if not mine > theirs:
                losses.append(f"{figure} {mine:.3f} <= {baseline} {theirs:.3f}")
    if losses:
        return GateVerdict(
            False,
            "on held-out problems it did not beat both baselines ("
            + "; ".join(losses)
            + "); the Lens is shown but does not rank",
        )
    return GateVerdict(
        True,
        "on held-out problems it beat random and shortest code on AUROC "
        f"({heldout['auroc']:.3f}) and selection accuracy ({heldout['selection_accuracy']:.3f})",
    )


def _known(value: float | None) -> bool:
    return value is not None and not math.isnan(float(value))
