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


def cpu_of(pid: int) -> float | None:
    """CPU seconds of ``pid`` (all its threads) and of its children it waited for."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


class ResultLines:
    """The driver's result lines as they reach fd 3: ``<index>\\t<json>\\n``, one per call, in
    order from the first call the run was asked for. Only a complete line for the index
    expected next counts (a program writing newlines or other indexes to fd 3 itself does
    not restart a call's clock). Keeps a short head of the line being written, not the line."""

    HEAD = 24

    def __init__(self, first: int | None) -> None:
        self.expected, self.head, self.count = first, b"", 0

    def feed(self, data: bytes) -> None:
        *ended, rest = data.split(b"\n")
        for piece in ended:
            self._line((self.head + piece[:self.HEAD])[:self.HEAD])
            self.head = b""
        self.head = (self.head + rest[:self.HEAD])[:self.HEAD]

    def _line(self, head: bytes) -> None:
        index, tab, _ = head.partition(b"\t")
        if not tab or not index.isdigit() or len(index) > 12 or (
                index.startswith(b"0") and index != b"0"):
            return
        if self.expected is None or int(index) == self.expected:
            self.expected, self.count = int(index) + 1, self.count + 1


def first_call(data: str) -> int | None:
    """The index of the first call a run was asked for (its stdin: ``"<start>\\n"``)."""
    text = data.strip()
    return int(text) if text.isdigit() and len(text) <= 12 else None


def watch_calls(pid: int, results_fd: int, limit: float, startup: float = 0.0,
                first: int | None = None) -> bool:
    """Per-call time limits for a driver's run (the equality form, ``harness/drivers``):
    a call's clock starts when the previous call's result line reached fd 3 (the first
    call's when the program started; it also gets ``startup``, its runtime's start); only
    the line for the call expected next (``first``, then one more each; any index for the
    first line when ``first`` is None) restarts it (:class:`ResultLines`). The program's
    process group is killed when a call has used ``limit`` CPU seconds, or ``WALL_BACKSTOP``
    x ``limit`` wall seconds (asleep or starved), as the job's own limits do; True then.
    Returns when the program exits (it is then reaped by the caller)."""
    pidfd = os.pidfd_open(pid)
    try:
        offset, lines, seen = 0, ResultLines(first), 0
        since_wall, since_cpu = time.monotonic(), cpu_of(pid) or 0.0
        while not select.select([pidfd], [], [], 0.02)[0]:
            for _ in range(16):  # up to 1 MiB a round
                more = os.pread(results_fd, 1 << 16, offset)
                offset += len(more)
                lines.feed(more)
                if len(more) < 1 << 16:
                    break
            cpu = cpu_of(pid)
            if cpu is None:
                return False
            if lines.count != seen:
                seen, since_wall, since_cpu = lines.count, time.monotonic(), cpu
            allowed = limit + (startup if seen == 0 else 0.0)
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
