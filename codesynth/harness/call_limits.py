"""Per-call time limits for the equality form (``harness/drivers``), in the judged process.

The judge asks for them with ``run``'s ``call_limit`` (``compiled_tests.call_limit``); the
judged process watches the program while it runs (``watch_calls``) and kills it when one
call ran too long. The judge then records that call as a ``timeout`` error and starts the
program again from the next call, as after a crash.
"""

from __future__ import annotations

import os
import select
import signal
import time

from codesynth.records import WALL_BACKSTOP


def _cpu_of(pid: int) -> float | None:
    """CPU seconds of ``pid`` (all its threads) and of its children it waited for."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def watch_calls(pid: int, results_fd: int, limit: float, startup: float = 0.0) -> bool:
    """Per-call time limits for a driver's run (the equality form, ``harness/drivers``):
    a call's clock starts when the previous call's result line reached fd 3 (the first
    call's when the program started; it also gets ``startup``, its runtime's start). The
    program's process group is killed when a call has used ``limit`` CPU seconds, or
    ``WALL_BACKSTOP`` x ``limit`` wall seconds (asleep or starved), as the job's own limits
    do; True then.
    Returns when the program exits (it is then reaped by the caller)."""
    pidfd = os.pidfd_open(pid)
    try:
        offset, lines, seen = 0, 0, -1
        since_wall, since_cpu = time.monotonic(), _cpu_of(pid) or 0.0
        while not select.select([pidfd], [], [], 0.02)[0]:
            more = os.pread(results_fd, 1 << 16, offset)
            offset, lines = offset + len(more), lines + more.count(b"\n")
            cpu = _cpu_of(pid)
            if cpu is None:
                return False
            if lines != seen:
                seen, since_wall, since_cpu = lines, time.monotonic(), cpu
            allowed = limit + (startup if lines == 0 else 0.0)
            if cpu - since_cpu >= allowed or time.monotonic() - since_wall >= \
                    WALL_BACKSTOP * allowed:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass
                return True
        return False
    finally:
        os.close(pidfd)
