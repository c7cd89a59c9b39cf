"""Attacks an outside tester found on the judge/judged protocol (second round), each replayed:
the program rewrites its own side of the connection, or raises what the judge's test runner
would obey, or sends texts sized to overflow the runner's budgets. Every one must end not
passed (never ``sandbox_error``), with the judge's state intact."""

from __future__ import annotations

import pytest

from codesynth.records import Status
from codesynth.sandbox.protocol import Sandbox
from tests.conftest import job
from tests.sandbox.helpers import code

# The program finds the judged server in its own frames and adds NAME = VALUE (tagged JSON)
# to the names it sends the judge after loading.
INJECT = code("""
    import sys
    def inject(name, value):
        frame = sys._getframe()
        while frame.f_code.co_name != "load":
            frame = frame.f_back
        server = frame.f_locals["self"]
        channel = server.endpoint.channel
        send = channel.send
        def patched(message):
            if isinstance(message.get("v"), dict) and message["v"].get("#") == "dict":
                message["v"]["v"].append([name, value])
                channel.send = send
            return send(message)
        channel.send = patched
        return server
""")


def test_a_program_cannot_give_the_tests_their_builtins(sandbox: Sandbox) -> None:
    program = INJECT + code("""
        server = inject("__builtins__", {"#": "dict", "v": [
            ["abs", {"#": "h", "v": 10**6, "t": "f", "c": True}],
            ["range", {"#": "ref", "m": "builtins", "n": "range"}]]})
        server.objects[10**6] = lambda *a, **k: 0
        def sqrt(x):
            return -1.0
    """)
    tests = "assert abs(sqrt(4.0) - 2.0) < 1e-9\nfor i in range(1, 9):\n" \
            "    assert abs(sqrt(i * i) - i) < 1e-9\n"
    for style, body in (("assert", tests),
                        ("humaneval", "def check(candidate):\n    sqrt = candidate\n"
                         + "".join("    " + line + "\n" for line in tests.splitlines()))):
        e = sandbox.run(job(program, body, style, entry_point="sqrt"))
        assert e.status is Status.FAILED, (style, e.status, e.reason, e.stderr)


def test_a_program_cannot_make_solution_a_package_of_its_files(sandbox: Sandbox) -> None:
    program = INJECT + code("""
        open("/sandbox/add.py", "w").write("import sys\\nsys.modules[__name__] = "
                                           "lambda a, b: 5\\n")
        inject("__path__", ["/sandbox"])
    """)
    tests = "from solution import add\ndef test_add():\n    assert add(2, 3) == 5\n"
    e = sandbox.run(job(program, tests, "pytest"))
    assert e.status not in (Status.PASSED, Status.SANDBOX_ERROR), (e.status, e.reason)


@pytest.mark.parametrize("raised", ["unittest.SkipTest", "bdb.BdbQuit"])
def test_a_program_cannot_skip_or_stop_the_tests_with_the_stdlib(sandbox: Sandbox,
                                                                  raised: str) -> None:
    module = raised.split(".")[0]
    program = code(f"""
        import {module}
        def add(a, b):
            if (a, b) == (1, 1):
                return 2
            raise {raised}("not today")
    """)
    tests = code("""
        from solution import add
        def test_easy():
            assert add(1, 1) == 2
        def test_hard():
            assert add(2, 3) == 5
    """)
    e = sandbox.run(job(program, tests, "pytest"))
    assert e.status is Status.FAILED, (e.status, e.reason, [t.outcome for t in e.tests])
    assert [t.outcome for t in e.tests] == ["passed", "failed"], e.tests


def test_huge_names_chosen_by_the_program_do_not_void_the_verdict(sandbox: Sandbox) -> None:
    program = code("""
        import codesynth.harness.judged as judged
        judged._name = lambda cls, attribute="__qualname__": "\\U0001F600" * 100_000
        class Answer:
            pass
        def add(a, b):
            return Answer()
    """)
    e = sandbox.run(job(program, "assert add(1, 2) == 3\nassert add(2, 2) == 4\n"))
    assert e.status is Status.FAILED, (e.status, e.reason)
    assert e.suspicious, "the comparison with the program's object is still recorded"
    raising = code("""
        def add(a, b):
            raise type("E" * 300_000, (ValueError,), {})("\\U0001F600" * 300_000)
    """)
    e = sandbox.run(job(raising, "assert add(1, 2) == 3\n"))
    assert e.status is Status.FAILED, (e.status, e.reason)


def test_references_reach_only_what_allowlisted_modules_define(sandbox: Sandbox) -> None:
    """``collections._sys`` is ``sys``; ``dataclasses.__builtins__`` is the builtins' dict:
    by name they would be the judge's own. They must not resolve."""
    program = INJECT + code("""
        inject("leak", {"#": "ref", "m": "collections", "n": "_sys"})
        def add(a, b):
            return a + b
    """)
    e = sandbox.run(job(program, "assert add(1, 2) == 3\n"))
    assert e.status is Status.ERROR, (e.status, e.reason)
    assert "not allowed" in e.reason, e.reason


def test_the_runner_configuration_is_not_in_the_programs_argv(sandbox: Sandbox) -> None:
    program = "import sys\nseen = repr((sys.orig_argv, sys.argv))\n"
    e = sandbox.run(job(program, "assert 'cgroup' not in seen and 'uid' not in seen, seen"))
    assert e.status is Status.PASSED, e.reason


# Third round: the program's operators and names deciding what the tests compute.

ZERO_DIFFERENCE = code("""
    class Zero:
        def __sub__(self, other):
            return 0.0
        def __rsub__(self, other):
            return 0.0
        def __abs__(self):
            return 0.0
    def area(r):
        return Zero()
""")


@pytest.mark.parametrize("tests", [
    "assert abs(area(2) - 12.566370614359172) < 1e-6\n",
    "assert abs(3.14159 - area(1)) < 0.001\n",
    "assert abs(area(0)) < 1e-9\n",
])
def test_arithmetic_the_program_decides_is_recorded_and_fails_under_strict(
        sandbox: Sandbox, tests: str) -> None:
    import dataclasses

    from tests.sandbox.helpers import FAST

    e = sandbox.run(job(ZERO_DIFFERENCE, tests))
    assert e.suspicious, (e.status, e.reason)  # legal Python, but never silent
    strict = sandbox.run(job(ZERO_DIFFERENCE, tests), dataclasses.replace(FAST, strict=True))
    assert strict.status is Status.FAILED, (strict.status, strict.reason)


def test_a_program_cannot_be_the_tests_math_module(sandbox: Sandbox) -> None:
    program = code("""
        class Anything:
            def isclose(self, *args, **kwargs):
                return True
        math = Anything()
        def volume(r):
            return 1.0
    """)
    e = sandbox.run(job(program, "assert math.isclose(volume(10), 4188.790204786391, "
                                 "rel_tol=0.001)\n"))
    assert e.status is Status.FAILED, (e.status, e.reason)
    assert e.suspicious


def test_a_star_import_cannot_replace_pytest_for_the_tests(sandbox: Sandbox) -> None:
    program = code("""
        class Mark:
            def __getattr__(self, name):
                return lambda *a, **k: (lambda function: None)
        class Pytest:
            mark = Mark()
        pytest = Pytest()
        def f(x):
            return 0
    """)
    tests = code("""
        import pytest
        from solution import *
        @pytest.mark.parametrize("x, y", [(1, 2), (2, 4)])
        def test_f(x, y):
            assert f(x) == y
        def test_ok():
            assert True
    """)
    e = sandbox.run(job(program, tests, "pytest"))
    assert e.status is Status.FAILED, (e.status, e.reason, [t.name for t in e.tests])


def test_tests_written_as_a_script_run(sandbox: Sandbox) -> None:
    tests = code("""
        def test_add():
            assert add(2, 3) == 5
        if __name__ == "__main__":
            test_add()
    """)
    e = sandbox.run(job("def add(a, b):\n    return a - b\n", tests))
    assert e.status is Status.FAILED, (e.status, e.reason)


def test_many_huge_failures_stay_a_failure(sandbox: Sandbox) -> None:
    """Each failure's message is long (the program's text); together they would exceed what
    the runner decodes, which would make the job a sandbox_error."""
    program = 'def f(x):\n    raise ValueError("\\U0001F600" * 9000)\n'
    e = sandbox.run(job(program, "".join(f"assert f({i}) == {i}\n" for i in range(120))))
    assert e.status is Status.FAILED, (e.status, e.reason)


@pytest.mark.parametrize("tests", ["assert " + "not " * 1000 + "x\n",
                                   "def check(candidate):\n    assert " + "-" * 3000 + "1\n"])
def test_tests_too_deep_to_compile_are_an_error(sandbox: Sandbox, tests: str) -> None:
    style = "humaneval" if tests.startswith("def check") else "assert"
    e = sandbox.run(job("x = 1\ndef f():\n    return 1\n", tests, style, entry_point="f"))
    assert e.status is Status.ERROR, (e.status, e.reason)
