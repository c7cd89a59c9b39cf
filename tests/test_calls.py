"""Python equality assertions as calls (harness/calls) and the judge's deep equality."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codesynth.harness.calls import MAP, Untranslatable, parse, same
from codesynth.harness.drivers import argument_types, join, type_of


def test_assertion_shapes() -> None:
    plan = parse("from typing import List\n"
                 "def f(xs: List[float]) -> float: ...\n"
                 "assert f([1, 2]) == 3\n"
                 "assert 3.5 == f([1.5, 2])\n"
                 "assert f([])\n"
                 "assert not f([0])\n"
                 "assert f([9]) is None\n"
                 "assert abs(f([0.1, 0.2]) - 0.3) < 1e-9\n"
                 "assert math.isclose(f([1]), 1.0)\n"
                 "assert f([2]) is True\n"
                 "assert f([3]) is False\n", None)
    assert [(c.args, c.expected, c.tolerance, c.line) for c in plan.calls] == [
        (([1, 2],), 3, None, 3), (([1.5, 2],), 3.5, None, 4), (([],), True, None, 5),
        (([0],), False, None, 6), (([9],), None, None, 7), (([0.1, 0.2],), 0.3, 1e-9, 8),
        (([1],), 1.0, 1e-6, 9), (([2],), True, None, 10), (([3],), False, None, 11)]
    assert plan.signatures["f"] == ([("list", "float")], "float")
    assert argument_types(plan, "f") == [("list", "float")]


def test_humaneval_check_uses_the_entry_point_and_folds_constants() -> None:
    plan = parse("METADATA = {}\ndef check(candidate):\n    assert candidate(2.0 / 4, 'a' + 'b')"
                 " == (3 * 2, [1])\n", "g", humaneval=True)
    assert [(c.function, c.args, c.expected) for c in plan.calls] == [
        ("g", (0.5, "ab"), (6, [1]))]


@pytest.mark.parametrize(("tests", "line", "what"), [
    ("assert f(x) == 1\n", 1, "not a literal: x"),
    ("for i in range(3):\n    assert f(i) == i\n", 1, "a For statement"),
    ("assert sorted(f([2, 1])) == [1, 2]\n", 1, "not an equality assertion"),
    ("assert f({1, 2}) == 1\n", 1, "a set literal has no translation"),
    ("assert f(1) == 2 ** 70\n", 1, "not a literal"),
    ("assert f(1) is 1\n", 1, "not an equality assertion"),
    ("import math\n", None, "the tests assert nothing"),
])
def test_untranslatable_says_where_and_why(tests: str, line: int | None, what: str) -> None:
    with pytest.raises(Untranslatable, match=what) as caught:
        parse(tests, "f")
    assert caught.value.line == line


def test_deep_equality_semantics() -> None:
    assert same([1, (2, 3)], [1, [2, 3]])  # tuples are lists in the other languages
    assert same(1.5, 1.5000001) and not same(1.5, 1.51)
    assert same(2, 2.0) and same(True, 1) and not same(2, 3)
    assert same(None, None) and not same(None, 0) and not same(0, None)
    assert same({1: "a"}, {MAP: [[1, "a"]]}) and not same({1: "a"}, {MAP: [[1, "b"]]})
    assert same({1: "a"}, {MAP: [["1", "a"]], "string_keys": True})  # a JS object
    assert not same({1: "a"}, {MAP: [["1", "a"]]})
    assert not same(3, {"__error__": "boom"})
    assert same(0.3, 0.30000000000000004, 1e-9) and not same(0.3, 0.31, 1e-3)


values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**62, 2**62) | st.text(max_size=5)
    | st.floats(allow_nan=False, allow_infinity=False, width=64),
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner)
    | st.dictionaries(st.integers(-5, 5) | st.text(max_size=3), inner, max_size=3),
    max_leaves=10)


def driven(value: Any) -> Any:
    """What a driver writes for ``value`` (JSON; dicts as pairs), read back."""
    def enc(v: Any) -> Any:
        if isinstance(v, (list, tuple)):
            return [enc(i) for i in v]
        if isinstance(v, dict):
            return {MAP: [[enc(k), enc(i)] for k, i in v.items()]}
        return v
    return json.loads(json.dumps(enc(value)))


@given(values)
def test_a_value_equals_its_driven_form(value: Any) -> None:
    assert same(value, driven(value))


@given(values, st.integers(1, 1000))
def test_a_changed_integer_is_unequal(value: Any, delta: int) -> None:
    assert not same([value, 7], driven([value, 7 + delta]))


def test_types_join_across_calls() -> None:
    assert join([type_of(1), type_of(2.5)]) == "float"
    assert join([type_of("a"), type_of(None)]) == ("opt", "str")
    assert join([type_of([1]), type_of([]), type_of([2.0])]) == ("list", "float")
