"""Every status, with the trace fields that explain it."""

from __future__ import annotations

import json
import signal

import pytest

from codesynth.errors import UserError
from codesynth.records import Execution, Status
from codesynth.sandbox.protocol import Sandbox
from tests.conftest import FAST, job
from tests.sandbox.helpers import SHORT, code, limits

IDENTITY = "def f(x):\n    return x\n"


def test_passed(sandbox: Sandbox) -> None:
    e = sandbox.run(job(IDENTITY, "assert f(1) == 1\nassert f('a') == 'a'"))
    assert e.status is Status.PASSED and e.passed
    assert [(t.name, t.outcome, t.line) for t in e.tests] == [
        ("tests.py:1", "passed", 1), ("tests.py:2", "passed", 2)]
    assert e.exception is None
    assert e.exit_code == 0 and e.signal is None
    assert e.limits == FAST
    assert e.isolation and e.runtime.startswith("cpython-")


def test_failed_with_per_test_outcomes(sandbox: Sandbox) -> None:
    e = sandbox.run(job(IDENTITY, "assert f(1) == 1\nassert f(3) == 4\nassert f(2) == 2"))
    assert e.status is Status.FAILED and not e.passed
    assert [t.outcome for t in e.tests] == ["passed", "failed", "passed"]
    failing = e.tests[1]
    assert failing.line == 2
    assert failing.source == "assert f(3) == 4"
    assert failing.message is not None and "assert 3 == 4" in failing.message
    assert e.exception is not None
    assert e.exception.type == "AssertionError"
    assert e.exception.line == 2
    assert "line 2" in e.reason


def test_failed_assert_with_a_message_keeps_it(sandbox: Sandbox) -> None:
    e = sandbox.run(job(IDENTITY, "assert f([1, 2]) == [1, 3], 'lists differ'"))
    assert e.status is Status.FAILED
    message = e.tests[0].message or ""
    assert "lists differ" in message
    assert "[1, 2]" in message and "[1, 3]" in message


def test_a_failure_inside_the_program_shows_the_programs_own_lines(sandbox: Sandbox) -> None:
    # The runner compiles the program before the fork; tracebacks must still quote it.
    program = "def f(x):\n    if x > 1:\n        raise ValueError('too big: ' + str(x))\n" \
              "    return x\n"
    e = sandbox.run(job(program, "assert f(1) == 1\nassert f(2) == 2"))
    assert e.status is Status.FAILED
    assert e.exception is not None and e.exception.type == "ValueError"
    assert e.exception.line == 2
    assert 'File "solution.py", line 3, in f' in e.exception.traceback
    assert "raise ValueError('too big: ' + str(x))" in e.exception.traceback


@pytest.mark.parametrize("style", ["assert", "humaneval"])
def test_warnings_from_compiling_the_program_reach_its_stderr(sandbox: Sandbox,
                                                              style: str) -> None:
    program = "def f(x):\n    return x is 1\n"  # SyntaxWarning: "is" with a literal
    tests = "assert f(1)" if style == "assert" else "def check(c):\n    assert c(1)\n"
    e = sandbox.run(job(program, tests, style=style, entry_point="f"))
    assert e.status is Status.PASSED, (e.reason, e.stderr)
    assert "SyntaxWarning" in e.stderr and "solution.py" in e.stderr


def test_failing_statement_spanning_lines(sandbox: Sandbox) -> None:
    tests = "assert f(1) == 1\nassert f(\n    5\n) == 6\nassert f(0) == 0"
    e = sandbox.run(job(IDENTITY, tests))
    assert e.status is Status.FAILED
    assert [(t.outcome, t.line) for t in e.tests] == [
        ("passed", 1), ("failed", 2), ("passed", 5)]
    assert e.tests[1].source == "assert f(\n    5\n) == 6"


@pytest.mark.parametrize(("program", "exception_type", "line"), [
    ("def f(x):\n    return x +\n", "SyntaxError", 2),
    ("import numpy_that_does_not_exist\n", "ModuleNotFoundError", 1),
    ("from os import no_such_name\n", "ImportError", 1),
    ("x = 1\ny = x / 0\n", "ZeroDivisionError", 2),
    ("def f(x):\n    return x\nf(1, 2)\n", "TypeError", 3),
], ids=["syntax", "import", "from-import", "zero-division", "type-error"])
def test_error_before_the_tests(sandbox: Sandbox, program: str, exception_type: str,
                                line: int) -> None:
    e = sandbox.run(job(program, "assert True"))
    assert e.status is Status.ERROR, e.reason
    assert e.tests == ()
    assert e.exception is not None
    assert e.exception.type == exception_type
    assert e.exception.line == line


def test_tests_that_do_not_parse_are_an_error(sandbox: Sandbox) -> None:
    e = sandbox.run(job(IDENTITY, "assert f(1) ==\n"))
    assert e.status is Status.ERROR
    assert e.exception is not None and e.exception.type == "SyntaxError"


def test_timeout(sandbox: Sandbox) -> None:
    e = sandbox.run(job("while True:\n    pass\n", "assert True"), SHORT)
    assert e.status is Status.TIMEOUT
    assert e.exit_code is None and e.signal == signal.SIGKILL


def test_memory(sandbox: Sandbox) -> None:
    program = "data = bytearray(300 * 1024 * 1024)\nfor i in range(0, len(data), 4096):\n" \
              "    data[i] = 1\n"
    e = sandbox.run(job(program, "assert True"), limits(memory_mb=64, timeout=10))
    assert e.status is Status.MEMORY, e.reason


@pytest.mark.parametrize("where", ["loading", "tests"])
def test_crashed_by_a_real_segfault(sandbox: Sandbox, where: str) -> None:
    if where == "loading":
        e = sandbox.run(job("import ctypes\nctypes.string_at(0)\n", "assert True"))
    else:
        e = sandbox.run(job("import ctypes\ndef f():\n    ctypes.string_at(0)\n",
                            "assert True\nf()\nassert True"))
        assert [t.outcome for t in e.tests] == ["passed"]
    assert e.status is Status.CRASHED, e.reason
    assert e.signal == signal.SIGSEGV
    assert "SIGSEGV" in e.reason


def test_a_signal_in_a_stdio_program_is_an_error_of_that_case(sandbox: Sandbox) -> None:
    # stdio cases run in a child of the harness, where self-sent signals behave normally
    program = "import os, signal\nif input() == 'die':\n    os.kill(os.getpid(), " \
              "signal.SIGKILL)\nprint('alive')\n"
    e = sandbox.run(job(program, [{"input": "live", "output": "alive"},
                                  {"input": "die", "output": "alive"}], "stdio"))
    assert e.status is Status.FAILED
    assert [t.outcome for t in e.tests] == ["passed", "error"]
    assert e.tests[1].message == "killed by SIGKILL"


SELF_SIGNALS = {
    "SIGSEGV": ("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n", signal.SIGSEGV),
    "SIGKILL": ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n", signal.SIGKILL),
    "SIGTERM": ("import os, signal\nos.kill(os.getpid(), signal.SIGTERM)\n", signal.SIGTERM),
    "raise_signal": ("import signal\nsignal.raise_signal(signal.SIGABRT)\n", signal.SIGABRT),
    "os.abort": ("import os\nos.abort()\n", signal.SIGABRT),
}


@pytest.mark.parametrize(("program", "number"), list(SELF_SIGNALS.values()),
                         ids=list(SELF_SIGNALS))
def test_a_program_that_signals_itself_is_crashed(sandbox: Sandbox, program: str,
                                                  number: signal.Signals) -> None:
    e = sandbox.run(job(program + "print('still running')\n", "assert True"))
    assert e.status is Status.CRASHED, (e.reason, e.stdout)
    assert e.signal == number


def test_output_limit(sandbox: Sandbox) -> None:
    e = sandbox.run(job("import os\nwhile True:\n    os.write(1, b'y' * 65536)\n",
                        "assert True"), limits(file_size_mb=4, timeout=10))
    assert e.status is Status.OUTPUT_LIMIT, e.reason
    assert e.stdout_bytes >= 4 * 1024 * 1024


# -- the other styles ------------------------------------------------------------------------

PYTEST_TESTS = code("""
    from solution import add


    def test_small():
        assert add(1, 2) == 3


    def test_wrong():
        assert add(2, 2) == 5


    def test_zero():
        assert add(0, 0) == 0
""")


def test_pytest_style_per_test_outcomes(sandbox: Sandbox) -> None:
    e = sandbox.run(job("def add(a, b):\n    return a + b\n", PYTEST_TESTS, "pytest"))
    assert e.status is Status.FAILED, (e.reason, e.exception)
    assert [(t.name, t.outcome) for t in e.tests] == [
        ("test_solution.py::test_small", "passed"),
        ("test_solution.py::test_wrong", "failed"),
        ("test_solution.py::test_zero", "passed")]
    assert e.tests[1].line == 9
    assert "assert 4 == 5" in (e.tests[1].message or "")


@pytest.mark.parametrize("program", ["def add(a, b) return a + b\n",
                                     "import no_such_module\ndef add(a, b):\n    return 0\n",
                                     "raise RuntimeError('at import')\n"],
                         ids=["syntax", "import", "raises"])
def test_pytest_style_collection_error(sandbox: Sandbox, program: str) -> None:
    e = sandbox.run(job(program, PYTEST_TESTS, "pytest"))
    assert e.status is Status.ERROR, e.reason
    assert e.exception is not None and e.exception.type == "CollectionError"
    assert e.tests == ()


def test_stdio_wrong_answer(sandbox: Sandbox) -> None:
    program = "print(int(input()) * 2)\n"
    e = sandbox.run(job(program, [{"input": "2\n", "output": "4\n"},
                                  {"input": "3\n", "output": "7\n"}], "stdio"))
    assert e.status is Status.FAILED
    assert [(t.name, t.outcome) for t in e.tests] == [("case 0", "passed"), ("case 1", "failed")]
    message = e.tests[1].message or ""
    assert "expected" in message and "got" in message
    assert repr("7\n") in message and repr("6\n") in message
    assert e.exception is not None and e.exception.type == "WrongAnswer"


def test_stdio_runtime_error_is_a_failed_case(sandbox: Sandbox) -> None:
    e = sandbox.run(job("x = int(input())\nprint(1 // x)\n",
                        [{"input": "1", "output": "1"}, {"input": "0", "output": "0"}],
                        "stdio"))
    assert e.status is Status.FAILED
    assert [t.outcome for t in e.tests] == ["passed", "error"]
    assert "ZeroDivisionError" in e.stderr


def test_stdio_syntax_error(sandbox: Sandbox) -> None:
    e = sandbox.run(job("print(\n", [{"input": "", "output": ""}], "stdio"))
    assert e.status is Status.ERROR
    assert e.exception is not None and e.exception.type == "SyntaxError"


def test_humaneval_passed_and_failed(sandbox: Sandbox) -> None:
    tests = "def check(candidate):\n    assert candidate(2) == 4\n    assert candidate(3) == 9\n"
    good = sandbox.run(job("def square(x):\n    return x * x\n", tests, "humaneval", "square"))
    assert good.status is Status.PASSED
    bad = sandbox.run(job("def square(x):\n    return x + x\n", tests, "humaneval", "square"))
    assert bad.status is Status.FAILED
    assert [t.outcome for t in bad.tests] == ["failed"]
    assert "assert 6 == 9" in (bad.tests[0].message or "")


def test_humaneval_missing_entry_point(sandbox: Sandbox) -> None:
    tests = "def check(candidate):\n    assert candidate(2) == 4\n"
    e = sandbox.run(job("def other(x):\n    return x * x\n", tests, "humaneval", "square"))
    assert e.status is Status.FAILED
    assert [t.outcome for t in e.tests] == ["failed"]
    assert "NameError" in (e.tests[0].message or "")
    assert "square" in (e.tests[0].message or "")


# -- many jobs, and the record itself --------------------------------------------------------

def _mixed_jobs() -> list[tuple[str, object, str, Status]]:
    """(code, tests, style, expected status); early jobs sleep so they finish last."""
    kinds: list[tuple[str, object, str, Status]] = [
        ("print('{i}')\nimport time\ntime.sleep({delay})\n", "assert True", "assert",
         Status.PASSED),
        ("print('{i}')\nimport time\ntime.sleep({delay})\n", "assert 1 == 2", "assert",
         Status.FAILED),
        ("print('{i}')\nimport time\ntime.sleep({delay})\n1 / 0\n", "assert True", "assert",
         Status.ERROR),
        ("print('{i}', flush=True)\nimport time, ctypes\ntime.sleep({delay})\n"
         "ctypes.string_at(0)\n", "assert True", "assert", Status.CRASHED),
        ("import time\ntime.sleep({delay})\nprint('{i}')\n", [{"input": "", "output": "{i}"}],
         "stdio", Status.PASSED),
    ]
    jobs = []
    for i in range(20):
        program, tests, style, status = kinds[i % len(kinds)]
        delay = 0.3 if i < 4 else 0.0
        if isinstance(tests, list):
            tests = [{"input": "", "output": str(i)}]
        jobs.append((program.format(i=i, delay=delay), tests, style, status))
    return jobs


def test_run_many_keeps_input_order(sandbox: Sandbox) -> None:
    specs = _mixed_jobs()
    jobs = [job(program, tests, style, job_id=f"job-{i}")
            for i, (program, tests, style, _status) in enumerate(specs)]
    executions = list(sandbox.run_many(jobs))
    assert [e.status for e in executions] == [status for *_rest, status in specs]
    for i, e in enumerate(executions):
        if specs[i][2] == "assert":
            assert e.stdout == f"{i}\n", (i, e.stdout)


def test_run_many_of_nothing(sandbox: Sandbox) -> None:
    assert list(sandbox.run_many([])) == []


def test_execution_round_trips_through_json(sandbox: Sandbox) -> None:
    jobs = [
        job(IDENTITY, "assert f(1) == 1"),
        job(IDENTITY, "assert f(1) == 1\nassert f(3) == 4"),
        job("1 / 0\n", "assert True"),
        job("import ctypes\nctypes.string_at(0)\n", "assert True"),
        job("print('ünïcödé ✓')\n", "assert True"),
        job("print(int(input()) + 1)\n", [{"input": "1", "output": "3"}], "stdio"),
        job("def g():\n    pass\n", "def check(c):\n    assert c() == 1\n", "humaneval", "g"),
    ]
    executions = list(sandbox.run_many(jobs))
    assert len({e.status for e in executions}) == 4
    for e in executions:
        data = json.loads(json.dumps(e.to_dict()))
        assert data["passed"] is e.passed
        again = Execution.from_dict(data)
        assert again == e
        assert isinstance(again.status, Status)
        assert again.to_dict() == e.to_dict()


def test_timeout_execution_round_trips_through_json(sandbox: Sandbox) -> None:
    e = sandbox.run(job("import time\ntime.sleep(10)\n", "assert True"), SHORT)
    assert e.status is Status.TIMEOUT
    again = Execution.from_dict(json.loads(json.dumps(e.to_dict())))
    assert again == e
    assert again.limits == SHORT


@pytest.mark.parametrize(("tests", "style"), [
    ("assert True", "doctest"),
    (["assert x == 1"], "assert"),
    ("1", "stdio"),
], ids=["unknown-style", "assert-tests-not-str", "stdio-tests-not-list"])
def test_malformed_jobs_are_rejected_not_judged(sandbox: Sandbox, tests: object,
                                                style: str) -> None:
    with pytest.raises((ValueError, TypeError, UserError)):
        sandbox.run(job("x = 1\n", tests, style))
