"""No record can stop or spoil a run, and nothing of one job reaches the next.

Each attack runs on a one-worker sandbox of each backend, so the job after it runs on the same
runner: it must still get right verdicts there, and where the attack must not cost the
runner, the runner must be the same one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from codesynth.records import Execution, Job, Limits, Status
from codesynth.sandbox.pool import RunnerPool
from codesynth.sandbox.protocol import Sandbox
from tests.conftest import BACKENDS, FAST, job, open_or_skip
from tests.sandbox.helpers import code, limits, runtime_under_tmp
from tests.sandbox.test_forgery import assert_sandbox_answers


@pytest.fixture(scope="module", params=BACKENDS)
def solo(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    box = open_or_skip(request.param, workers=1, limits=FAST)
    yield box
    box.close()


def runner_of(box: Sandbox) -> Any:
    return box._pool._runners[0]  # type: ignore[attr-defined]


WRITER = code("""
    import gc, os
    def writer():
        return next(o for o in gc.get_objects() if type(o).__name__ == "Evidence")
""")

# -- one record must not stop the run ---------------------------------------------------------

MALFORMED = {
    "final with an exception that is a number": 'w.final("passed", exception=123)',
    "final with a list as status": 'w.final(["passed"])',
    "final with a list as reason": 'w.final("passed", reason=["x"])',
    "test with a text line": 'w.test(name="t", outcome="passed", line="x"); w.final("passed")',
    "test with a list as name": 'w.test(name=[1], outcome="passed"); w.final("passed")',
    "an event of no known kind": 'w.emit("verdict", status="passed"); w.final("passed")',
}


@pytest.mark.parametrize("forged", list(MALFORMED.values()), ids=list(MALFORMED))
def test_a_forged_malformed_event_is_that_jobs_sandbox_error(solo: Sandbox,
                                                              forged: str) -> None:
    # The program cannot reach the evidence writer (it lives in the judge), but hostile
    # *tests* can: what they forge must still be that job's sandbox_error, never a stop.
    tests = WRITER + f"w = writer()\n{forged}\nos._exit(0)\n"
    jobs = [job("def f():\n    return 1\n", "assert f() == 1", job_id="before"),
            job("def f():\n    return 1\n", tests, job_id="forged"),
            job("def f():\n    return 1\n", "assert f() == 1", job_id="after")]
    results = list(solo.run_many(jobs))  # must not hang, nor lose a record
    assert [r.status for r in results] == [Status.PASSED, Status.SANDBOX_ERROR, Status.PASSED]
    assert "malformed evidence" in results[1].reason


class _Replying:
    """A runner whose answers are whatever the test says."""

    info: dict[str, Any] = {}

    def __init__(self, replies: list[dict[str, Any]]) -> None:
        self.replies = replies

    def alive(self) -> bool:
        return True

    def send(self, message: dict[str, Any]) -> None:
        pass

    def receive(self, timeout: float) -> dict[str, Any]:
        return self.replies.pop(0)

    def finish_input(self) -> None:
        pass

    def close(self) -> None:
        pass

    def kill(self) -> None:
        pass


@pytest.mark.parametrize("reply", [{"status": "no such status"},
                                   {"status": "passed", "tests": [{"name": "t"}]},
                                   {"status": "failed", "exception": "not a dict"}])
def test_a_malformed_reply_is_a_sandbox_error_not_a_dead_thread(reply: dict[str, Any]
                                                                ) -> None:
    good = {"status": "passed", "reason": "ok"}
    pool = RunnerPool("fake", 1, lambda _: _Replying([good, reply, good]))
    jobs = [Job(id=str(i), code="x = 1", tests="assert x == 1") for i in range(3)]
    out: list[Execution] = []
    thread = threading.Thread(target=lambda: out.extend(pool.run_many(jobs, Limits())))
    thread.start()
    thread.join(30)
    assert not thread.is_alive(), "run_many hung on a malformed reply"
    assert [e.status for e in out] == [Status.PASSED, Status.SANDBOX_ERROR, Status.PASSED]


# -- one job must not spoil the worker --------------------------------------------------------

def test_flooding_the_evidence_channel_does_not_kill_the_runner(solo: Sandbox) -> None:
    before = runner_of(solo)
    program = code("""
        import os
        junk = b"x" * (1 << 20)
        for _ in range(400):  # 400 MiB: more than the whole memory budget
            os.write(3, junk)
        def f():
            return 1
    """)
    e = solo.run(job(program, "assert f() == 1"), limits(memory_mb=128, timeout=20))
    assert e.status is not Status.PASSED and e.status is not Status.SANDBOX_ERROR, e.reason
    assert runner_of(solo) is before, "the runner was replaced"
    assert_sandbox_answers(solo)


@pytest.mark.parametrize("where", ["/sandbox", "/tmp", "/dev/shm"])
def test_filling_the_scratch_filesystem_does_not_kill_the_runner(solo: Sandbox,
                                                                 where: str) -> None:
    before = runner_of(solo)
    program = code(f"""
        import os
        chunk = b"x" * (1 << 20)
        with open("{where}/fill", "wb") as out:
            try:
                for _ in range(2048):
                    out.write(chunk)
                    out.flush()
            except OSError:
                pass
        def f():
            return 1
    """)
    e = solo.run(job(program, "assert f() == 1"), limits(memory_mb=96, timeout=20))
    assert e.status is not Status.SANDBOX_ERROR, e.reason
    assert runner_of(solo) is before, "the runner was replaced"
    assert_sandbox_answers(solo)
    shown = runtime_under_tmp(solo) if where == "/tmp" else []
    left = solo.run(job(f"import os\nleft = sorted(os.listdir({where!r}))",
                        f"assert left == {shown!r}"))
    assert left.status is Status.PASSED, left.reason


@pytest.mark.parametrize("name_length", [1, 200])
def test_a_deep_directory_tree_is_removed(solo: Sandbox, name_length: int) -> None:
    program = code(f"""
        import os
        for top in ("/sandbox", "/tmp"):
            fd = os.open(top, os.O_RDONLY)
            for depth in range(1200):
                name = "d" * {name_length}
                os.mkdir(name, dir_fd=fd)
                child = os.open(name, os.O_RDONLY, dir_fd=fd)
                os.close(fd)
                fd = child
            os.close(os.open("leaf", os.O_CREAT | os.O_WRONLY, dir_fd=fd))
            os.fchmod(fd, 0)  # and no permission to look inside the deepest one
        def f():
            return 1
    """)
    e = solo.run(job(program, "assert f() == 1"), limits(timeout=20))
    assert e.status is Status.PASSED, e.reason
    assert_sandbox_answers(solo)
    left = solo.run(job("import os\nleft = os.listdir('/sandbox') + sorted(os.listdir('/tmp'))",
                        f"assert left == {runtime_under_tmp(solo)!r}"))
    assert left.status is Status.PASSED, left.reason


def test_a_fork_bomb_at_the_process_limit_leaves_a_working_runner(solo: Sandbox) -> None:
    program = code("""
        import os, time
        children = 0
        try:
            while True:
                if os.fork() == 0:
                    time.sleep(60)
                    os._exit(0)
                children += 1
        except OSError:
            pass
        def f():
            return children
    """)
    e = solo.run(job(program, "assert f() > 1000"), limits(max_processes=32, timeout=5))
    assert e.status is Status.FAILED, e.reason
    assert_sandbox_answers(solo)


def test_a_thread_bomb_leaves_a_working_runner(solo: Sandbox) -> None:
    program = code("""
        import threading, time
        started = 0
        try:
            while True:
                threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
                started += 1
        except RuntimeError:
            pass
        def f():
            return started
    """)
    e = solo.run(job(program, "assert f() > 100000"), limits(max_processes=32, timeout=5))
    assert e.status is Status.FAILED, e.reason
    assert_sandbox_answers(solo)


# -- malformed tests are the task's error -----------------------------------------------------

@pytest.mark.parametrize("tests", ["assert f() == 1\nreturn\n", "yield 1\nassert f() == 1\n",
                                   "await f()\n", "assert f( == 1\n", "def g(:\n"])
@pytest.mark.parametrize("style", ["assert", "humaneval"])
def test_tests_that_do_not_compile_are_an_error(solo: Sandbox, tests: str, style: str) -> None:
    e = solo.run(job("def f():\n    return 1\n", tests, style,
                     entry_point="f" if style == "humaneval" else None))
    assert e.status is Status.ERROR, e.reason
    assert_sandbox_answers(solo)


@pytest.mark.parametrize("tests", ["return 1\n", "def test_a(:\n    pass\n"])
def test_pytest_tests_that_do_not_compile_are_an_error(solo: Sandbox, tests: str) -> None:
    e = solo.run(job("def f():\n    return 1\n", tests, "pytest"))
    assert e.status is Status.ERROR, e.reason
    assert_sandbox_answers(solo)
