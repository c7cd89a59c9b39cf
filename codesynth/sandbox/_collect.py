"""Collecting a job from outside: wait on its pidfd under a deadline, drain the evidence
pipe meanwhile, read the tail of its output."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import time

DRAIN_TICK = 0.01  # seconds
_poll = select.select  # one descriptor, no poll object to make per job
PIPE_BYTES = 1 << 20


def wait(pid: int, timeout: float, ev_fd: int, evidence: bytearray, cap: int,
          kill_group: bool) -> bool:
    """Wait until ``pid`` exits or ``timeout`` passes (then kill it), reading the evidence pipe
    meanwhile so the harness never blocks on it. True if the job timed out."""
    deadline = time.monotonic() + timeout
    os.set_blocking(ev_fd, False)
    pidfd = os.pidfd_open(pid)
    try:
        left = timeout
        while True:
            # Wake on exit, or on a tick to drain the evidence pipe (1 MiB of buffer): a
            # quick job costs no extra wake-ups, a chatty one never blocks for long.
            if _poll([pidfd], [], [], min(left, DRAIN_TICK))[0]:
                return False
            drain(ev_fd, evidence, cap)
            left = deadline - time.monotonic()
            if left <= 0:
                break
        with contextlib.suppress(OSError):
            (os.killpg if kill_group else os.kill)(pid, signal.SIGKILL)
        return True
    finally:
        os.close(pidfd)


def drain(fd: int, into: bytearray, cap: int, once: bool = False) -> bool:
    """Read what is available (all of it unless ``once``); False at end of file. Bytes past
    ``cap`` are read and dropped: a program flooding the channel only loses its own noise."""
    while True:
        try:
            chunk = os.read(fd, 1 << 16)
        except BlockingIOError:
            return True
        if not chunk:
            return False
        if len(into) < cap:
            into += chunk[: cap - len(into)]
        if once:
            return True


def tail(fd: int, limit: int) -> tuple[str, int]:
    size = os.fstat(fd).st_size
    count = min(size, limit)
    data = os.pread(fd, count, size - count) if count else b""
    return data.decode("utf-8", "replace"), size
