"""A job stopped by a time limit while it sat at its memory limit is a ``memory`` verdict.

Near its cgroup's limit the kernel reclaims page cache (the runtime's own code pages) before
it kills, so a memory hog can thrash until its CPU limit or the wall backstop stops it: a
TypeScript hog on a loaded machine did (16 s of CPU in a 60 s backstop). When a time limit
fires, the runner reads the cgroup's usage before it kills; a job stopped at its memory limit,
or one of whose processes the OOM killer took, is ``memory``. Otherwise the time limit's own
status stands.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codesynth.records import Status
from codesynth.sandbox._verdict import Observation, decide
from codesynth.sandbox.protocol import Sandbox
from tests.conftest import job
from tests.sandbox.helpers import code, limits


def observed(limit_hit: str | None, at_limit: bool, limit: float = 512.0,
             oom: bool = False) -> Observation:
    return Observation(events=[], exit_code=None, signal=9, limit_hit=limit_hit,
                       wall_limit=10.0, cpu_time=16.0, cpu_limit=20.0, oom_killed=oom,
                       output_capped=False, memory_at_limit=at_limit, memory_limit_mb=limit)


@pytest.mark.parametrize("limit_hit", ["cpu", "backstop"])
def test_a_time_limit_at_the_memory_limit_is_memory(limit_hit: str) -> None:
    verdict = decide(observed(limit_hit, True))
    assert verdict["status"] == "memory" and verdict["limit"] == "memory"
    assert "limit of 512 MB exceeded (the job was at its limit" in verdict["reason"]


def test_a_time_limit_after_an_oom_kill_is_memory() -> None:
    verdict = decide(observed("cpu", False, oom=True))
    assert verdict["status"] == "memory" and "OOM-killed" in verdict["reason"]


@pytest.mark.parametrize("limit_hit", ["cpu", "backstop", "wall"])
def test_a_time_limit_below_the_memory_limit_stays_a_timeout(limit_hit: str) -> None:
    verdict = decide(observed(limit_hit, False))
    assert verdict["status"] == "timeout" and verdict["limit"] == limit_hit


def test_not_using_the_cpu_is_a_timeout_whatever_the_memory() -> None:
    """Idle (the wall limit, not the CPU one, stopped it): nothing thrashed."""
    assert decide(observed("wall", True))["status"] == "timeout"


@given(limit_hit=st.sampled_from([None, "wall", "cpu", "backstop"]), at_limit=st.booleans())
def test_memory_exactly_when_a_running_job_was_at_its_limit(limit_hit: str | None,
                                                            at_limit: bool) -> None:
    status = decide(observed(limit_hit, at_limit))["status"]
    if limit_hit in ("cpu", "backstop"):
        assert status == ("memory" if at_limit else "timeout")
    elif limit_hit == "wall":
        assert status == "timeout"


SPIN_AFTER_THE_LIMIT = code("""
    import os

    child = os.fork()
    if child == 0:  # reaches the job's memory limit (the OOM killer takes it)
        blocks = []
        while True:
            block = bytearray(16 * 1024 * 1024)
            for i in range(0, len(block), 4096):
                block[i] = 1
            blocks.append(block)
    os.waitpid(child, 0)
    while True:  # then spins until the CPU-time limit
        pass
""")


def test_a_job_that_reached_its_memory_limit_then_spun_is_memory(sandbox: Sandbox) -> None:
    """End to end, both backends: the runner reads the cgroup's count of limit hits."""
    e = sandbox.run(job(SPIN_AFTER_THE_LIMIT, "assert True"),
                    limits(memory_mb=128, timeout=10, cpu_time=2))
    assert e.status is Status.MEMORY and e.limit == "memory", (e.reason, e.stderr[-500:])
    assert e.reason.startswith("memory limit"), e.reason


def test_a_spinning_job_below_its_memory_limit_is_a_timeout(sandbox: Sandbox) -> None:
    e = sandbox.run(job("while True:\n    pass\n", "assert True"),
                    limits(memory_mb=128, timeout=10, cpu_time=1))
    assert e.status is Status.TIMEOUT and e.limit == "cpu", e.reason
