"""Python equality assertions as calls (harness/calls) and the judge's deep equality."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codesynth.harness.call_limits import ResultLines, first_call
from codesynth.harness.calls import (
    ERROR,
    MAP,
    Tolerance,
    Untranslatable,
    parse,
    result_line,
    same,
    shown,
)
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
        (([0],), False, None, 6), (([9],), None, None, 7),
        (([0.1, 0.2],), 0.3, Tolerance("lt", 1e-9), 8),
        (([1],), 1.0, Tolerance("isclose", 0.0, 1e-9), 9), (([2],), True, Tolerance("is"), 10),
        (([3],), False, Tolerance("is"), 11)]
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
    ("assert abs(f(1) - [1]) < 1\n", 1, "the expected value is not a number"),
    ("assert math.isclose(f(1), 1.0, rel=1)\n", 1, "only rel_tol and abs_tol"),
    ("assert math.isclose(f(1), 1.0, **k)\n", 1, "only rel_tol and abs_tol"),
    ("assert math.isclose(f(1), 1.0, abs_tol=x)\n", 1, "not a literal: x"),
    ("assert math.isclose(f(1), 1.0, abs_tol=-1)\n", 1, "must be non-negative"),
    ("assert math.isclose(f(1), 'a')\n", 1, "the expected value is not a number"),
    ("import math\n", None, "the tests assert nothing"),
    # refused before they are built (the runner reads tests outside any job's limits)
    ("assert f([0] * 4194304) == 1\n", 1, "not a literal"),
    ("assert f(4194304 * [0]) == 1\n", 1, "not a literal"),
    ("assert f([[0] * 2048] * 2048) == 1\n", 1, "not a literal"),
    ("assert f(8000000 * 'a') == 1\n", 1, "not a literal"),
    ("assert f(1) == '%09999999d' % 1\n", 1, "not a literal"),
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
    # an int expected value is exact, as Python's `==` (no isclose for ints)
    assert not same(1000000000, 1000000400.5) and not same(0, 5e-7) and same(3, 3.0)
    assert not same(3, 1e400) and not same(1.5, 10**400)  # inf; beyond a float: no crash


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


def verdict_of(tests: str, got: Any) -> bool:
    """The judge's verdict on a one-call test, given the function's result ``got``."""
    [call] = parse(tests, "f").calls
    return same(call.expected, driven(got), call.tolerance)


def python_verdict(tests: str, got: Any) -> bool:
    """What Python's own ``assert`` decides with ``f`` returning ``got``."""
    try:
        exec(compile(tests, "tests.py", "exec"),  # noqa: S102 - literal test text
             {"f": lambda *_: got, "math": math, "isclose": math.isclose})
    except (AssertionError, TypeError, ValueError, OverflowError):
        return False
    return True


@pytest.mark.parametrize(("tests", "got", "holds"), [
    ("assert abs(f(1) - 3) < 1\n", 4, False),  # strict stays strict
    ("assert abs(f(1) - 3) <= 1\n", 4, True),
    ("assert abs(f(1) - 3) < 1\n", 3.5, True),
    ("assert f(1) == 1000000000\n", 1000000400.5, False),
    ("assert f(1) == 0\n", 5e-7, False),
    ("assert f(1) == 0\n", 0.0, True),
    ("import math\nassert math.isclose(f(1), 0.0, abs_tol=1e-12)\n", 5e-7, False),
    ("import math\nassert math.isclose(f(1), 0.0)\n", 5e-7, False),
    ("import math\nassert math.isclose(f(1), 0.0, abs_tol=1e-6)\n", 5e-7, True),
    ("import math\nassert math.isclose(f(1), 100.0, rel_tol=0.01)\n", 100.9, True),
    ("import math\nassert math.isclose(100.0, f(1), rel_tol=0.001)\n", 100.9, False),
    ("assert f(1) is True\n", 1, False),
    ("assert f(1) is True\n", True, True),
    ("assert f(1) is False\n", 0, False),
    ("assert f(1) == True\n", 1, True),  # Python: 1 == True
])
def test_verdicts_are_pythons(tests: str, got: Any, holds: bool) -> None:
    assert python_verdict(tests, got) is holds
    assert verdict_of(tests, got) is holds


def test_dict_keys_match_one_to_one() -> None:
    js = {MAP: [["1", "a"], ["x", "y"]], "string_keys": True}
    assert not same({1: "a", "1": "a"}, js)  # both keys would use the pair "1"
    assert same({1: "a", "x": "y"}, js)
    assert same({1: "a", "1": "b"}, {MAP: [["1", "b"], ["1", "a"]], "string_keys": True})
    assert not same({1: "a", 2: "a"}, {MAP: [[1, "a"], [1, "a"]]})


def test_deep_or_odd_results_are_shown_not_raised() -> None:
    deep: Any = 0
    for _ in range(5000):
        deep = [deep]
    assert "cannot be shown" in shown(deep)
    assert not same([1], deep)
    assert shown({MAP: [[{MAP: []}, 1]]}).startswith("<")


numbers = st.integers(-2**53, 2**53) | st.floats(allow_nan=False, allow_infinity=False)
tolerances = st.sampled_from([0, 1, 1e-9, 1e-6, 0.5, 2.5])


@given(numbers, numbers, tolerances, st.sampled_from(["<", "<="]))
def test_abs_tolerance_decides_as_python(expected: Any, got: Any, tol: Any, op: str) -> None:
    tests = f"assert abs(f(1) - {expected!r}) {op} {tol!r}\n"
    assert verdict_of(tests, got) is python_verdict(tests, got)


@given(numbers, numbers, st.none() | tolerances, st.none() | tolerances)
def test_isclose_decides_as_python(expected: Any, got: Any, rel: Any, tol: Any) -> None:
    keywords = "".join(f", {k}={v!r}" for k, v in (("rel_tol", rel), ("abs_tol", tol))
                       if v is not None)
    tests = f"import math\nassert math.isclose(f(1), {expected!r}{keywords})\n"
    assert verdict_of(tests, got) is python_verdict(tests, got)


@given(st.integers(-2**62, 2**62) | st.booleans() | st.none(),
       numbers | st.booleans() | st.none() | st.text(max_size=2))
def test_int_bool_and_none_expected_decide_as_python(expected: Any, got: Any) -> None:
    # ints, bools and None: `==` and `is` exactly as Python (bools by identity with `is`)
    for op in ("==", "is") if isinstance(expected, bool) or expected is None else ("==",):
        tests = f"assert f(1) {op} {expected!r}\n"
        assert verdict_of(tests, got) is python_verdict(tests, got), tests


@given(values, values)
def test_equal_where_python_says_equal_without_floats(expected: Any, got: Any) -> None:
    # without floats (where the judge allows 1e-6), `==` is Python's, dicts one to one
    assume = not any(isinstance(v, float) for v in _leaves(expected) + _leaves(got))
    if assume:
        assert same(expected, driven(got)) is _python_equal(expected, got)


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return [leaf for v in value for leaf in _leaves(v)]
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in _leaves(k) + _leaves(v)]
    return [value]


def _python_equal(expected: Any, got: Any) -> bool:
    """Python's ``==`` with tuples as lists (the other languages have no tuples)."""
    def lists(v: Any) -> Any:
        if isinstance(v, (list, tuple)):
            return [lists(i) for i in v]
        if isinstance(v, dict):
            return {k: lists(i) for k, i in v.items()}
        return v
    return bool(lists(expected) == lists(got))


def test_result_lines_decode_without_raising() -> None:
    assert result_line('1\t[1, {"__map__": []}]', 3) == (1, [1, {MAP: []}])
    assert result_line("3\t1", 3) is None and result_line("x\t1", 3) is None
    # as call_limits.ResultLines counts them: no leading zero ("0" itself is call 0)
    assert result_line("01\t1", 3) is None and result_line("0\t1", 3) == (0, 1)
    assert result_line("9" * 5000 + "\t1", 3) is None  # beyond int()'s digit limit
    assert result_line("\u00b2\t1", 3) is None  # a digit int() refuses
    assert result_line("0\t" + "[" * 100000 + "]" * 100000, 3) == (0, {ERROR: "unreadable result"})
    assert result_line("0\t{", 3) == (0, {ERROR: "unreadable result"})


def test_only_the_next_calls_result_line_restarts_the_clock() -> None:
    lines = ResultLines(2)
    lines.feed(b"\n\n\t1\nx\t1\n1\t5\n3\t5\n02\t5\n2\t[1,")  # noise, then a partial line
    assert lines.count == 0
    lines.feed(b' 2]\n3\t"a"\n3\t"a"\n')
    assert (lines.count, lines.expected) == (2, 4)
    assert first_call("7\n") == 7 and first_call("x") is None


@given(st.lists(st.integers(0, 6), max_size=8), st.binary(max_size=40), st.data())
def test_result_lines_do_not_depend_on_how_writes_are_split(
        indexes: list[int], noise: bytes, data: st.DataObject) -> None:
    stream = b"".join(b"%d\t[1]\n" % i for i in indexes) + noise
    whole = ResultLines(0)
    whole.feed(stream)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=6)))
    split = ResultLines(0)
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        split.feed(stream[start:end])
    assert (split.count, split.expected) == (whole.count, whole.expected)
    prefix = 0
    while prefix < len(indexes) and indexes[prefix] == prefix:
        prefix += 1
    assert whole.count >= prefix
