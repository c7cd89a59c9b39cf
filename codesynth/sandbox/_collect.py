"""Collecting a job from outside: wait on its pidfd under a deadline, drain the evidence
pipe meanwhile, read the tail of its output."""

from __future__ import annotations

import contextlib
import mmap
import os
import select
import signal
import time
from collections.abc import Callable

DRAIN_TICK = 0.01  # seconds
_poll = select.select  # one descriptor, no poll object to make per job
PIPE_BYTES = 1 << 20
EVIDENCE_CAP = 16 << 20  # what the runner keeps of a job's evidence; the rest is dropped


class Buffer:
    """The evidence read so far, in a buffer made once per runner: however much a job
    writes, the runner's memory does not grow with it. ``touch``: charge its pages now (in a
    container, the runner shares the job's memory limit)."""

    def __init__(self, cap: int = EVIDENCE_CAP, touch: bool = False) -> None:
        # Anonymous memory, not a bytearray (which zero-fills, making all of it resident):
        # pages are used as evidence arrives. Never inherited by the processes we fork (the
        # zygote and every job): copying its page tables at every fork, and tearing them down
        # at every exit, cost more than the rest of a job's memory together.
        self._data = mmap.mmap(-1, cap, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        with contextlib.suppress(AttributeError, OSError):
            self._data.madvise(mmap.MADV_DONTFORK)
        if touch:
            for offset in range(0, cap, 4096):
                self._data[offset] = 1
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


class Clock:
    """The time limits of one job. ``cpu``: the job's CPU seconds so far (its cgroup), or None
    where it cannot be read (then the wall limit alone decides).

    CPU time decides, so that a loaded machine does not turn slow-but-correct programs into
    timeouts: past its wall limit, a job that is still *running* (its CPU time advanced by at
    least ``BUSY`` of a core over the last ``WINDOW`` seconds) goes on, until its CPU limit or
    the wall backstop; a job that is not (asleep, blocked, waiting) is stopped there. The
    CPU limit holds for the whole tree, read every ``SAMPLE`` seconds (each process also has
    an rlimit)."""

    SAMPLE = 0.1
    WINDOW = 0.5
    BUSY = 0.05

    def __init__(self, wall: float, cpu_limit: float, backstop: float,
                 cpu: Callable[[], float] | None) -> None:
        self.start = time.monotonic()
        self.wall, self.cpu_limit, self.backstop = wall, cpu_limit, max(backstop, wall)
        self.cpu = cpu
        self.samples: list[tuple[float, float]] = [(0.0, 0.0)]  # (elapsed, CPU seconds)
        self.next_sample = self.SAMPLE

    def check(self) -> str | None:
        """None while the job may go on, else the limit it hit: ``cpu``, ``wall`` or
        ``backstop``."""
        elapsed = time.monotonic() - self.start
        if self.cpu is None:
            return "wall" if elapsed >= self.wall else None
        if elapsed < self.next_sample and elapsed < self.wall:
            return None
        used = self.cpu()
        self.next_sample = elapsed + self.SAMPLE
        if used >= self.cpu_limit:
            return "cpu"
        if elapsed >= self.backstop:
            return "backstop"
        self.samples.append((elapsed, used))
        if elapsed < self.wall:
            return None
        old = [s for s in self.samples if s[0] <= elapsed - self.WINDOW]
        since, then = old[-1] if old else self.samples[0]
        del self.samples[:max(0, len(old) - 1)]
        rate = (used - then) / max(elapsed - since, 1e-6)
        return None if rate >= self.BUSY else "wall"

    def left(self) -> float:
        return self.backstop - (time.monotonic() - self.start)


def wait(pid: int, clock: Clock, ev_fd: int, evidence: Buffer, kill_group: bool
         ) -> str | None:
    """Wait until ``pid`` exits or a limit of ``clock`` is hit (then kill it), reading the
    evidence pipe meanwhile so the harness never blocks on it. The limit hit, if any."""
    os.set_blocking(ev_fd, False)
    pidfd = os.pidfd_open(pid)
    try:
        while True:
            # Wake on exit, or on a tick to drain the evidence pipe (1 MiB of buffer): a
            # quick job costs no extra wake-ups, a chatty one never blocks for long.
            if _poll([pidfd], [], [], max(0.0, min(clock.left(), DRAIN_TICK)))[0]:
                return None
            drain(ev_fd, evidence)
            hit = clock.check()
            if hit is not None:
                break
        with contextlib.suppress(OSError):
            (os.killpg if kill_group else os.kill)(pid, signal.SIGKILL)
        return hit
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
