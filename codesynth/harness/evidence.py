"""The evidence channel: how the harness tells the runner what happened.

Every line is ``<token> <json>``. The token is a per-job secret chosen by the runner just
before the fork; lines without it are ignored. Only a ``final`` event written by the harness
after the last test returned can make a verdict ``passed``; exit status and printed text never
count.
"""

from __future__ import annotations

import json
import os
from typing import Any


class Evidence:
    def __init__(self, fd: int, token: str) -> None:
        self._fd = fd
        self._prefix = token.encode() + b" "

    def emit(self, kind: str, **fields: Any) -> None:
        line = self._prefix + json.dumps({"e": kind, **fields}, default=repr).encode() + b"\n"
        view = memoryview(line)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]

    def phase(self, name: str) -> None:
        self.emit("phase", phase=name)

    def test(self, **outcome: Any) -> None:
        self.emit("test", **outcome)

    def final(self, status: str, **fields: Any) -> None:
        self.emit("final", status=status, **fields)


def parse(data: bytes, token: str) -> list[dict[str, Any]]:
    """The events in ``data`` that carry ``token``; anything else is ignored."""
    prefix = token.encode() + b" "
    events = []
    for line in data.split(b"\n"):
        if not line.startswith(prefix):
            continue
        try:
            event = json.loads(line[len(prefix):])
        except ValueError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events
