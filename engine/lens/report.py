"""Plain-text views of a Lens's figures: the energy histogram of passing vs failing candidates."""

from __future__ import annotations

import numpy as np


def energy_histogram(
    energy: np.ndarray, passed: np.ndarray, *, bins: int = 12, width: int = 36
) -> str:
    """Side-by-side bars per energy bin: pass ('#') and fail ('='), each scaled to its own
    class, so the two shapes compare even when one class is much larger. A good Lens puts the
    pass mass to the top (low energy) and the fail mass to the bottom."""
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
    lines = [f"{'energy':>15}  {'pass':<{half}} | {'fail':<{half}}"]
    for i in range(bins):
        lines.append(
            f"{edges[i]:7.3f}-{edges[i + 1]:<7.3f} "
            f"{_bar(pass_counts[i], pass_counts.sum(), half, '#')} | "
            f"{_bar(fail_counts[i], fail_counts.sum(), half, '=')}"
            f" {pass_counts[i]:>4} / {fail_counts[i]:<4}"
        )
    lines.append(f"{'':15}  pass: {int(passed.sum())} samples; fail: {int((~passed).sum())}")
    return "\n".join(lines)


def _bar(count: int, total: int, width: int, char: str) -> str:
    filled = round(width * count / total) if total else 0
    if count and not filled:
        filled = 1  # a non-empty bin is never drawn empty
    return (char * filled).ljust(width)
