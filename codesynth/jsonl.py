"""JSON Lines in and out: errors that name file, line and field; output that is never
half-written under its final name, and that a killed run can continue."""

from __future__ import annotations

import gzip
import json
import os
import time
import zlib
from collections.abc import Iterable, Iterator
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
    except (OSError, EOFError, zlib.error) as exc:  # zlib.error: a corrupt gzip stream
        if isinstance(exc, InputError):
            raise
        raise UserError(f"{file}: cannot read ({exc})") from None



def json_line(record: Any) -> str:
    """One JSONL line (newline included) that any UTF-8 file can hold: non-ASCII text as is,
    and a record holding a lone surrogate (a valid JSON escape, no UTF-8 form) escaped."""
    line = json.dumps(record, ensure_ascii=False)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        line = json.dumps(record)
    return line + "\n"

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
        self._handle.write(json_line(record).encode("utf-8"))
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


class ResumableJSONLWriter(AtomicJSONLWriter):
    """An :class:`AtomicJSONLWriter` whose ``PATH.partial`` a later run can continue.

    Next to ``PATH.partial`` lies ``PATH.partial.meta``: the *fingerprint* of what the output
    depends on (the input file's path, size and mtime, and the options that decide verdicts).
    :meth:`open_partial` accepts a partial file only under the same fingerprint: its complete
    lines are kept (a torn last line is cut off) and new records are appended after them.
    Anything else is refused with a message, unless ``restart`` (then it starts over). With
    no partial file, the only cost is one failed ``open``. Output line ``i`` is the record of
    input record ``i``, so a run resumes by position, whatever the ids.
    """

    FLUSH_SECONDS = 1.0  # besides every 256 records: a kill loses at most ~1 s of work

    def __init__(self, path: str | os.PathLike[str], restart: bool = False) -> None:
        super().__init__(path)
        self.meta = self.partial.with_name(self.partial.name + ".meta")
        self.restart = restart
        self.resuming = False
        self.fingerprint: dict[str, Any] | None = None
        self._flushed = 0.0

    def open_partial(self, fingerprint: dict[str, Any]) -> bool:
        """Whether this run continues ``PATH.partial`` (refused: :class:`UserError`)."""
        self.fingerprint = fingerprint
        if self.restart:
            return False
        try:
            handle = self.partial.open("r+b")
        except FileNotFoundError:
            return False
        with handle:
            end = _complete_length(handle)
            if end == 0:
                return False  # nothing to keep
            self._check_meta(fingerprint)
            handle.truncate(end)  # a torn last line (the kill came mid-write)
        self.resuming = True
        return True

    def _check_meta(self, fingerprint: dict[str, Any]) -> None:
        again = "; rerun with --restart to start over (or delete it)"
        try:
            saved = json.loads(self.meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise UserError(f"{self.partial}: unfinished output from an unknown run "
                            f"({self.meta.name} is missing or unreadable){again}") from None
        if saved != fingerprint:
            changes = ", ".join(_differences(saved, fingerprint)) or "format"
            raise UserError(f"{self.partial}: unfinished output from a different run "
                            f"(changed: {changes}); it is kept, not reused{again}")

    def kept(self, inputs: Iterable[tuple[int, dict[str, Any]]],
             added: tuple[str, ...]) -> Iterator[dict[str, Any]]:
        """The records kept from ``PATH.partial``, each checked against the input record at
        the same position: its fields are there unchanged (except those in ``added``, which
        the command writes)."""
        if not self.resuming:
            return
        source = iter(inputs)
        again = "; rerun with --restart to start over"
        with self.partial.open("rb") as handle:
            for number, line in enumerate(handle, start=1):
                try:
                    row = json.loads(line)
                except ValueError:
                    raise UserError(f"{self.partial}:{number}: not a JSON record{again}") from None
                item = next(source, None)
                if item is None:
                    raise UserError(f"{self.partial}: more records than the input{again}")
                if not isinstance(row, dict) or not _holds(row, item[1], added):
                    raise UserError(f"{self.partial}:{number}: is not the result of input "
                                    f"line {item[0]}{again}")
                self.count = number
                yield row

    def __enter__(self) -> ResumableJSONLWriter:
        if self.resuming:
            self._handle = self.partial.open("ab")
            return self
        self.meta.unlink(missing_ok=True)  # never an old fingerprint over new lines
        super().__enter__()
        if self.fingerprint is not None:
            self.meta.write_text(json.dumps(self.fingerprint) + "\n", encoding="utf-8")
        return self

    def write(self, record: dict[str, Any]) -> None:
        super().write(record)
        now = time.monotonic()
        if now - self._flushed >= self.FLUSH_SECONDS:
            assert self._handle is not None
            self._handle.flush()
            self._flushed = now

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        super().__exit__(exc_type, exc, tb)
        if exc_type is None:
            self.meta.unlink(missing_ok=True)


def file_identity(path: str | os.PathLike[str]) -> dict[str, Any]:
    """What a fingerprint knows of a file: its absolute path, size and mtime (no read)."""
    stat = os.stat(path)
    return {"path": os.path.abspath(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _complete_length(handle: IO[bytes]) -> int:
    """The length of the file up to and including its last newline."""
    position = handle.seek(0, os.SEEK_END)
    while position > 0:
        start = max(0, position - 65536)
        handle.seek(start)
        index = handle.read(position - start).rfind(b"\n")
        if index >= 0:
            return start + index + 1
        position = start
    return 0


def _holds(row: dict[str, Any], record: dict[str, Any], added: tuple[str, ...]) -> bool:
    missing = object()
    for key, value in record.items():
        if key in added:
            continue
        kept = row.get(key, missing)
        if kept != value and json.dumps(kept, default=str) != json.dumps(value):  # NaN != NaN
            return False
    return True


def _differences(old: Any, new: Any, prefix: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        return [change for key in dict.fromkeys([*old, *new])
                for change in _differences(old.get(key), new.get(key), f"{prefix}{key}.")]
    if old == new:
        return []
    return [f"{prefix.rstrip('.')} {old!r} -> {new!r}"]
