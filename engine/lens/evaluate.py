"""Evaluating a Lens on problems it never trained on, beside two baselines measured the same way.

Baselines:
- random: a score that knows nothing (a constant energy, so selection is a fair coin among the
  candidates, AUROC is 0.5) with the base pass rate as its probability;
- shortest code: energy = length of the code, the cheapest heuristic a Lens must beat.
Their probabilities are cross-fitted over two halves of the evaluation problems (fitted on one
half, measured on the other), so no baseline is calibrated on the samples it is judged on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.lens.artifact import LensArtifact, LensMismatchError
from engine.lens.calibration import Platt
from engine.lens.dataset import LabelSource, LensDataError, LensDataset
from engine.lens.metrics import (
    auroc,
    auroc_within_problems,
    brier_score,
    expected_calibration_error,
    mixed_problems,
    selection_accuracy,
)


@dataclass(frozen=True, slots=True)
class Figures:
    auroc: float
    auroc_within: float
    selection_accuracy: float
    ece: float
    brier: float


@dataclass(frozen=True, slots=True, eq=False)
class EvalReport:
    label_source: str
    samples: int
    problems: int
    mixed_problems: int
    excluded_problems: int  # in the data but trained on: left out
    pass_rate: float
    lens: Figures
    random: Figures
    shortest: Figures
    energy: np.ndarray
    passed: np.ndarray

    def heldout(self) -> dict[str, float]:
        """The figures an artifact stores as its held-out evaluation (`TrainingRecord.heldout`):
        the Lens's, and the baselines' that `engine.lens.gate` compares them with."""
        figures = {
            "auroc": self.lens.auroc,
            "auroc_within": self.lens.auroc_within,
            "selection_accuracy": self.lens.selection_accuracy,
            "ece": self.lens.ece,
            "problems": float(self.problems),
            "mixed_problems": float(self.mixed_problems),
        }
        for name, baseline in (("random", self.random), ("shortest", self.shortest)):
            figures[f"{name}_auroc"] = baseline.auroc
            figures[f"{name}_selection_accuracy"] = baseline.selection_accuracy
        return figures


def baseline_figures(
    passed: np.ndarray, problem: np.ndarray, code_chars: np.ndarray
) -> dict[str, float]:
    """AUROC and selection accuracy of the random and shortest-code baselines, keyed as
    `TrainingRecord.heldout` stores them."""
    figures: dict[str, float] = {}
    for name, energy in (
        ("random", np.zeros(len(passed))),
        ("shortest", np.asarray(code_chars, dtype=np.float64)),
    ):
        figures[f"{name}_auroc"] = auroc(energy, passed)
        figures[f"{name}_selection_accuracy"] = selection_accuracy(energy, passed, problem)
    return figures


def evaluate(
    artifact: LensArtifact, data: LensDataset, source: LabelSource | None = None
) -> EvalReport:
    """Figures on `data`'s problems that `artifact` did not train or calibrate on."""
    if (why := artifact.spec.mismatch(data.spec)) is not None:
        raise LensMismatchError(why)
    source = source or artifact.record.label_source
    data = data.labelled(source)
    seen = set(artifact.record.problems)
    all_problems = data.problems()
    unseen = [p for p in all_problems if p not in seen]
    if not unseen:
        raise LensDataError(
            f"every problem with {source!r} labels in this data was used to train the Lens "
            f"({len(all_problems)} problems); evaluate on data from other problems"
        )
    data = data.of_problems(unseen)
    passed = data.labels[source].astype(np.int8)
    energy = artifact.energies(data.vectors)
    lens = Figures(
        auroc=auroc(energy, passed),
        auroc_within=auroc_within_problems(energy, passed, data.problem),
        selection_accuracy=selection_accuracy(energy, passed, data.problem),
        ece=expected_calibration_error(artifact.platt.probability(energy), passed),
        brier=brier_score(artifact.platt.probability(energy), passed),
    )
    return EvalReport(
        label_source=source,
        samples=len(data),
        problems=len(unseen),
        mixed_problems=len(mixed_problems(data.problem, passed)),
        excluded_problems=len(all_problems) - len(unseen),
        pass_rate=float(passed.mean()),
        lens=lens,
        random=_baseline(np.zeros(len(data)), passed, data.problem),
        shortest=_baseline(data.code_chars.astype(np.float64), passed, data.problem),
        energy=energy,
        passed=passed,
    )


def _baseline(energy: np.ndarray, passed: np.ndarray, problem: np.ndarray) -> Figures:
    prob = _cross_fitted(energy, passed, problem)
    return Figures(
        auroc=auroc(energy, passed),
        auroc_within=auroc_within_problems(energy, passed, problem),
        selection_accuracy=selection_accuracy(energy, passed, problem),
        ece=expected_calibration_error(prob, passed),
        brier=brier_score(prob, passed),
    )


def _cross_fitted(energy: np.ndarray, passed: np.ndarray, problem: np.ndarray) -> np.ndarray:
    """Platt probabilities where each half of the problems is calibrated on the other half."""
    names = np.unique(problem)
    half = np.isin(problem, names[::2])
    prob = np.empty(len(energy))
    for target in (half, ~half):
        train = ~target if (~target).any() else target
        prob[target] = Platt.fit(energy[train], passed[train]).probability(energy[target])
    return prob
