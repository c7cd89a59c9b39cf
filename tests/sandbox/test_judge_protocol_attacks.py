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
