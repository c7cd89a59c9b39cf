"""Is one program statistically faster than another? Repeated CPU-time measurements, an
exact one-sided Mann-Whitney U test, and a bootstrap interval of the speed-up.

The exact null distribution of U (no ties) comes from the recurrence
``N(u; m, n) = N(u - n; m - 1, n) + N(u; m, n - 1)`` (Mann and Whitney, 1947); ties count
one half, which leaves the exact p-value approximate for tied samples (CPU times in
microseconds rarely tie).
"""

from __future__ import annotations

import functools
import math
import random
import statistics
from collections.abc import Sequence
from typing import Any


@functools.lru_cache(maxsize=256)
def _counts(m: int, n: int) -> tuple[int, ...]:
    """How many orderings of m x's and n y's give each U = 0 .. m*n (pairs with x > y)."""
    if m == 0 or n == 0:
        return (1,)
    first = _counts(m - 1, n)  # the largest value is an x: it beats all n y's
    second = _counts(m, n - 1)  # the largest value is a y
    size = m * n + 1
    out = [0] * size
    for u, count in enumerate(first):
        out[u + n] += count
    for u, count in enumerate(second):
        out[u] += count
    return tuple(out)


def u_statistic(x: Sequence[float], y: Sequence[float]) -> float:
    """Pairs (a in x, b in y) with a > b, ties counting one half."""
    return sum(1.0 if a > b else 0.5 if a == b else 0.0 for a in x for b in y)


def p_smaller(x: Sequence[float], y: Sequence[float]) -> float:
    """One-sided p-value of "x tends to be smaller than y" (exact Mann-Whitney U)."""
    m, n = len(x), len(y)
    if m == 0 or n == 0:
        return 1.0
    u = u_statistic(x, y)
    counts = _counts(m, n)
    at_most = sum(counts[: math.floor(u) + 1])
    return at_most / math.comb(m + n, m)


def bootstrap_speedup(original: Sequence[float], variant: Sequence[float], rng: random.Random,
                      rounds: int = 2000) -> tuple[float, float]:
    """95% percentile interval of median(original) / median(variant)."""
    ratios = []
    for _ in range(rounds):
        a = statistics.median(rng.choices(original, k=len(original)))
        b = statistics.median(rng.choices(variant, k=len(variant)))
        ratios.append(a / b if b > 0 else math.inf)
    ratios.sort()
    return ratios[int(0.025 * rounds)], ratios[int(0.975 * rounds) - 1]


def summary(times: Sequence[float]) -> dict[str, Any]:
    ordered = sorted(times)
    quartiles = statistics.quantiles(ordered, n=4) if len(ordered) >= 2 else [ordered[0]] * 3
    return {"seconds": [round(t, 6) for t in times], "median": round(statistics.median(ordered),
                                                                        6),
            "q1": round(quartiles[0], 6), "q3": round(quartiles[2], 6),
            "min": round(ordered[0], 6), "max": round(ordered[-1], 6)}


def compare(original: Sequence[float], variant: Sequence[float], overhead: float,
            rng: random.Random) -> dict[str, Any]:
    """The timing trace: both samples (CPU seconds per job), the job overhead subtracted
    from the medians for the speed-up, its bootstrap interval, and the p-value."""
    work_original = [max(t - overhead, 1e-6) for t in original]
    work_variant = [max(t - overhead, 1e-6) for t in variant]
    speedup = statistics.median(work_original) / statistics.median(work_variant)
    low, high = bootstrap_speedup(work_original, work_variant, rng)
    return {"original": summary(original), "variant": summary(variant),
            "overhead_seconds": round(overhead, 6), "speedup": round(speedup, 3),
            "speedup_ci95": [round(low, 3), round(high, 3)],
            "p_value": p_smaller(variant, original), "test": "mann-whitney-u exact, one-sided"}
