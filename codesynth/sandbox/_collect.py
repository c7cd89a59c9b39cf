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


def outputs(fds: dict[str, int], limit: int) -> tuple[str, int, str, int]:
    """The tails of stdout and stderr: the program's, then whatever the judge (the tests)
    printed, and their total sizes."""
    out, out_size = tail(fds["out"], limit)
    err, err_size = tail(fds["err"], limit)
    judge_out, judge_out_size = tail(fds["judge_out"], limit)
    judge_err, judge_err_size = tail(fds["judge_err"], limit)
    if judge_out_size:
        out = (out + judge_out)[-limit:] if limit else ""
    if judge_err_size:
        err = (err + judge_err)[-limit:] if limit else ""
    return out, out_size + judge_out_size, err, err_size + judge_err_size


def judged_status(events: list[dict[str, object]], status: int
                  ) -> tuple[int | None, int | None, float]:
    """(exit status, signal, CPU seconds) of the program: as the judge saw its process end,
    else the judge's own status (and 0.0)."""
    for event in events:
        if event.get("e") == "judged":
            code, number, cpu = event.get("exit"), event.get("signal"), event.get("cpu")
            return (code if type(code) is int else None,
                    number if type(number) is int else None,
                    float(cpu) if type(cpu) in (int, float) else 0.0)  # type: ignore[arg-type]
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status), None, 0.0
    return None, os.WTERMSIG(status) if os.WIFSIGNALED(status) else None, 0.0


def descriptors(content: bytes) -> tuple[dict[str, int], int, int]:
    """A job's descriptors: memfds for the program's and the judge's stdout and stderr and
    for the judge's ``content`` (this job, read after its fork), and the evidence pipe."""
    import fcntl

    fds = {name: os.memfd_create(name, os.MFD_CLOEXEC)
           for name in ("out", "err", "judge_out", "judge_err", "content")}
    os.write(fds["content"], content)
    ev_read, ev_write = os.pipe2(os.O_CLOEXEC)
    try:
        fcntl.fcntl(ev_write, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except OSError:
        pass  # a smaller pipe: the judge's writes wait for our reads
    return fds, ev_read, ev_write
