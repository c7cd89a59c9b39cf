"""JSON Lines in and out: errors that name file, line and field; output that is never
half-written under its final name."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from codesynth.errors import InputError, UserError


def _open_text(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8-sig")
    return path.open(encoding="utf-8-sig")  # a leading BOM is not an error


def read_objects(path: str | os.PathLike[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for each non-blank line; raise on the first bad one."""
    file = Path(path)
    if not file.exists():
        raise UserError(f"{file}: no such file")
    if file.is_dir():
        raise UserError(f"{file}: is a directory, expected a JSONL file")
    try:
        with _open_text(file) as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    value = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputError(str(file), number, f"invalid JSON ({exc.msg} at column "
                                                        f"{exc.colno})") from None
                if not isinstance(value, dict):
                    raise InputError(str(file), number,
                                     f"expected a JSON object, got {type(value).__name__}")
                yield number, value
    except UnicodeDecodeError as exc:
        raise InputError(str(file), None, f"not UTF-8 text ({exc.reason})") from None
    except (OSError, EOFError) as exc:
        if isinstance(exc, InputError):
            raise
        raise UserError(f"{file}: cannot read ({exc})") from None


class AtomicJSONLWriter:
    """Writes ``PATH.partial`` record by record; renames it to ``PATH`` only on success.

    A crash or an error leaves ``PATH.partial`` (clearly unfinished) and never a ``PATH`` that
    looks complete.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.partial = self.path.with_name(self.path.name + ".partial")
        if self.path.parent and not self.path.parent.exists():
            raise UserError(f"{self.path}: the directory {self.path.parent} does not exist")
        if self.path.is_dir():
            raise UserError(f"{self.path}: is a directory, expected an output file path")
        self._handle: IO[bytes] | None = None
        self.count = 0

    def __enter__(self) -> AtomicJSONLWriter:
        self._handle = self.partial.open("wb")
        return self

    def write(self, record: dict[str, Any]) -> None:
        assert self._handle is not None
        try:
            line = json.dumps(record, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate (valid JSON escape): keep it escaped
            line = json.dumps(record).encode("ascii")
        self._handle.write(line + b"\n")
        self.count += 1
        if self.count % 256 == 0:
            self._handle.flush()

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        assert self._handle is not None
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        if exc_type is None:
            os.replace(self.partial, self.path)
