"""An outside attacker's round on the sandbox after the zygote's cuts: each test asserts the
safe outcome (it failed while the attack worked), on both backends."""

from __future__ import annotations

import pytest

from codesynth.records import Status
from codesynth.sandbox.protocol import Sandbox
from tests.conftest import BACKENDS, FAST, job, open_or_skip
from tests.sandbox.helpers import code

# A wrong program raises a SyntaxError whose lineno is a str, named after the tests' or its own
# file: _trace.exception_info copies exc.lineno into the signed event's "line", _verdict.
# _malformed rejects it, and the program chose sandbox_error (no verdict) over failed/error.
CALL_RAISES = code("""
    def f(x):
        raise SyntaxError("nope", ("tests.py", "not a line", 1, "t"))
""")


@pytest.mark.parametrize("style,program,tests,safe", [
    ("humaneval", CALL_RAISES, "def check(candidate):\n    assert candidate(1) == 2\n",
     Status.FAILED),
    ("assert", CALL_RAISES, "assert f(1) == 2\n", Status.FAILED),
    ("assert", 'raise SyntaxError("nope", ("solution.py", "x", 1, "t"))\n',
     "assert f(1) == 2\n", Status.ERROR),
], ids=["humaneval-call", "assert-call", "assert-load"])
def test_a_program_cannot_choose_sandbox_error_with_a_syntax_error_lineno(
        sandbox: Sandbox, style: str, program: str, tests: str, safe: Status) -> None:
    e = sandbox.run(job(program, tests, style, "f"))
    assert e.status == safe, (e.status, e.reason)


FORKS = code('''
    import os, time
    def f(n):
        kids = 0
        for _ in range(n):
            try:
                pid = os.fork()
            except OSError:
                break
            if pid == 0:
                time.sleep(5)
                os._exit(0)
            kids += 1
        return kids
''')


# Each warm-up (a job of a style new to the runner) discards the processes made ahead
# (_zygote._discard); they are children of the runner (CLONE_PARENT) that nothing reaps in
# fresh-namespace mode (Runner.space is None, so _jobspace's waitpid(-1) never runs): each
# stays a zombie in the worker's pids cgroup, and every later job gets one process fewer.
@pytest.mark.parametrize("backend", BACKENDS)
def test_earlier_jobs_styles_do_not_shrink_a_later_jobs_process_budget(backend: str) -> None:
    counts = []
    for earlier in ([], [("humaneval", "def check(c):\n    assert c(0) == 0\n"),
                         ("pytest", "from solution import f\ndef test_a():\n"
                                    "    assert f(0) == 0\n"),
                         ("stdio", [{"input": "", "output": "\n"}])]):
        with open_or_skip(backend, workers=1, limits=FAST) as fresh:
            for style, tests in earlier:
                program = "print()\n" if style == "stdio" else FORKS
                assert fresh.run(job(program, tests, style, "f")).status == Status.PASSED
            e = fresh.run(job(FORKS, "print(f(64))\n", "assert", "f"))
            counts.append(int(e.stdout.split()[0]))
    assert counts[0] == counts[1], counts
