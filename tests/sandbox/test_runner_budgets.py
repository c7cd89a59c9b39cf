"""What one job can cost the next, or the runner: memory left charged, evidence that would
decode into far more memory than it takes, and replies too large to read quickly."""

from __future__ import annotations

import subprocess
import sys
import time

from codesynth.records import Status
from codesynth.sandbox._process import RunnerProcess
from codesynth.sandbox._runner_support import CUT
from codesynth.sandbox.protocol import Sandbox
from tests.conftest import job
from tests.sandbox.helpers import code, limits
from tests.sandbox.test_hostile_runs import runner_of, solo  # noqa: F401 - a fixture

SIGNER = code("""
    import gc, os
    writer = next(o for o in gc.get_objects() if type(o).__name__ == "Evidence")
    cells = dict(zip(writer.emit.__code__.co_freevars,
                     (c.cell_contents for c in writer.emit.__closure__)))
    sign = cells["sign"]
    def send(payload, times=1):
        line = sign(payload) + b" " + payload + b"\\n"
        for _ in range(times):
            os.write(3, line)
""")

READ_400MB = code("""
    import os
    total = 0
    for root, dirs, files in os.walk("/usr"):
        for name in files:
            try:
                fd = os.open(os.path.join(root, name), os.O_RDONLY)
            except OSError:
                continue
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)  # charged to us, then
            while chunk := os.read(fd, 1 << 20):
                total += len(chunk)
            os.close(fd)
            if total > 400 << 20:
                break
        if total > 400 << 20:
            break
""")
TOUCH_400MB = code("""
    import mmap
    block = mmap.mmap(-1, 400 << 20)
    for i in range(0, 400 << 20, 4096):
        block[i] = 1
""")


def test_page_cache_left_by_a_job_does_not_raise_the_next_jobs_limit(solo: Sandbox  # noqa: F811
                                                                      ) -> None:
    budget = limits(memory_mb=256, timeout=30)
    alone = solo.run(job(TOUCH_400MB, "assert True"), budget)
    reader = solo.run(job(READ_400MB, "assert total > 100 << 20, total"), budget)
    assert reader.status is Status.PASSED, reader.reason
    after = solo.run(job(TOUCH_400MB, "assert True"), budget)
    assert alone.status is Status.MEMORY, alone.reason
    assert after.status is Status.MEMORY, after.reason


def _runner_hwm_mb(box: Sandbox) -> float | None:
    """The local runner's peak resident size (the stub's child); None in a container."""
    runner = runner_of(box)
    if not isinstance(runner, RunnerProcess):
        return None
    with open(f"/proc/{runner.proc.pid}/task/{runner.proc.pid}/children") as handle:
        inner = int(handle.read().split()[0])
    with open(f"/proc/{inner}/status") as handle:
        line = next(x for x in handle if x.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def test_signed_evidence_that_decodes_into_much_more_is_refused(solo: Sandbox  # noqa: F811
                                                                ) -> None:
    before = runner_of(solo)
    solo.run(job("x = 1", "assert x == 1"))
    peak = _runner_hwm_mb(solo)
    attacks = {
        "empty objects": 'send(b\'{"e":"phase","phase":"x","pad":[\' '
                         '+ b",".join([b"{}"] * 300000) + b"]}", 50)',
        "many small events": 'send(b\'{"e":"phase","phase":"x"}\', 400000)',
        "deep": 'send(b\'{"e":"test","x":\' + b"[" * 100000 + b"]" * 100000 + b"}")',
        "objects in an event": 'send(b\'{"e":"phase","phase":"x","p":{"a":{},"b":{}}}\')',
    }
    for name, attack in attacks.items():
        # The program cannot reach the judge's writer: hostile *tests* can (they run in the
        # judge), and the runner's budgets must hold against them too.
        e = solo.run(job("x = 1", SIGNER + attack + "\nos._exit(0)\n"),
                     limits(memory_mb=64, timeout=20))
        assert e.status is Status.SANDBOX_ERROR, (name, e.status, e.reason)
        assert "beyond what the runner decodes" in e.reason, (name, e.reason)
    assert runner_of(solo) is before, "the runner was replaced"
    if peak is not None:
        grown = (_runner_hwm_mb(solo) or 0) - peak
        assert grown < 64, f"the runner grew by {grown:.0f} MB"
    ok = solo.run(job("def f():\n    return 1\n", "assert f() == 1"))
    assert ok.status is Status.PASSED, ok.reason


def test_a_reply_full_of_escaped_text_is_cut_and_quick(solo: Sandbox) -> None:  # noqa: F811
    before = runner_of(solo)
    text = "\U0001F600" * 19000
    attack = SIGNER + code(f"""
        import json
        text = {text!r}
        payload = json.dumps({{"e": "test", "name": "t", "outcome": "failed", "source": text,
                              "message": text}}).encode()
        send(payload, 15)
        os._exit(0)
    """)
    start = time.perf_counter()
    e = solo.run(job("x = 1", attack), limits(timeout=20))  # hostile tests (in the judge)
    took = time.perf_counter() - start
    forged = [t for t in e.tests if t.name == "t"]
    assert len(forged) == 15, e.reason
    assert all(t.message and t.message.endswith(CUT) for t in forged)
    assert took < 5, f"one job held its worker for {took:.1f} s"
    assert runner_of(solo) is before, "the runner was replaced"


def test_reading_a_long_reply_is_linear() -> None:
    size = 48 << 20
    writer = (f"import sys; sys.stdout.buffer.write(b'{{\"a\": \"' + b'x' * {size} + b'\"}}\\n');"
              "sys.stdout.flush()")
    process = RunnerProcess.__new__(RunnerProcess)
    process.proc = subprocess.Popen([sys.executable, "-c", writer], stdout=subprocess.PIPE)
    process._buffer = bytearray()
    start = time.perf_counter()
    try:
        reply = process.receive(60)
    finally:
        process.proc.kill()
        process.proc.wait()
        process.proc.stdout.close()  # type: ignore[union-attr]
    assert len(reply["a"]) == size
    assert time.perf_counter() - start < 5
