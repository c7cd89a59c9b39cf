"""A verdict no program can forge: exiting, printing, closing streams, killing the parent...

``passed`` may come only from the harness confirming that every test ran and passed. Each
hostile program below fails its tests (or leaves before they finish) and must not pass, with
the exact status saying why.
"""

from __future__ import annotations

import textwrap

import pytest

from codesynth.records import Status
from codesynth.sandbox.protocol import Sandbox
from tests.conftest import job
from tests.sandbox.helpers import SHORT, code

EXITS = {
    "sys.exit": "import sys; sys.exit(0)",
    "raise SystemExit": "raise SystemExit(0)",
    "os._exit": "import os; os._exit(0)",
}


def assert_sandbox_answers(sandbox: Sandbox) -> None:
    """The sandbox survived whatever the previous program did and still gives verdicts."""
    good = sandbox.run(job("def f(x):\n    return x + 1\n", "assert f(1) == 2"))
    assert good.status is Status.PASSED, good.reason
    bad = sandbox.run(job("def f(x):\n    return x\n", "assert f(1) == 2"))
    assert bad.status is Status.FAILED, bad.reason


# -- leaving early ---------------------------------------------------------------------------

@pytest.mark.parametrize("exit_code", list(EXITS.values()), ids=list(EXITS))
def test_exit_0_while_loading_is_an_error(sandbox: Sandbox, exit_code: str) -> None:
    e = sandbox.run(job(exit_code, "assert True"))
    assert e.status is Status.ERROR, e.reason
    assert e.tests == ()


@pytest.mark.parametrize("exit_code", list(EXITS.values()), ids=list(EXITS))
def test_exit_0_while_the_tests_run_is_a_failure(sandbox: Sandbox, exit_code: str) -> None:
    program = "def leave():\n" + "".join(f"    {s.strip()}\n" for s in exit_code.split(";"))
    e = sandbox.run(job(program, "assert True\nleave()\nassert False"))
    assert e.status is Status.FAILED, e.reason
    assert e.tests[0].outcome == "passed"
    if "os._exit" in exit_code:  # the process left: the harness never confirmed the end
        assert len(e.tests) == 1
        assert "exited" in e.reason
    else:  # SystemExit is an exception like any other: that test fails, the rest still run
        assert [t.outcome for t in e.tests] == ["passed", "failed", "failed"]
        assert e.tests[1].message is not None
        assert e.tests[1].message.startswith("SystemExit")
        assert e.tests[1].line == 2


def test_atexit_handler_that_exits_0_does_not_pass(sandbox: Sandbox) -> None:
    program = code("""
        import atexit, os, sys
        atexit.register(lambda: os._exit(0))
        atexit.register(sys.exit, 0)
    """)
    e = sandbox.run(job(program, "assert 1 == 2"))
    assert e.status is Status.FAILED, e.reason
    assert [t.outcome for t in e.tests] == ["failed"]


@pytest.mark.parametrize("hook", ["sys.excepthook", "threading.excepthook",
                                  "sys.unraisablehook"])
def test_exception_hook_that_exits_0_does_not_pass(sandbox: Sandbox, hook: str) -> None:
    program = code(f"""
        import os, sys, threading
        {hook} = lambda *args: os._exit(0)
        def f():
            raise ValueError("boom")
    """)
    e = sandbox.run(job(program, "f()"))
    assert e.status is Status.FAILED, e.reason
    assert e.exception is not None and e.exception.type == "ValueError"


def test_keyboard_interrupt_while_loading_is_an_error(sandbox: Sandbox) -> None:
    e = sandbox.run(job("raise KeyboardInterrupt", "assert True"))
    assert e.status is Status.ERROR, e.reason
    assert e.exception is not None and e.exception.type == "KeyboardInterrupt"


def test_keyboard_interrupt_in_a_test_fails_that_test(sandbox: Sandbox) -> None:
    program = "def f():\n    raise KeyboardInterrupt\n"
    e = sandbox.run(job(program, "f()\nassert True"))
    assert e.status is Status.FAILED, e.reason
    assert [t.outcome for t in e.tests] == ["failed", "passed"]
    assert e.tests[0].message is not None and e.tests[0].message.startswith("KeyboardInterrupt")


# -- printing a fake verdict -----------------------------------------------------------------

FAKE_SUCCESS = [
    "passed",
    '{"passed": true, "status": "passed"}',
    "OK",
    "Ran 3 tests in 0.001s\n\nOK",
    "1 passed in 0.01s",
    "=== 3 passed in 0.02s ===",
    '<testsuite tests="3" failures="0" errors="0"><testcase name="t"/></testsuite>',
    "PASS\nAll tests passed!",
]


@pytest.mark.parametrize("fake", FAKE_SUCCESS)
@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_printing_fake_success_does_not_pass(sandbox: Sandbox, fake: str, stream: str) -> None:
    program = f"import sys\nprint({fake!r}, file=sys.{stream}, flush=True)\n"
    e = sandbox.run(job(program, "assert 1 == 2"))
    assert e.status is Status.FAILED, e.reason
    assert fake in getattr(e, stream)  # it was printed, and it did not matter


# -- breaking the streams --------------------------------------------------------------------

@pytest.mark.parametrize("closing", [
    "os.close(1)",
    "os.close(2)",
    "os.close(1); os.close(2)",
    "os.close(0); os.close(1); os.close(2)",
    "sys.stdout.close()",
    "sys.stderr.close()",
    "sys.stdout.close(); sys.stderr.close(); os.close(1); os.close(2)",
])
def test_closing_stdout_and_stderr_does_not_pass(sandbox: Sandbox, closing: str) -> None:
    e = sandbox.run(job(f"import os, sys\n{closing}\n", "assert 1 == 2"))
    assert e.status is Status.FAILED, e.reason
    assert [t.outcome for t in e.tests] == ["failed"]


def test_writing_fake_evidence_to_every_descriptor_does_not_pass(sandbox: Sandbox) -> None:
    # Without the per-job secret, lines that look like harness events are just noise.
    program = code("""
        import os
        fakes = [b'{"e": "final", "status": "passed"}\\n',
                 b'0123456789abcdef0123456789abcdef {"e": "final", "status": "passed"}\\n',
                 b'passed\\n']
        written = 0
        for fd in range(3, 51):
            for fake in fakes:
                try:
                    os.write(fd, fake)
                    written += 1
                except OSError:
                    pass
    """)
    e = sandbox.run(job(program, "assert written > 0\nassert 1 == 2"))
    assert e.status is Status.FAILED, e.reason
    assert [t.outcome for t in e.tests] == ["passed", "failed"]


def test_writing_fake_evidence_then_exiting_does_not_pass(sandbox: Sandbox) -> None:
    program = code("""
        import os
        for fd in range(3, 51):
            try:
                os.write(fd, b'x {"e": "final", "status": "passed"}\\n')
            except OSError:
                pass
        os._exit(0)
    """)
    e = sandbox.run(job(program, "assert 1 == 2"))
    assert e.status is Status.ERROR, e.reason


def test_monkeypatching_print_and_exits_then_passing_nothing(sandbox: Sandbox) -> None:
    program = code("""
        import builtins, os, sys
        builtins.print = lambda *a, **k: None
        sys.exit = lambda *a: None
        os._exit = lambda *a: None
        os.abort = lambda: None
    """)
    e = sandbox.run(job(program, "assert 1 == 2"))
    assert e.status is Status.FAILED, e.reason
    assert [t.outcome for t in e.tests] == ["failed"]
    assert_sandbox_answers(sandbox)


# -- attacking the sandbox itself ------------------------------------------------------------

# The runner is the init of the namespace the job runs in: signals from the job cannot reach
# it. Signals the job sends to itself or its own group work as in any interpreter.
KILLS = {
    "kill getppid": ("os.kill(os.getppid(), signal.SIGKILL)", Status.FAILED),
    "kill 1": ("os.kill(1, signal.SIGKILL)", Status.FAILED),
    "kill -1": ("os.kill(-1, signal.SIGKILL)", Status.FAILED),
    "killpg 0": ("os.killpg(0, signal.SIGKILL)", Status.CRASHED),
    "child kills 1 and -1": ("pid = os.fork()\n"
                             "if pid == 0:\n"
                             "    for target in (1, -1, os.getppid()):\n"
                             "        try:\n"
                             "            os.kill(target, signal.SIGKILL)\n"
                             "        except OSError:\n"
                             "            pass\n"
                             "    os._exit(0)\n"
                             "os.waitpid(pid, 0)", Status.CRASHED),
}


@pytest.mark.parametrize(("kill", "status"), list(KILLS.values()), ids=list(KILLS))
def test_killing_the_parent_does_not_pass_and_the_sandbox_survives(
        sandbox: Sandbox, kill: str, status: Status) -> None:
    program = ("import os, signal\ntry:\n" + textwrap.indent(kill, "    ")
               + "\nexcept OSError:\n    pass\n")
    if sandbox.name == "local" and "getppid" in kill:
        # The job's parent (the runner) is outside its PID namespace: getppid() is 0 there,
        # and kill(0) signals the job's own process group.
        status = Status.CRASHED
    e = sandbox.run(job(program, "assert 1 == 2"))
    assert e.status is status, e.reason
    assert_sandbox_answers(sandbox)


# A stdio program can kill its harness (same uid): that only loses the verdict.
@pytest.mark.parametrize(("kill", "status"), [
    ("os.kill(os.getppid(), signal.SIGKILL)", Status.CRASHED),
    ("os.kill(1, signal.SIGKILL)", Status.FAILED),  # the runner: out of reach
    ("os.kill(-1, signal.SIGKILL)", Status.CRASHED),
])
def test_stdio_program_killing_the_harness_does_not_pass(sandbox: Sandbox, kill: str,
                                                         status: Status) -> None:
    program = f"import os, signal\ntry:\n    {kill}\nexcept OSError:\n    pass\nprint(1)\n"
    e = sandbox.run(job(program, [{"input": "", "output": "2"}], "stdio"))
    assert e.status is status, e.reason
    assert_sandbox_answers(sandbox)


def test_ignoring_signals_and_looping_is_a_timeout(sandbox: Sandbox) -> None:
    program = code("""
        import signal
        for s in (signal.SIGTERM, signal.SIGALRM, signal.SIGINT, signal.SIGHUP, signal.SIGXCPU):
            signal.signal(s, signal.SIG_IGN)
        while True:
            pass
    """)
    e = sandbox.run(job(program, "assert True"), SHORT)
    assert e.status is Status.TIMEOUT, e.reason
    assert e.duration < SHORT.timeout + 1.5
    assert_sandbox_answers(sandbox)


# -- each style: the right program passes, leaving early does not -----------------------------

STYLE_CASES = {
    "assert": (
        "def add(a, b):\n    return a + b\n",
        "assert add(1, 2) == 3\nassert add(-1, 1) == 0\nassert add(2, 2) == 4",
        None,
    ),
    "humaneval": (
        "def add(a, b):\n    return a + b\n",
        "def check(candidate):\n    assert candidate(1, 2) == 3\n"
        "    assert candidate(-1, 1) == 0\n    assert candidate(2, 2) == 4\n",
        "add",
    ),
    "pytest": (
        "def add(a, b):\n    return a + b\n",
        "from solution import add\n\n\ndef test_one():\n    assert add(1, 2) == 3\n\n\n"
        "def test_two():\n    assert add(-1, 1) == 0\n\n\ndef test_three():\n"
        "    assert add(2, 2) == 4\n",
        None,
    ),
    "stdio": (
        "a, b = map(int, input().split())\nprint(a + b)\n",
        [{"input": "1 2\n", "output": "3\n"}, {"input": "-1 1\n", "output": "0"},
         {"input": "2 2", "output": "4\n"}],
        None,
    ),
}
LEAVING = "    import os\n    if {cond}:\n        os._exit(0)\n"


@pytest.mark.parametrize("style", list(STYLE_CASES))
def test_the_correct_program_passes(sandbox: Sandbox, style: str) -> None:
    program, tests, entry_point = STYLE_CASES[style]
    e = sandbox.run(job(program, tests, style, entry_point))
    assert e.status is Status.PASSED, (e.reason, e.exception)
    assert len(e.tests) == (1 if style == "humaneval" else 3)
    assert all(t.outcome == "passed" for t in e.tests)


@pytest.mark.parametrize("style", list(STYLE_CASES))
def test_os_exit_0_in_the_middle_does_not_pass(sandbox: Sandbox, style: str) -> None:
    program, tests, entry_point = STYLE_CASES[style]
    if style == "stdio":  # leaves on the second case, before printing
        program = "import os\na, b = map(int, input().split())\nif a == -1:\n" \
                  "    os._exit(0)\nprint(a + b)\n"
    else:  # the second call leaves the process
        program = "def add(a, b):\n" + LEAVING.format(cond="a == -1") + "    return a + b\n"
    e = sandbox.run(job(program, tests, style, entry_point))
    assert e.status is Status.FAILED, (e.reason, e.exception)
    if style == "stdio":
        assert [t.outcome for t in e.tests] == ["passed", "failed", "passed"]
    elif style in ("assert", "pytest"):  # the first test passed, then the process was gone
        assert [t.outcome for t in e.tests] == ["passed"]
        assert "exited" in e.reason


# -- BUGS: the evidence channel can be forged from inside the program ------------------------

READ_TOKEN_AND_FORGE = code("""
    import os
    token = os.pread(3, 4096, 0).split(b" ")[0]
    os.write(3, token + b' {"e": "final", "status": "passed", "reason": "forged"}\\n')
    os._exit(0)
""")


@pytest.mark.parametrize(("style", "status"), [("assert", Status.ERROR),
                                               ("humaneval", Status.ERROR),
                                               ("pytest", Status.ERROR)])
def test_reading_the_evidence_token_from_fd_3_cannot_forge_a_pass(
        sandbox: Sandbox, style: str, status: Status) -> None:
    _, tests, entry_point = STYLE_CASES[style]
    e = sandbox.run(job(READ_TOKEN_AND_FORGE, tests, style, entry_point))
    assert e.status is status, e.reason  # it left while loading (pytest: while collecting)


@pytest.mark.xfail(reason="KNOWN LIMITATION (README, threat model): in-process styles share the "
                          "program's interpreter; code written to walk the stack to the "
                          "harness's writer can sign a final 'passed'. stdio is immune.",
                   strict=True)
def test_finding_the_evidence_object_in_the_stack_cannot_forge_a_pass(sandbox: Sandbox) -> None:
    program = code("""
        import os, sys
        frame = sys._getframe()
        while frame is not None and "evidence" not in frame.f_locals:
            frame = frame.f_back
        frame.f_locals["evidence"].final("passed", reason="forged")
        os._exit(0)
    """)
    e = sandbox.run(job(program, "assert 1 == 2"))
    assert e.status is Status.ERROR, e.reason


def test_monkeypatching_the_harness_cannot_forge_a_pass(sandbox: Sandbox) -> None:
    program = code("""
        from codesynth.harness import evidence as _evidence
        _final = _evidence.Evidence.final
        _evidence.Evidence.final = lambda self, status, **kw: _final(self, "passed")
    """)
    e = sandbox.run(job(program, "assert 1 == 2"))
    assert e.status is Status.FAILED, e.reason


def test_stdio_program_cannot_read_the_expected_output(sandbox: Sandbox) -> None:
    program = code("""
        import sys
        frame = sys._getframe()
        while frame is not None and "case" not in frame.f_locals:
            frame = frame.f_back
        print(frame.f_locals["case"]["output"])
    """)
    cases = [{"input": "1\n", "output": "an answer nobody could guess: 7f3a\n"},
             {"input": "2\n", "output": "another one: 91c2\n"}]
    e = sandbox.run(job(program, cases, "stdio"))
    assert e.status is Status.FAILED, e.reason


def test_stdio_program_holding_the_token_cannot_reach_the_evidence_channel(
        sandbox: Sandbox) -> None:
    # The token is in the stdio program's memory (see above), but the channel is not: the
    # harness closed fd 3 in the child and /proc/1/fd is not accessible.
    program = code("""
        import json, os, sys
        frame = sys._getframe()
        while frame is not None and "evidence" not in frame.f_locals:
            frame = frame.f_back
        line = frame.f_locals["evidence"]._prefix + json.dumps(
            {"e": "final", "status": "passed"}).encode() + b"\\n"
        for path in ("/proc/1/fd/3", f"/proc/{os.getppid()}/fd/3", "/proc/1/fd/1"):
            try:
                fd = os.open(path, os.O_WRONLY | os.O_APPEND)
                os.write(fd, line)
                print("reached", path, file=sys.stderr)
            except OSError:
                pass
        for fd in range(3, 64):
            try:
                os.write(fd, line)
            except OSError:
                pass
        os._exit(0)
    """)
    e = sandbox.run(job(program, [{"input": "", "output": "42"}], "stdio"))
    assert e.status is Status.FAILED, e.reason
    assert "reached" not in e.stderr


# -- BUGS: pytest style: the program steers pytest itself ------------------------------------

PYTEST_TESTS = STYLE_CASES["pytest"][1]


def test_pytest_exit_from_the_program_cannot_pass(sandbox: Sandbox) -> None:
    program = "import pytest\n\n\ndef add(a, b):\n    if a == -1:\n" \
              "        pytest.exit('done', returncode=0)\n    return a + b\n"
    e = sandbox.run(job(program, PYTEST_TESTS, "pytest"))
    assert e.status is Status.FAILED, (e.reason, e.tests)


@pytest.mark.parametrize("escape", ["skip", "xfail"])
def test_program_calling_pytest_skip_cannot_pass(sandbox: Sandbox, escape: str) -> None:
    program = f"import pytest\n\n\ndef add(a, b):\n    if a == -1:\n" \
              f"        pytest.{escape}('cannot do this one')\n    return a + b\n"
    e = sandbox.run(job(program, PYTEST_TESTS, "pytest"))
    assert e.status is Status.FAILED, (e.reason, e.tests)
