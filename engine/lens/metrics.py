"""The figures a Lens is judged by, each computed the same way for the Lens and its baselines.

- AUROC: the chance that a random passing candidate gets a lower energy than a random failing
  one (ties count half), over all labelled candidates.
- AUROC within problems: the same, averaged over mixed problems, candidates compared only with
  candidates of their own problem.
- Selection accuracy: over "mixed" problems (some candidates pass, some fail), how often the
  candidate with the lowest energy passes. Ties are broken by expectation (a tie between a
  passing and a failing candidate counts as the fraction passing), so a constant score scores
  exactly what random choice would.
- ECE: expected calibration error of the pass probability, over equal-width bins.
- Brier: mean squared error of the pass probability (lower is better; rewards sharpness too).
"""

from __future__ import annotations

import numpy as np


def auroc(energy: np.ndarray, passed: np.ndarray) -> float:
    """Mann-Whitney AUROC of `-energy` as a predictor of passing; NaN with only one class."""
    energy = np.asarray(energy, dtype=np.float64)
    passed = np.asarray(passed).astype(bool)
    n_pos, n_neg = int(passed.sum()), int((~passed).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = _average_ranks(-energy)  # higher score = lower energy = predicted pass
    return float((ranks[passed].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks with ties given their average rank."""
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values), dtype=np.float64)
    sorted_values = values[order]
    start = 0
    while start < len(values):
        end = start
        while end + 1 < len(values) and sorted_values[end + 1] == sorted_values[start]:
            end += 1
        ranks[order[start : end + 1]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def mixed_problems(problem: np.ndarray, passed: np.ndarray) -> list[np.ndarray]:
    """Indices of each problem's candidates, for problems with both passing and failing ones."""
    groups = []
    for name in np.unique(problem):
        idx = np.flatnonzero(problem == name)
        labels = passed[idx].astype(bool)
        if labels.any() and not labels.all():
            groups.append(idx)
    return groups


def selection_accuracy(energy: np.ndarray, passed: np.ndarray, problem: np.ndarray) -> float:
    """How often the lowest-energy candidate of a mixed problem passes; NaN with none."""
    groups = mixed_problems(problem, passed)
    if not groups:
        return float("nan")
    hits = []
    for idx in groups:
        e = energy[idx]
        best = np.isclose(e, e.min(), rtol=0.0, atol=1e-12)
        hits.append(float(passed[idx][best].astype(bool).mean()))
    return float(np.mean(hits))


def auroc_within_problems(energy: np.ndarray, passed: np.ndarray, problem: np.ndarray) -> float:
    """Mean AUROC over mixed problems: ranking inside a problem, which is what selection uses
    (the pooled AUROC also asks whether energies compare across problems)."""
    groups = mixed_problems(problem, passed)
    if not groups:
        return float("nan")
    return float(np.mean([auroc(energy[idx], passed[idx]) for idx in groups]))


def brier_score(prob: np.ndarray, passed: np.ndarray) -> float:
    """Mean squared error of the pass probability: calibration and sharpness together (a
    constant base rate is perfectly calibrated but has no sharpness; Brier tells them apart)."""
    prob = np.asarray(prob, dtype=np.float64)
    if len(prob) == 0:
        return float("nan")
    return float(np.mean((prob - np.asarray(passed, dtype=np.float64)) ** 2))


def expected_calibration_error(prob: np.ndarray, passed: np.ndarray, bins: int = 10) -> float:
    """Weighted mean |accuracy - confidence| over equal-width probability bins."""
    prob = np.clip(np.asarray(prob, dtype=np.float64), 0.0, 1.0)
    passed = np.asarray(passed).astype(np.float64)
    if len(prob) == 0:
        return float("nan")
    which = np.minimum((prob * bins).astype(int), bins - 1)
    error = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            error += mask.mean() * abs(passed[mask].mean() - prob[mask].mean())
    return float(error)
