"""Several servers of one model shared by every generator, under one limit on requests in
flight and per second (``--endpoint``, ``--model-concurrency``, ``--model-rate``; ``[executor]
endpoints``...). Here within one process; across a Ray cluster: tests/test_ray_executor.py."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from codesynth.llm.endpoints import Permits
from tests.openai_server import Request, ScriptedServer


class Meter:
    """A reply function for several servers: echoes the prompt after ``latency`` seconds and
    measures how many requests all of them hold at once."""

    def __init__(self, latency: float = 0.05) -> None:
        self.latency = latency
        self.lock = threading.Lock()
        self.now = self.peak = 0

    def __call__(self, request: Request) -> str:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        time.sleep(self.latency)
        with self.lock:
            self.now -= 1
        return f"echo {request.last_user}"


def load(urls: list[str], *options: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tests.model_load", *urls, *options],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen[str], tag: str, count: int) -> dict[str, object]:
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err[-3000:]
    result = json.loads(out.strip().splitlines()[-1])
    assert result["texts"] == [f"echo {tag}-{i}" for i in range(count)]  # each its own reply
    return result


def servers(meter: Callable[[Request], str], count: int = 2) -> list[ScriptedServer]:
    return [ScriptedServer(meter).start() for _ in range(count)]


def test_requests_spread_over_the_endpoints_under_the_shared_limit() -> None:
    meter = Meter()
    started = servers(meter)
    try:
        urls = [s.base_url for s in started]
        result = finish(load(urls, "--count", "40", "--concurrency", "3"), "r", 40)
    finally:
        for server in started:
            server.close()
    assert meter.peak == 3  # reached, never passed (the client alone would send 40 at once)
    assert all(server.count >= 10 for server in started), [s.count for s in started]
    assert sum(result["sent"].values()) == 40  # type: ignore[union-attr]


def test_the_rate_limit_paces_the_requests() -> None:
    meter = Meter(latency=0.0)
    started = servers(meter, 1)
    try:
        result = finish(load([started[0].base_url], "--count", "21", "--rate", "20"), "r", 21)
    finally:
        started[0].close()
    assert result["seconds"] >= 1.0 - 0.05  # 21 requests at 20/s: 20 gaps of 50 ms


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 5), st.lists(st.booleans(), max_size=60))
def test_permits_never_exceed_the_concurrency(limit: int, steps: list[bool]) -> None:
    permits = Permits(limit, None, lease_seconds=60.0)
    held: list[int] = []
    for take in steps:
        if take:
            got = permits.try_take()
            if isinstance(got, int):
                held.append(got)
            else:
                assert len(held) == limit  # refused only when full
        elif held:
            permits.give_back(held.pop(0))
        assert len(permits.leases) == len(held) <= limit


def test_a_lease_of_a_dead_holder_comes_back_when_it_expires() -> None:
    permits = Permits(1, None, lease_seconds=0.05)
    assert isinstance(permits.try_take(), int)  # its holder never gives it back
    assert isinstance(permits.try_take(), float)  # full
    time.sleep(0.06)
    assert isinstance(permits.try_take(), int) and permits.expired == 1
