"""Calls known in advance go to the program in one request (``harness._plan``), and the
verdict is the one the tests reach calling one at a time.

The program sees the same calls in the same order, each after the previous one returned;
the plan stops at the first call that raises or returns an object of the program's; a
failure is a failure even when a later planned call never returns.
"""

from __future__ import annotations

import ast

from codesynth.harness._plan import humaneval_plan
from codesynth.records import Status
from codesynth.sandbox.protocol import Sandbox
from tests.conftest import job
from tests.sandbox.helpers import SHORT, code

CHECK = code("""
    def check(candidate):
        assert candidate(1) == 1
        assert candidate(2) == 2, "two"
        assert abs(candidate(3) - 3) < 1e-9
""")


def run(sandbox: Sandbox, program: str, tests: str = CHECK):
    return sandbox.run(job(code(program), tests, "humaneval", "f"), SHORT)


def test_a_failure_before_a_planned_call_that_never_returns_is_failed(sandbox: Sandbox
                                                                      ) -> None:
    e = run(sandbox, """
        def f(x):
            print("call", x, flush=True)
            if x == 3:
                while True:
                    pass
            return x if x == 1 else -1
    """)
    assert e.status is Status.FAILED, (e.status, e.reason)
    assert e.exception is not None and e.exception.line == 3


def test_the_program_sees_the_calls_in_order_each_after_the_last(sandbox: Sandbox) -> None:
    e = run(sandbox, """
        import time
        seen = []
        def f(x):
            seen.append((x, time.monotonic()))
            assert [s[0] for s in seen] == [1, 2, 3][:len(seen)]
            return len(seen)
    """)
    assert e.status is Status.PASSED, (e.reason, e.exception)


def test_calls_after_one_that_raises_are_never_made(sandbox: Sandbox) -> None:
    e = run(sandbox, """
        def f(x):
            print("call", x)
            if x == 2:
                raise ValueError("no")
            return x
    """)
    assert e.status is Status.FAILED
    assert e.exception is not None and e.exception.type == "ValueError"
    assert e.stdout.split() == ["call", "1", "call", "2"]


def test_an_object_of_the_program_ends_the_plan_and_the_rest_are_single_calls(
        sandbox: Sandbox) -> None:
    e = run(sandbox, """
        class Number:
            def __init__(self, value):
                self.value = value
            def __eq__(self, other):
                return self.value == other
            def __sub__(self, other):
                return self.value - other
        def f(x):
            print("call", x)
            return Number(x) if x == 2 else x
    """)
    assert e.status is Status.PASSED, (e.reason, e.exception)
    assert e.stdout.split() == ["call", "1", "call", "2", "call", "3"]
    assert e.suspicious  # Number decided a comparison: recorded as before


def test_mutations_and_keywords_of_planned_calls(sandbox: Sandbox) -> None:
    tests = code("""
        def check(candidate):
            assert candidate([3, 1, 2]) == [1, 2, 3]
            assert candidate([2, 1], reverse=True) == [2, 1]
            assert candidate((1.0, 2)) == [1.0, 2] and candidate((1, 2)) == [1, 2]
            assert candidate([True]) == [True]
    """)
    e = run(sandbox, """
        def f(items, reverse=False):
            print(repr(items), reverse)
            items = list(items)
            items.sort(reverse=reverse)
            return items
    """, tests)
    assert e.status is Status.PASSED, (e.reason, e.exception)
    assert e.stdout.splitlines() == ["[3, 1, 2] False", "[2, 1] True", "(1.0, 2) False",
                                     "(1, 2) False", "[True] False"]


def _plan(tests: str) -> list[tuple[object, ...]]:
    found = humaneval_plan(ast.parse(code(tests)))
    return [] if found is None else [entry[1] for entry in found[1]]


def test_only_calls_known_in_advance_are_planned() -> None:
    assert _plan(CHECK) == [(1,), (2,), (3,)]
    # the plan stops at the first statement it cannot foresee
    assert _plan("""
        def check(candidate):
            assert candidate(1) == 1
            for i in range(3):
                assert candidate(i) == i
            assert candidate(9) == 9
    """) == [(1,)]
    for statement in (
        "assert candidate(x) == 1",  # not a literal
        "assert candidate(1) == 1 and candidate(2) == 2",  # may stop early
        "assert candidate(1) == candidate(1)",  # two calls
        "assert 0 < candidate(1) < 2",  # a chain may stop early
        "assert candidate",  # bool() of the program's function
        "assert candidate(1) == 1, candidate(2)",  # a message evaluated on failure
        "assert math.isclose(candidate(1), 1)",  # an attribute: anything
        "assert helper(candidate(1))",  # a function of the tests
        "assert candidate(*[1])",
    ):
        assert _plan(f"def check(candidate):\n    {statement}\n") == [], statement
    assert _plan("""
        @decorated
        def check(candidate):
            assert candidate(1) == 1
    """) == []
    assert _plan("""
        def check(candidate):
            assert candidate(1) == 1
        check = other
    """) == []


def test_a_builtin_redefined_by_the_program_ends_the_plan(sandbox: Sandbox) -> None:
    """``abs`` defined by the program is not the builtin: a statement using it may reach
    the program before its planned call, so it is not planned (else the program would see
    ``f(3)`` before ``abs``)."""
    e = run(sandbox, """
        calls = []
        def abs(x):
            calls.append("abs")
            return x
        def f(x):
            calls.append(x)
            if x == 3:
                assert calls == [1, 2, "abs", 3], calls
            return x
    """, code("""
        def check(candidate):
            assert candidate(1) == 1
            assert candidate(2) == 2
            assert abs(3) == candidate(3)
    """))
    assert e.status is Status.PASSED, (e.reason, e.exception)


def test_a_plan_too_large_for_one_message_is_cut() -> None:
    """The planned calls cross in one message: the plan stops before it would not fit
    (the rest are called one by one, each in a message of its own)."""
    import socket

    from codesynth.harness.proxy import Remote
    from codesynth.harness.remote import Session
    from codesynth.harness.rpc import Channel
    from codesynth.harness.wire import MAX_MESSAGE

    ours, theirs = socket.socketpair()
    try:
        session = Session(Channel(ours))
        candidate = Remote(session, 1, "function")
        big = "x" * (MAX_MESSAGE // 5)
        entries = [("candidate", (big,), {}, ()) for _ in range(4)]
        session.expect({"candidate": candidate}, entries, {})
        assert len(session.planned) == 2
        session.expect({"candidate": candidate}, [("candidate", (1,), {}, ())] * 4, {})
        assert len(session.planned) == 4
    finally:
        ours.close()
        theirs.close()
