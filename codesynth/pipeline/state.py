"""A run directory: per-stage append-only files with done-sets, and the run's state.

Every stage writes its records to ``stages/NN-name.jsonl`` as it makes them (flushed and
fsynced), and a record is made again only if its id is not there yet. A torn last line (a
kill mid-write) is cut off on resume. ``state.json`` (written atomically) holds the
configuration digest, refused when it changes, and the stages completed.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from codesynth.errors import UserError
from codesynth.jsonl import json_line


class StageFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.done: set[str] = set()
        self._handle: IO[str] | None = None
        if path.exists():
            self._repair()
            for record in self.read():
                self.done.add(record["id"])

    def _repair(self) -> None:
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            with self.path.open("r+b") as handle:
                handle.truncate(data.rfind(b"\n") + 1)

    def read(self) -> Iterator[dict[str, Any]]:
        if not self.path.exists():
            return
        with self.path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield json.loads(line)

    def write(self, record: dict[str, Any]) -> bool:
        """Append a record unless its id is done already; True when written."""
        if record["id"] in self.done:
            return False
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self.path.open("a", encoding="utf-8")
        self._handle.write(json_line(record))
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self.done.add(record["id"])
        return True

    def reset(self) -> None:
        """Forget every record (they can be made again): the file is emptied."""
        self.close()
        self.path.unlink(missing_ok=True)
        self.done.clear()

    def reorder(self, ids: list[str]) -> None:
        """Rewrite the file (atomically) with its records in the order of ``ids`` (others
        last, as they were), if they are not in that order already."""
        records = list(self.read())
        position = {record_id: index for index, record_id in enumerate(ids)}
        ordered = sorted(records, key=lambda r: position.get(r["id"], len(ids)))
        if ordered == records:
            return
        self.close()
        temporary = self.path.with_suffix(".reorder")
        with temporary.open("w", encoding="utf-8") as handle:
            handle.writelines(json_line(r) for r in ordered)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


class RunState:
    def __init__(self, directory: Path, digest: str, restart: bool = False) -> None:
        self.directory = directory
        self.path = directory / "state.json"
        if restart and directory.exists():
            import shutil

            shutil.rmtree(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.data: dict[str, Any] = {"digest": digest, "completed": [],
                                     "started": time.time()}
        if self.path.exists():
            saved = json.loads(self.path.read_text())
            if saved.get("digest") != digest:
                raise UserError(
                    f"{directory}: this run was started with another configuration; "
                    "resuming would mix results. Use another [run] output, or pass --restart "
                    "to start this one again from nothing")
            self.data = saved
        self.save()

    def stage(self, number: int, name: str) -> StageFile:
        return StageFile(self.directory / "stages" / f"{number:02d}-{name}.jsonl")

    def completed(self, name: str) -> bool:
        return name in self.data["completed"]

    def reopen(self, names: list[str]) -> None:
        """Stages to do again from nothing: not complete, no counts, no records."""
        self.data["completed"] = [n for n in self.data["completed"] if n not in names]
        for name in names:
            self.data.get("counts", {}).pop(name, None)
        for path in (self.directory / "stages").glob("*.jsonl"):
            if path.stem.split("-", 1)[-1] in names:
                path.unlink()
        self.save()

    def complete(self, name: str) -> None:
        if name not in self.data["completed"]:
            self.data["completed"].append(name)
            self.save()

    def save(self) -> None:
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.data, indent=1))
        os.replace(temporary, self.path)
