"""The deterministic speed-ups of ``optimize``: what each rewrites, what it leaves alone, and
(property) that each keeps the results of integer programs, on which all are exact."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from codesynth.generators.speedups import SPEEDUPS, chain

RNG = random.Random(0)


def rewrite(name: str, code: str) -> str | None:
    return SPEEDUPS[name](code, None, RNG)


def test_each_speedup_rewrites_its_pattern() -> None:
    assert rewrite("minmax_to_conditional", "def f(a, b):\n    return min(a, b)\n") == \
        "def f(a, b):\n    return (b if b < a else a)\n"
    assert rewrite("generator_to_list", "def f(xs):\n    return sum(x * 2 for x in xs)\n") \
        == "def f(xs):\n    return sum([x * 2 for x in xs])\n"
    assert rewrite("generator_to_list", "def f(xs):\n    return list(x for x in xs)\n") == \
        "def f(xs):\n    return [x for x in xs]\n"
    assert rewrite("identity_comprehension", "def f(xs):\n    return [x for x in xs]\n") == \
        "def f(xs):\n    return list(xs)\n"
    assert rewrite("square_by_multiplication", "def f(n):\n    return n ** 2 + 1\n") == \
        "def f(n):\n    return (n * n) + 1\n"
    assert rewrite("parity_by_bit", "def f(n):\n    return n % 2 == 0\n") == \
        "def f(n):\n    return (n & 1) == 0\n"
    assert rewrite("reversed_join_to_slice", "def f(s):\n    return ''.join(reversed(s))\n") \
        == "def f(s):\n    return s[::-1]\n"


def test_speedups_leave_alone_what_they_cannot_rewrite_exactly() -> None:
    untouched = [
        ("minmax_to_conditional", "max = min\ndef f(a, b):\n    return max(a, b)\n"),  # shadowed
        ("minmax_to_conditional", "def f(a, g):\n    return max(a, g())\n"),  # a call: twice
        ("minmax_to_conditional", "def f(xs):\n    return max(xs, default=0)\n"),
        ("generator_to_list", "def f(xs):\n    return any(x > 1 for x in xs)\n"),  # stops early
        ("identity_comprehension", "def f(xs):\n    return [x for x in xs if x]\n"),
        ("square_by_multiplication", "def f(n):\n    return n ** 3\n"),
        ("parity_by_bit", "def f(n):\n    return n % 3 == 0\n"),
        ("reversed_join_to_slice", "def f(s):\n    return '-'.join(reversed(s))\n"),
        ("minmax_to_conditional", "def f(a, b:\n"),  # does not parse
    ]
    for name, code in untouched:
        assert rewrite(name, code) is None, (name, code)


PROGRAM = """def f(a, b, xs):
    top = max(a, b) + min((a, b), default=0)
    parity = [x % 2 == 0 for x in xs] + [x % 2 != 1 for x in xs]
    text = str(a)
    return top, a ** 2, parity, sum(x * x for x in xs), sorted(x for x in xs), \\
        [x for x in xs], ''.join(reversed(text))
"""


def test_the_chain_applies_every_speedup_to_the_property_program() -> None:
    assert chain(PROGRAM, list(SPEEDUPS), "f", RNG)[1] == list(SPEEDUPS)


@settings(max_examples=100, deadline=None)
@given(st.integers(-10**9, 10**9), st.integers(-10**9, 10**9),
       st.lists(st.integers(-10**6, 10**6), max_size=8))
def test_all_speedups_chained_keep_integer_results(a: int, b: int, xs: list[int]) -> None:
    fast, _ = chain(PROGRAM, list(SPEEDUPS), "f", RNG)
    before: dict[str, object] = {}
    after: dict[str, object] = {}
    exec(PROGRAM, before)  # noqa: S102 - our own program
    exec(fast, after)  # noqa: S102
    assert after["f"](a, b, xs) == before["f"](a, b, xs)  # type: ignore[operator]
