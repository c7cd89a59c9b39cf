"""A real ``codesynth serve`` subprocess on loopback, for the serve tests."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


class Server:
    def __init__(self, process: subprocess.Popen[str], port: int, lines: list[str]) -> None:
        self.process, self.port, self.lines = process, port, lines
        self.url = f"http://127.0.0.1:{port}"

    def post(self, path: str, body: Any, headers: dict[str, str] | None = None,
             raw: bytes | None = None, timeout: float = 60) -> tuple[int, Any, Any]:
        """(status, parsed JSON body, headers) of one POST; errors are answers too."""
        data = raw if raw is not None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method="POST",
                                         headers={"Content-Type": "application/json",
                                                  **(headers or {})})
        return _send(request, timeout)

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any, Any]:
        return _send(urllib.request.Request(self.url + path, headers=headers or {}), 30)

    def metric(self, name: str, labels: str = "") -> float:
        """The sum of a metric's samples whose labels contain ``labels``."""
        status, text, _ = self.get("/metrics", self.auth)
        assert status == 200, text
        total = 0.0
        for line in text.splitlines():
            match = re.match(rf"^{re.escape(name)}(\{{[^}}]*\}})? (\S+)$", line)
            if match and labels in (match.group(1) or ""):
                total += float(match.group(2))
        return total

    auth: dict[str, str] = {}


def _send(request: urllib.request.Request, timeout: float) -> tuple[int, Any, Any]:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, text, headers = response.status, response.read().decode(), response.headers
    except urllib.error.HTTPError as error:
        status, text, headers = error.code, error.read().decode(), error.headers
    try:
        return status, json.loads(text), headers
    except ValueError:
        return status, text, headers


@contextmanager
def serve(*options: str, env: dict[str, str] | None = None, token: str | None = None
          ) -> Iterator[Server]:
    """Start ``codesynth serve --port 0 OPTIONS`` and wait (at most 60 s) until it listens."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "CODESYNTH_EXEC_CACHE": "off",
                   **(env or {})}
    command = [sys.executable, "-m", "codesynth", "serve", "--port", "0", *options]
    if token:
        command += ["--token", token]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                               text=True, env=environment, cwd=ROOT)
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line)
            if "listening on" in line:
                ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while not ready.wait(0.05):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the server did not start: {''.join(lines)}")
        listening = next(line for line in lines if "listening on" in line)
        port = int(re.search(r"127\.0\.0\.1:(\d+)", listening).group(1))  # type: ignore
        server = Server(process, port, lines)
        if token:
            server.auth = {"Authorization": f"Bearer {token}"}
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        reader.join(10)
        if process.stderr is not None:
            process.stderr.close()
