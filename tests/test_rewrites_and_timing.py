"""The pieces under the rewriting generators: the libcst transforms, the generated inputs of
differential testing, and the exact Mann-Whitney U test (against brute force)."""

from __future__ import annotations

import ast
import itertools
import math
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from codesynth.generators.differential import call_arguments, generated_inputs
from codesynth.generators.rewrites import TRANSFORMS, apply_chain
from codesynth.generators.timing import _counts, p_smaller, u_statistic

PROGRAM = '''import math


def spread(xs, k=2):
    """Doubled items above k, their total, and the shifted nonzero ones."""
    res = []  # the kept items
    for x in xs:
        if x > k:
            res.append(x * 2)
    total = sum(res)
    ys = [y + 1 for y in res if y]
    return total, ys
'''


def test_each_transform_changes_what_it_says_and_keeps_the_rest() -> None:
    rng = random.Random(0)
    out = {name: transform(PROGRAM, "spread", rng) for name, transform in TRANSFORMS.items()}
    assert all(code is not None and ast.parse(code) for code in out.values())
    assert "result = []  # the kept items" in out["rename_locals"]
    assert "for item in xs:" in out["rename_locals"] and "def spread(xs, k=2):" in \
        out["rename_locals"]
    assert "def _spread_impl(xs, k):" in out["extract_helper"]
    assert "    return _spread_impl(xs, k)\n" in out["extract_helper"]
    assert "res = [x * 2 for x in xs if x > k]  # the kept items" in \
        out["loop_to_comprehension"]
    assert "    for y in res:\n        if y:\n            ys.append(y + 1)" in \
        out["comprehension_to_loop"]
    assert "#" not in out["strip_comments"] and out["strip_comments"].count("\n") == \
        PROGRAM.count("\n")
    assert "return (total, ys)" in out["reformat"]


def test_transforms_that_do_not_apply_say_so() -> None:
    code = "def f(a):\n    return a\n"
    rng = random.Random(0)
    assert TRANSFORMS["rename_locals"](code, "f", rng) is None  # only a parameter
    assert TRANSFORMS["loop_to_comprehension"](code, "f", rng) is None
    assert TRANSFORMS["strip_comments"](code, "f", rng) is None
    assert TRANSFORMS["extract_helper"](code, "missing", rng) is None
    assert TRANSFORMS["rename_locals"]("def f(:\n", "f", rng) is None  # does not parse


@settings(max_examples=30, deadline=None)
@given(st.permutations(list(TRANSFORMS)), st.integers(0, 10**6))
def test_any_chain_of_transforms_gives_a_program(order: list[str], seed: int) -> None:
    code, applied = apply_chain(PROGRAM, order, "spread", random.Random(seed))
    tree = ast.parse(code)
    names = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert "spread" in names and set(applied) <= set(order)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10**6), st.integers(1, 40))
def test_generated_inputs_are_literals_deterministic_and_bounded(seed: int,
                                                                 count: int) -> None:
    code = "def f(xs: list[int], word: str, n: int) -> int:\n    return 0\n"
    tests = "assert f([3, 1, 2], 'abc', 4) == 0\nassert f([], '', 0) == 0\n"
    first = generated_inputs(code, tests, "f", random.Random(seed), count)
    again = generated_inputs(code, tests, "f", random.Random(seed), count)
    assert first == again and 1 <= len(first) <= count and len(set(first)) == len(first)
    assert first[:2] == ["([3, 1, 2], 'abc', 4)", "([], '', 0)"][:count]
    for text in first:
        value = ast.literal_eval(text)
        assert isinstance(value, tuple) and len(value) == 3


def test_call_arguments_skips_calls_it_cannot_read() -> None:
    tests = "assert f(1, [2]) == 3\nassert f(x, 2) == 1\nassert f(1, k=2)\nassert g(5)\n"
    assert call_arguments(tests, "f") == [(1, [2])]
    assert call_arguments("def check(candidate):\n    assert candidate('a') == 1\n",
                          "f") == [("a",)]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=5, unique=True),
       st.lists(st.floats(0, 1), min_size=1, max_size=5, unique=True))
def test_exact_p_value_equals_brute_force(x: list[float], y: list[float]) -> None:
    if set(x) & set(y):
        return
    observed = u_statistic(x, y)
    pooled = x + y
    as_low = 0
    total = 0
    for chosen in itertools.combinations(range(len(pooled)), len(x)):
        xs = [pooled[i] for i in chosen]
        ys = [pooled[i] for i in range(len(pooled)) if i not in chosen]
        total += 1
        as_low += u_statistic(xs, ys) <= observed
    assert math.isclose(p_smaller(x, y), as_low / total)


@given(st.integers(1, 12), st.integers(1, 12))
def test_the_null_distribution_counts_every_ordering(m: int, n: int) -> None:
    counts = _counts(m, n)
    assert sum(counts) == math.comb(m + n, m) and len(counts) == m * n + 1
    assert counts == counts[::-1]  # symmetric


def test_clearly_faster_is_significant_and_equal_is_not() -> None:
    assert p_smaller([1.0, 1.1, 1.2, 1.3, 1.4], [2.0, 2.1, 2.2, 2.3, 2.4]) == 1 / 252
    assert p_smaller([1, 3, 5, 7], [2, 4, 6, 8]) > 0.3


def test_parameters_are_renamed_only_where_they_are_not_the_signature() -> None:
    code = ("def _h(a, b=1):\n    return a + b\n\n\ndef _k(x):\n    return x\n\n\n"
            "def f(x, y):\n    t = _h(x, y) + _k(x=y)\n    return t\n")
    out = TRANSFORMS["rename_locals"](code, "f", random.Random(0))
    assert out is not None
    assert "def _h(first, second=1):\n    return first + second" in out  # private
    assert "def _k(x):\n    return x" in out  # private, but called with x=...
    assert "def f(x, y):" in out and "temp = _h(x, y) + _k(x=y)" in out  # the entry point
