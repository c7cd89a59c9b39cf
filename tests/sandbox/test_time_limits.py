"""Time limits that do not depend on the machine's load: CPU time decides for a job that is
running, the wall limit for one that is not, a wall backstop for both; the trace says which
limit fired and how much CPU the job used."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Iterator

import pytest

from codesynth.records import Limits, Status
from codesynth.sandbox.protocol import Sandbox
from tests.conftest import job
from tests.sandbox.helpers import code, limits

BURN = code("""
    import time
    def burn(seconds):
        end = time.process_time() + seconds
        while time.process_time() < end:
            pass
        return True
""")


def _spin(stop_at: float) -> None:
    while time.monotonic() < stop_at:
        pass


@pytest.fixture
def loaded_machine() -> Iterator[None]:
    """Three busy processes per core, outside the sandbox, for a few seconds."""
    stop_at = time.monotonic() + 12
    procs = [multiprocessing.Process(target=_spin, args=(stop_at,))
             for _ in range(3 * (os.cpu_count() or 1))]
    for proc in procs:
        proc.start()
    try:
        yield
    finally:
        for proc in procs:
            proc.terminate()
            proc.join()


def test_a_slow_but_correct_program_passes_on_a_loaded_machine(
        sandbox: Sandbox, loaded_machine: None) -> None:
    # ~0.8 s of CPU under a 1.5 s limit: at a quarter of a core it needs ~3 s of wall time.
    e = sandbox.run(job(BURN, "assert burn(0.8)"), limits(timeout=1.5))
    assert e.status is Status.PASSED, (e.reason, e.duration, e.cpu_time)
    assert e.limit is None


def test_a_program_that_sleeps_stops_at_the_wall_limit(sandbox: Sandbox) -> None:
    start = time.monotonic()
    e = sandbox.run(job("import time\ntime.sleep(30)", "assert True"), limits(timeout=1))
    assert e.status is Status.TIMEOUT, e.reason
    assert e.limit == "wall", e.reason
    assert "wall-time limit" in e.reason and "not using the CPU" in e.reason
    assert time.monotonic() - start < 10


def test_an_endless_loop_stops_at_the_cpu_limit(sandbox: Sandbox) -> None:
    e = sandbox.run(job("while True:\n    pass", "assert True"), limits(timeout=1))
    assert e.status is Status.TIMEOUT, e.reason
    # On a machine too busy to give it 1 s of CPU within 4 s, the backstop ends it instead.
    assert e.limit in ("cpu", "backstop"), e.reason
    if e.limit == "cpu":
        assert e.cpu_time >= 0.75, e.cpu_time  # the kernel's CPU clock runs ahead (_verdict)


def test_the_cpu_limit_holds_for_the_whole_tree(sandbox: Sandbox) -> None:
    """Each process stays under its own rlimit; together they exceed the limit."""
    program = code("""
        import os, time
        for _ in range(4):
            if os.fork() == 0:
                end = time.process_time() + 0.9
                while time.process_time() < end:
                    pass
                os._exit(0)
        while True:
            try:
                os.wait()
            except ChildProcessError:
                break
        time.sleep(30)
    """)
    e = sandbox.run(job(program, "assert True"),
                    limits(timeout=1.5, cpu_time=1.5, wall_time=60))
    assert e.status is Status.TIMEOUT, e.reason
    if sandbox.name in ("local", "docker"):  # both measure the tree with a cgroup here
        assert e.limit == "cpu", (e.reason, e.cpu_time)


def test_a_job_using_the_cpu_a_little_stops_at_the_wall_limit(sandbox: Sandbox) -> None:
    """Waking up now and then is not running: 1% of a core is below the bar."""
    program = "import time\nwhile True:\n    time.sleep(0.05)\n    sum(range(1000))\n"
    e = sandbox.run(job(program, "assert True"), limits(timeout=1))
    assert e.status is Status.TIMEOUT, e.reason
    assert e.limit == "wall", e.reason


def test_the_wall_backstop_bounds_a_starved_job(sandbox: Sandbox,
                                                loaded_machine: None) -> None:
    e = sandbox.run(job(BURN, "assert burn(5)"),
                    limits(timeout=1, cpu_time=10, wall_time=2))
    assert e.status is Status.TIMEOUT, e.reason
    assert e.limit == "backstop", e.reason
    assert 1.8 <= e.duration < 8, e.duration


def test_limits_round_trip_and_refuse_a_backstop_below_the_limit() -> None:
    chosen = Limits(timeout=2, wall_time=9)
    assert Limits.from_dict(chosen.to_dict()) == chosen
    assert Limits(timeout=2).wall_backstop == 8
    with pytest.raises(ValueError, match="wall_time"):
        Limits(timeout=5, wall_time=1)


HOG = code("""
    import os
    for _ in range(40):
        if os.fork() == 0:
            os.setsid()  # a session of its own: an autogroup, a CPU share of its own
            while True:
                pass
    while True:
        pass
""")


def test_a_job_of_many_sessions_does_not_starve_another_workers_job() -> None:
    """Every worker has a CPU share of its own (a cpu cgroup), however many processes or
    sessions a job on another worker makes: a correct job there is not starved into a
    timeout. (Docker workers have a CPU quota per container.)"""
    import threading

    from codesynth.sandbox.local import LocalSandbox

    hog_box, good_box = LocalSandbox(workers=1), LocalSandbox(workers=1)
    done = threading.Event()

    def hogs() -> None:
        while not done.is_set():
            try:
                hog_box.run(job(HOG, "assert True"),
                            limits(timeout=20, cpu_time=60, max_processes=64))
            except RuntimeError as exc:  # closed under it: the test is over
                assert "closed" in str(exc), exc
                return

    thread = threading.Thread(target=hogs)
    try:
        thread.start()
        time.sleep(1.0)  # the first hog is spinning
        good = ("def work(n):\n    s = 0\n    for i in range(n):\n        s += i * i\n"
                "    return s\n")
        for _ in range(2):
            e = good_box.run(job(good, "assert work(2_000_000) == "
                                       "sum(i * i for i in range(2_000_000))"),
                             limits(timeout=2))
            assert e.status is Status.PASSED, (e.reason, e.cpu_time, e.duration)
    finally:
        done.set()
        hog_box.close()  # ends the hog in flight
        thread.join()
        good_box.close()
