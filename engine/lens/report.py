"""Plain-text views of a Lens's figures: the energy histogram of passing vs failing candidates."""

from __future__ import annotations

import numpy as np


def energy_histogram(
    energy: np.ndarray, passed: np.ndarray, *, bins: int = 12, width: int = 36
) -> str:
    """Side-by-side bars per energy bin: pass ('#') and fail ('='), each as the share of its
    own class (so the two shapes compare even when one class is much larger), the fullest bin
    drawn full width. A good Lens puts the pass mass at the top (low energy) and the fail mass
    at the bottom."""
    energy = np.asarray(energy, dtype=np.float64)
    passed = np.asarray(passed).astype(bool)
    if len(energy) == 0:
        return "(no samples)"
    lo, hi = float(energy.min()), float(energy.max())
    if hi - lo < 1e-12:
        hi = lo + 1.0
    edges = np.linspace(lo, hi, bins + 1)
    pass_counts, _ = np.histogram(energy[passed], edges)
    fail_counts, _ = np.histogram(energy[~passed], edges)
    half = width // 2
    pass_share = pass_counts / max(pass_counts.sum(), 1)
    fail_share = fail_counts / max(fail_counts.sum(), 1)
    fullest = max(pass_share.max(), fail_share.max())
    lines = [f"{'energy':>15}  {'pass':<{half}} | {'fail':<{half}}"]
    for i in range(bins):
        lines.append(
            f"{edges[i]:7.3f}-{edges[i + 1]:<7.3f} "
            f"{_bar(pass_share[i], fullest, half, '#')} | "
            f"{_bar(fail_share[i], fullest, half, '=')}"
            f" {pass_counts[i]:>4} / {fail_counts[i]:<4}"
        )
    lines.append(f"{'':15}  pass: {int(passed.sum())} samples; fail: {int((~passed).sum())}")
    return "\n".join(lines)


def _bar(share: float, fullest: float, width: int, char: str) -> str:
    filled = round(width * share / fullest) if fullest else 0
    if share and not filled:
        filled = 1  # a non-empty bin is never drawn empty
    return (char * filled).ljust(width)
