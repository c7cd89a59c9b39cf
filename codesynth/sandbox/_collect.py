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
EVIDENCE_CAP = 16 << 20  # what the runner keeps of a job's evidence; the rest is dropped


class Buffer:
    """The evidence read so far, in a buffer made once per runner: however much a job
    writes, the runner's memory does not grow with it. ``touch``: charge its pages now (in a
    container, the runner shares the job's memory limit)."""

    def __init__(self, cap: int = EVIDENCE_CAP, touch: bool = False) -> None:
        self._data = bytearray(cap)
        if touch:
            self._data[::4096] = b"\1" * len(range(0, cap, 4096))
        self._view = memoryview(self._data)
        self.size = 0

    def take(self) -> bytes:
        """What was read, and an empty buffer for the next job."""
        data = bytes(self._view[:self.size])
        self.size = 0
        return data

    def read(self, fd: int) -> int:
        """One read from ``fd`` (non-blocking): bytes read, 0 at end of file."""
        if self.size >= len(self._data):
            return len(os.read(fd, 1 << 16))  # dropped: a flood only loses its own noise
        count = os.readv(fd, [self._view[self.size:]])
        self.size += count
        return count


def wait(pid: int, timeout: float, ev_fd: int, evidence: Buffer, kill_group: bool) -> bool:
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
            drain(ev_fd, evidence)
            left = deadline - time.monotonic()
            if left <= 0:
                break
        with contextlib.suppress(OSError):
            (os.killpg if kill_group else os.kill)(pid, signal.SIGKILL)
        return True
    finally:
        os.close(pidfd)


def drain(fd: int, into: Buffer) -> bool:
    """Read what is available; False at end of file."""
    while True:
        try:
            if not into.read(fd):
                return False
        except BlockingIOError:
            return True


def drain_to_end(fd: int, into: Buffer, timeout: float) -> bool:
    """Read until every writer is gone (end of file), for at most ``timeout`` seconds: once
    the job's PID namespace is being killed, the evidence is complete at end of file, without
    waiting for the namespace's init to exit. False if the writers outlived the timeout."""
    deadline = time.monotonic() + timeout
    while drain(fd, into):
        left = deadline - time.monotonic()
        if left <= 0 or not _poll([fd], [], [], left)[0]:
            return False
    return True


def tail(fd: int, limit: int) -> tuple[str, int]:
    size = os.fstat(fd).st_size
    count = min(size, limit)
    data = os.pread(fd, count, size - count) if count else b""
    return data.decode("utf-8", "replace"), size
