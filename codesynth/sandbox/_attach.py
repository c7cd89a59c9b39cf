"""A runner inside a container, seen from the host: the same interface as ``RunnerProcess``.

The runner is the container's command (PID 1). The host talks to it over the engine's attach
stream: JSON lines on its stdin, multiplexed frames (8-byte header: stream, size) from its
stdout and stderr. The container is created with ``StdinOnce`` and ``AutoRemove``: when the
host goes away for any reason (SIGKILL included) the engine closes the runner's stdin, the
runner finishes its job and exits, and the engine removes the container.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import struct
import time
from typing import Any

from codesynth.sandbox._process import RunnerDied, decode_reply

_HEADER = struct.Struct(">BxxxL")
_STDOUT, _STDERR = 1, 2
_STDERR_KEEP = 4000


class ContainerRunner:
    """One container running the runner; ``create`` is called with the container's options."""

    def __init__(self, api: Any, create: dict[str, Any], startup_timeout: float = 60.0,
                 on_limits: Any = None) -> None:
        self.api = api
        self._on_limits = on_limits
        self._buffer = bytearray()
        self._lines = bytearray()
        self._newline = -1  # where the first newline of _lines is, if known
        self._stderr = b""
        self._eof = False
        self.applied_memory: int | None = None  # bytes; kept by the backend (container.py)
        self.runner_rss_mb = 0.0  # reported by the runner with every answer
        self._socket: socket.socket | None = None
        self._attached: Any = None
        self.id = api.create_container(**create)["Id"]
        try:
            attached = api.attach_socket(self.id, params={"stdin": 1, "stdout": 1,
                                                          "stderr": 1, "stream": 1})
            self._attached = attached
            self._socket = getattr(attached, "_sock", attached)
            api.start(self.id)
            hello = self.receive(startup_timeout)
        except Exception:
            self.kill()
            raise
        self.info = hello
        if not hello.get("ready"):
            self.kill()
            raise RunnerDied(str(hello.get("error", "runner failed to start")))

    def alive(self) -> bool:
        return not self._eof

    def send(self, message: dict[str, Any]) -> None:
        if self._on_limits is not None:
            try:
                self._on_limits(self, message["limits"])
            except Exception as exc:  # noqa: BLE001 - the engine refused: replace this one
                raise RunnerDied(f"cannot update the container's limits: {exc}") from exc
        assert self._socket is not None
        try:
            self._socket.sendall(json.dumps(message).encode() + b"\n")
        except OSError as exc:
            self._eof = True
            raise RunnerDied(f"container runner is gone: {exc}") from exc

    def _read_frames(self, timeout: float) -> None:
        """Read whatever the engine sends within ``timeout``; stdout goes to ``_lines``."""
        assert self._socket is not None
        ready, _, _ = select.select([self._socket], [], [], timeout)
        if not ready:
            return
        try:
            chunk = self._socket.recv(1 << 20)
        except OSError:
            chunk = b""
        if not chunk:
            self._eof = True
            raise RunnerDied(f"container runner exited unexpectedly{self._stderr_tail()}")
        # Linear in the size of a reply: frames are cut from the front once per chunk, and
        # each stdout payload is searched for a newline on its own.
        self._buffer += chunk
        at = 0
        while len(self._buffer) - at >= _HEADER.size:
            kind, size = _HEADER.unpack_from(self._buffer, at)
            if len(self._buffer) - at < _HEADER.size + size:
                break
            payload = bytes(self._buffer[at + _HEADER.size:at + _HEADER.size + size])
            at += _HEADER.size + size
            if kind == _STDOUT:
                if self._newline < 0 and (found := payload.find(b"\n")) >= 0:
                    self._newline = len(self._lines) + found
                self._lines += payload
            elif kind == _STDERR:
                self._stderr = (self._stderr + payload)[-_STDERR_KEEP:]
        del self._buffer[:at]

    def receive(self, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while self._newline < 0:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RunnerDied(f"container runner gave no answer within {timeout:g} s")
            self._read_frames(left)
        line = bytes(self._lines[:self._newline])
        del self._lines[:self._newline + 1]
        self._newline = self._lines.find(b"\n")
        reply = decode_reply(line)
        try:
            self.runner_rss_mb = float(reply.pop("runner_rss_mb", self.runner_rss_mb))
        except (TypeError, ValueError) as exc:
            raise RunnerDied(f"malformed answer from the runner: {exc}") from None
        return reply

    def _stderr_tail(self) -> str:
        text = self._stderr.decode("utf-8", "replace").strip()
        return f": {text}" if text else ""

    def finish_input(self) -> None:
        """End of input: the engine closes the runner's stdin; it exits, the container goes."""
        with contextlib.suppress(OSError, AttributeError):
            self._socket.shutdown(socket.SHUT_WR)  # type: ignore[union-attr]

    def close(self) -> None:
        self.finish_input()
        deadline = time.monotonic() + 5
        with contextlib.suppress(RunnerDied):
            while not self._eof and time.monotonic() < deadline:
                self._read_frames(deadline - time.monotonic())
        self.kill()

    def kill(self) -> None:
        """Remove the container now, whatever it is doing."""
        self._eof = True
        with contextlib.suppress(Exception):
            self.api.remove_container(self.id, force=True)
        for stream in (self._attached, self._socket):
            with contextlib.suppress(Exception):
                stream.close()  # type: ignore[union-attr]
