"""Legitimate programs still pass now that the tests run in another process than the program.

The tests call the program's functions across the process boundary: plain values cross by
value, mutated arguments come back, other objects are handles, exceptions keep their types.
"""

from __future__ import annotations

import pytest

from codesynth.records import Status
from codesynth.sandbox.protocol import Sandbox
from tests.conftest import job
from tests.sandbox.helpers import code


def passes(sandbox: Sandbox, program: str, tests: str, style: str = "assert",
           entry_point: str | None = None) -> None:
    e = sandbox.run(job(code(program), code(tests), style, entry_point))
    assert e.status is Status.PASSED, (e.reason, e.exception, e.tests, e.stderr[-2000:])
    assert e.suspicious == ()


def test_values_of_every_builtin_type_cross_by_value(sandbox: Sandbox) -> None:
    passes(sandbox, """
        import collections, decimal, fractions
        def echo(x):
            return x
        def make():
            return {"n": None, "b": True, "i": 2 ** 200, "f": -0.0, "c": 1 + 2j, "s": "é🎉",
                    "y": b"\\x00\\xff", "ba": bytearray(b"ab"), "l": [1, [2, [3]]],
                    "t": (1, (2,)), "set": {1, 2}, "fs": frozenset({3}), (1, 2): "tuple key",
                    "r": range(1, 9, 2), "counter": collections.Counter("aab"),
                    "dq": collections.deque([1, 2], maxlen=5),
                    "fr": fractions.Fraction(1, 3), "dec": decimal.Decimal("1.10")}
    """, """
        import collections, decimal, fractions, math
        v = make()
        assert type(v["i"]) is int and v["i"] == 2 ** 200
        assert math.copysign(1, v["f"]) == -1
        assert v["c"] == 1 + 2j and v["s"] == "é🎉" and v["y"] == b"\\x00\\xff"
        assert type(v["ba"]) is bytearray and v["l"] == [1, [2, [3]]]
        assert type(v["t"]) is tuple and v["t"] == (1, (2,))
        assert v["set"] == {1, 2} and type(v["fs"]) is frozenset and v[(1, 2)] == "tuple key"
        assert v["r"] == range(1, 9, 2) and v["counter"] == collections.Counter(a=2, b=1)
        assert v["dq"].maxlen == 5 and v["fr"] == fractions.Fraction(1, 3)
        assert str(v["dec"]) == "1.10"
        assert echo(float("inf")) == float("inf") and math.isnan(echo(float("nan")))
        assert echo(None) is None and echo(True) is True
        assert echo("x" * 100_000) == "x" * 100_000
    """)


def test_arguments_mutated_in_place_come_back(sandbox: Sandbox) -> None:
    passes(sandbox, """
        def sort_in_place(items):
            items.sort()
        def rotate(matrix):
            n = len(matrix)
            for i in range(n):
                for j in range(i + 1, n):
                    matrix[i][j], matrix[j][i] = matrix[j][i], matrix[i][j]
            for row in matrix:
                row.reverse()
        def fill(d, s, b):
            d["k"] = 1
            s.add(3)
            b.extend(b"!")
            return None
    """, """
        a = [3, 1, 2]
        assert sort_in_place(a) is None
        assert a == [1, 2, 3]
        m = [[1, 2], [3, 4]]
        row = m[0]
        rotate(m)
        assert m == [[3, 1], [4, 2]] and row is m[0]
        d, s, b = {}, set(), bytearray(b"x")
        fill(d, s, b=b)
        assert d == {"k": 1} and s == {3} and b == bytearray(b"x!")
    """)


def test_classes_instances_and_methods(sandbox: Sandbox) -> None:
    passes(sandbox, """
        class Stack:
            def __init__(self):
                self.items = []
            def push(self, x):
                self.items.append(x)
                return self
            def pop(self):
                return self.items.pop()
            def __len__(self):
                return len(self.items)
            def __iter__(self):
                return iter(self.items)
            def __getitem__(self, i):
                return self.items[i]
            def __contains__(self, x):
                return x in self.items
        class Node:
            def __init__(self, val, nxt=None):
                self.val, self.next = val, nxt
        def build(values):
            head = None
            for v in reversed(values):
                head = Node(v, head)
            return head
        def to_list(head):
            out = []
            while head:
                out.append(head.val)
                head = head.next
            return out
    """, """
        s = Stack()
        s.push(1).push(2)
        assert s.pop() == 2 and s.items == [1]
        assert list(iter(s)) == [1] and s[0] == 1
        assert isinstance(s, Stack)
        head = build([1, 2, 3])
        assert head.val == 1 and head.next.next.val == 3 and head.next.next.next is None
        assert to_list(Node(5, Node(6))) == [5, 6]
        assert to_list(head) == [1, 2, 3]
    """)


def test_generators_and_iterators(sandbox: Sandbox) -> None:
    passes(sandbox, """
        def count_up(n):
            for i in range(n):
                yield i * i
        def fib():
            a, b = 0, 1
            while True:
                yield a
                a, b = b, a + b
    """, """
        import itertools
        assert list(count_up(4)) == [0, 1, 4, 9]
        g = fib()
        assert next(g) == 0 and next(g) == 1
        assert list(itertools.islice(fib(), 6)) == [0, 1, 1, 2, 3, 5]
        assert sum(count_up(3)) == 5
    """)


def test_callables_passed_both_ways(sandbox: Sandbox) -> None:
    passes(sandbox, """
        def apply(f, xs):
            return [f(x) for x in xs]
        def sort_by(xs, key):
            return sorted(xs, key=key)
        def adder(n):
            return lambda x: x + n
    """, """
        assert apply(lambda x: x * 2, [1, 2]) == [2, 4]
        assert sort_by(["bb", "a", "ccc"], key=len) == ["a", "bb", "ccc"]
        assert sort_by([3, 1], key=lambda v: -v) == [3, 1]
        assert adder(3)(4) == 7
        assert apply(adder(1), [1]) == [2]
    """)


def test_expected_exceptions_keep_their_types(sandbox: Sandbox) -> None:
    passes(sandbox, """
        class InvalidInput(ValueError):
            pass
        def parse(text):
            if not text:
                raise InvalidInput("empty input")
            return int(text)
        def get(d, k):
            return d[k]
    """, """
        import pytest
        with pytest.raises(ValueError, match="invalid literal"):
            parse("x")
        with pytest.raises(InvalidInput, match="empty"):
            parse("")
        try:
            parse("")
        except ValueError as exc:
            assert str(exc) == "empty input" and type(exc).__name__ == "InvalidInput"
        with pytest.raises(KeyError):
            get({}, "k")
    """)


def test_pytest_fixtures_parametrize_and_hypothesis(sandbox: Sandbox) -> None:
    passes(sandbox, """
        def add(a, b):
            return a + b
        class Counter:
            def __init__(self):
                self.n = 0
            def inc(self):
                self.n += 1
                return self.n
    """, """
        import pytest
        from hypothesis import given, settings, strategies as st
        from solution import Counter, add
        import solution

        @pytest.fixture
        def counter():
            return Counter()

        @pytest.mark.parametrize(("a", "b", "want"), [(1, 2, 3), (-1, 1, 0), ("a", "b", "ab")])
        def test_add(a, b, want):
            assert add(a, b) == want

        def test_fixture(counter, tmp_path):
            assert counter.inc() == 1 and counter.inc() == 2
            (tmp_path / "f").write_text("x")

        @settings(max_examples=30, deadline=None)
        @given(st.integers(), st.integers())
        def test_commutes(a, b):
            assert solution.add(a, b) == add(b, a)

        def test_raises():
            with pytest.raises(TypeError):
                add(1, "x")
    """, "pytest")


def test_humaneval_style_with_helpers_from_the_prompt(sandbox: Sandbox) -> None:
    passes(sandbox, """
        import math
        def poly(xs, x):
            return sum(c * math.pow(x, i) for i, c in enumerate(xs))
        def find_zero(xs):
            return -xs[0] / xs[1]
    """, """
        import math
        def check(candidate):
            assert math.fabs(poly([2, 4], candidate([2, 4]))) < 1e-6
            assert candidate([1, 1]) == -1.0
    """, "humaneval", "find_zero")


def test_threads_subprocesses_recursion_and_large_outputs(sandbox: Sandbox) -> None:
    passes(sandbox, """
        import subprocess, sys, threading
        sys.setrecursionlimit(10_000)
        def depth(n):
            return 0 if n == 0 else 1 + depth(n - 1)
        def in_threads(n):
            out = []
            threads = [threading.Thread(target=out.append, args=(i,)) for i in range(n)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            return sorted(out)
        def shell(text):
            return subprocess.run(["cat"], input=text, capture_output=True, text=True).stdout
        def big(n):
            print("x" * n)
            return list(range(n))
    """, """
        assert depth(3000) == 3000
        assert in_threads(8) == list(range(8))
        assert shell("héllo") == "héllo"
        assert big(200_000) == list(range(200_000))
    """)


def test_stdin_and_unicode_in_stdio(sandbox: Sandbox) -> None:
    program = "import sys\ndata = sys.stdin.read()\nprint(data.upper(), end='')\n"
    cases = [{"input": "héllo wörld\n", "output": "HÉLLO WÖRLD\n"},
             {"input": "", "output": ""}]
    e = sandbox.run(job(program, cases, "stdio"))
    assert e.status is Status.PASSED, (e.reason, e.tests)


@pytest.mark.parametrize("strict", [False, True])
def test_plain_values_pass_in_strict_mode(sandbox: Sandbox, strict: bool) -> None:
    import dataclasses

    from tests.conftest import FAST

    limits = dataclasses.replace(FAST, strict=strict)
    e = sandbox.run(job("def f(x):\n    return [x, {'k': (x,)}]\n",
                        "assert f(1) == [1, {'k': (1,)}]"), limits)
    assert e.status is Status.PASSED, e.reason
    assert e.limits.strict is strict


def test_standard_library_exceptions_keep_their_own_class(sandbox: Sandbox) -> None:
    passes(sandbox, """
        import json
        def parse(text):
            return json.loads(text)
    """, """
        import json
        import pytest
        with pytest.raises(json.JSONDecodeError):
            parse("{")
    """)
