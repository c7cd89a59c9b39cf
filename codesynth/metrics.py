"""pass@k with the unbiased estimator of Chen et al. (2021): 1 - C(n-c, k) / C(n, k)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of ``k`` samples drawn from ``n`` (``c`` correct) passes."""
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got n={n}, c={c}")
    if k < 1 or k > n:
        raise ValueError(f"need 1 <= k <= n, got n={n}, k={k}")
    if n - c < k:
        return 1.0
    # prod_{i=n-c+1}^{n} (1 - k/i), numerically stable for large n
    result = 1.0
    for i in range(n - c + 1, n + 1):
        result *= 1.0 - k / i
    return 1.0 - result


def mean_pass_at_k(counts: Mapping[str, tuple[int, int]], ks: Iterable[int]) -> dict[str, float]:
    """Average pass@k over problems (``counts``: task -> (n, c)), for each k <= every n."""
    if not counts:
        return {}
    smallest = min(n for n, _ in counts.values())
    result: dict[str, float] = {}
    for k in ks:
        if k <= smallest:
            values = [pass_at_k(n, c, k) for n, c in counts.values()]
            result[f"pass@{k}"] = sum(values) / len(values)
    return result


def skipped_k(counts: Mapping[str, tuple[int, int]], ks: Iterable[int]) -> dict[str, str]:
    """Why each pass@k that :func:`mean_pass_at_k` leaves out is missing (k above a problem's
    sample count): ``{"pass@10": "problems have 1 sample(s) each, fewer than k=10"}``."""
    if not counts:
        return {}
    sizes = [n for n, _ in counts.values()]
    fewest, most = min(sizes), max(sizes)
    reasons: dict[str, str] = {}
    for k in ks:
        if k <= fewest:
            continue
        if fewest == most:
            reasons[f"pass@{k}"] = f"problems have {fewest} sample(s) each, fewer than k={k}"
        else:
            below = sum(n < k for n in sizes)
            task = min(counts, key=lambda t: counts[t][0])
            reasons[f"pass@{k}"] = (f"{below} of {len(sizes)} problems have fewer than k={k} "
                                    f"samples (the fewest: {task} with {fewest})")
    return reasons
