"""Platt scaling: energy -> calibrated pass probability, p = sigmoid(bias - slope * energy).

Fitted on problems the energy model never trained on, because an energy model is always
over-confident on its own training data. Platt's smoothed targets ((N+ + 1) / (N+ + 2) for a
pass, 1 / (N- + 2) for a fail) keep a small calibration set from producing probabilities of
exactly 0 or 1. The slope is kept >= 0: if on held-out data lower energy does not mean more
likely to pass, the honest probability is the base rate, whatever the energy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Platt:
    slope: float = 0.0
    bias: float = 0.0

    def probability(self, energy: np.ndarray) -> np.ndarray:
        z = self.bias - self.slope * np.asarray(energy, dtype=np.float64)
        return 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))

    @classmethod
    def fit(
        cls,
        energy: np.ndarray,
        passed: np.ndarray,
        *,
        weight: np.ndarray | None = None,
        ridge: float = 1e-3,
        steps: int = 100,
    ) -> Platt:
        """Weighted logistic regression of `passed` on `-energy` by Newton's method."""
        e = np.asarray(energy, dtype=np.float64)
        y = np.asarray(passed).astype(bool)
        w = np.ones_like(e) if weight is None else np.asarray(weight, dtype=np.float64)
        if len(e) == 0:
            return cls()
        n_pos, n_neg = w[y].sum(), w[~y].sum()
        target = np.where(y, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
        if n_pos == 0 or n_neg == 0:
            return cls(slope=0.0, bias=float(_logit(target.mean())))
        # Centre the energy so the two parameters are nearly independent (faster, stabler).
        centre = np.average(e, weights=w)
        x = np.stack([-(e - centre), np.ones_like(e)], axis=1)
        theta = np.array([0.0, _logit(np.average(target, weights=w))])
        for _ in range(steps):
            p = 1.0 / (1.0 + np.exp(-np.clip(x @ theta, -50.0, 50.0)))
            grad = x.T @ (w * (p - target)) + ridge * theta
            hess = (x * (w * p * (1 - p))[:, None]).T @ x + ridge * np.eye(2)
            step = np.linalg.solve(hess, grad)
            theta -= step
            if np.abs(step).max() < 1e-9:
                break
        slope = float(theta[0])
        if slope < 0:  # energy carries no usable signal here: fall back to the base rate
            return cls(slope=0.0, bias=float(_logit(np.average(target, weights=w))))
        return cls(slope=slope, bias=float(theta[1] + slope * centre))


def _logit(p: float) -> float:
    p = min(max(float(p), 1e-6), 1 - 1e-6)
    return float(np.log(p / (1 - p)))
