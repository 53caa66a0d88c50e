"""The few statistics a benchmark comparison needs, in closed form (no SciPy dependency for
three formulas): a binomial proportion's 95 % interval, McNemar's paired test, percentiles."""

from __future__ import annotations

import math
from collections.abc import Sequence

Z95 = 1.959963984540054  # the standard normal quantile for a two-sided 95 % interval
EXACT_BELOW = 25  # discordant pairs below this: the exact binomial test, as usually advised


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval for a proportion: sound at 0 and n successes and for small n,
    where the textbook normal interval collapses to a point or leaves [0, 1]."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def mcnemar(b: int, c: int) -> tuple[float, str]:
    """Two-sided p-value of McNemar's test on b and c, the discordant pairs (solved by one run
    only, by the other only), and the method used. Exact (binomial, p = 1/2) for small counts;
    the chi-squared form with continuity correction for large ones."""
    n = b + c
    if n == 0:
        return 1.0, "exact"
    if n < EXACT_BELOW:
        k = min(b, c)
        tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
        return min(1.0, 2 * tail), "exact"
    statistic = (abs(b - c) - 1) ** 2 / n
    # chi-squared with one degree of freedom: P(X > s) = erfc(sqrt(s / 2))
    return math.erfc(math.sqrt(statistic / 2)), "chi2"


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation between ranks, as numpy's default;
    None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
