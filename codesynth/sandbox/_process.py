"""A runner process seen from the host: start it, send a job, read the answer, kill it."""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any

from codesynth.errors import InfrastructureError

BOOT = ("import sys; sys.path.insert(0, sys.argv[1]); "
         "from codesynth.sandbox.runner import main; del sys.argv[1]; main()")
PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# LD_BIND_NOW: the dynamic linker resolves every symbol when the runner starts. Lazily, each
# job would resolve (and write, one copy-on-write page fault each) the C functions only jobs
# call. The runner clears its environment before the first job.
RUNNER_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "LD_BIND_NOW": "1"}


class RunnerDied(InfrastructureError):
    """The runner process exited or stopped answering."""


def decode_reply(line: bytes) -> dict[str, Any]:
    """One line from a runner as a dict; anything else means the runner is broken."""
    try:
        reply = json.loads(line)
    except (ValueError, RecursionError) as exc:
        raise RunnerDied(f"malformed answer from the runner: {exc}") from None
    if not isinstance(reply, dict):
        raise RunnerDied(f"malformed answer from the runner: {type(reply).__name__}")
    return reply


class RunnerProcess:
    """One runner: a child process speaking JSON lines on its stdin/stdout."""

    def __init__(self, command: Sequence[str], startup_timeout: float = 60.0) -> None:
        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            list(command), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
            env=RUNNER_ENV, close_fds=True,
            start_new_session=True)  # never in the caller's process group
        self._buffer = bytearray()
        hello = self.receive(startup_timeout)
        self.info = hello
        if not hello.get("ready"):
            self.kill()
            raise RunnerDied(str(hello.get("error", "runner failed to start")))

    @staticmethod
    def local_command(config: dict[str, Any]) -> list[str]:
        return [sys.executable, "-I", "-c", BOOT, PACKAGE_ROOT, json.dumps(config)]

    def alive(self) -> bool:
        return self.proc.poll() is None

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(message).encode() + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise RunnerDied(f"runner is gone: {exc}") from exc

    def receive(self, timeout: float) -> dict[str, Any]:
        """The next reply line. Linear in its size: each chunk is searched once, on its own
        (a reply may be megabytes long)."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        end = self._buffer.find(b"\n")
        while end < 0:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RunnerDied(f"runner gave no answer within {timeout:g} s")
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise RunnerDied(f"runner exited unexpectedly{self._stderr_tail()}")
            found = chunk.find(b"\n")
            if found >= 0:
                end = len(self._buffer) + found
            self._buffer += chunk
        line = bytes(self._buffer[:end])
        del self._buffer[:end + 1]
        return decode_reply(line)

    def _stderr_tail(self) -> str:
        with contextlib.suppress(OSError):
            self._stderr.seek(0)
            text = self._stderr.read()[-2000:].decode("utf-8", "replace").strip()
            return f": {text}" if text else ""
        return ""

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.kill()
        with contextlib.suppress(Exception):
            self.proc.wait(timeout=10)
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(Exception):
                stream.close()  # type: ignore[union-attr]
        self._stderr.close()

    def finish_input(self) -> None:
        """End of input: the runner finishes and exits."""
        with contextlib.suppress(Exception):
            self.proc.stdin.close()  # type: ignore[union-attr]

    def close(self) -> None:
        self.finish_input()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self.kill()
