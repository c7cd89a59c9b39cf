"""Streaming helpers: read JSONL tolerantly, keep a bounded random sample of records.

A report must open any run, however big or damaged: lines are read one at a time (memory
does not grow with the file), a line that is not a JSON object is counted, never fatal, and
only a fixed number of records per bucket is kept for the browsable table (reservoir
sampling, seeded, so the same run gives the same report).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TEXT_LIMIT = 6000  # characters of one code/test/trace field shown in the table


def read_jsonl(path: Path, bad: list[str]) -> Iterator[dict[str, Any]]:
    """The objects of a JSONL file; unreadable lines are listed in ``bad`` as FILE:LINE."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError:
                bad.append(f"{path}:{number}")
                continue
            if isinstance(row, dict):
                yield row
            else:
                bad.append(f"{path}:{number}")


def obj(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one (records may be malformed)."""
    return value if isinstance(value, dict) else {}


def cut(text: Any, limit: int = TEXT_LIMIT) -> str:
    """A field as text, at most ``limit`` characters (the cut is said)."""
    if text is None:
        return ""
    value = text if isinstance(text, str) else json.dumps(text, indent=1, default=str)
    if len(value) <= limit:
        return value
    return value[:limit] + f"\n... ({len(value) - limit} more characters not shown)"


@dataclass
class Reservoir:
    """At most ``size`` items per bucket, each item seen equally likely to be kept."""

    size: int
    seed: int = 0
    seen: dict[str, int] = field(default_factory=dict)
    items: dict[str, list[Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def offer(self, bucket: str, make: Any) -> None:
        """Consider one item of ``bucket``; ``make()`` builds it only if it is kept."""
        count = self.seen.get(bucket, 0) + 1
        self.seen[bucket] = count
        kept = self.items.setdefault(bucket, [])
        if len(kept) < self.size:
            kept.append(make())
            return
        slot = self._rng.randrange(count)
        if slot < self.size:
            kept[slot] = make()

    def total_seen(self) -> int:
        return sum(self.seen.values())

    def all(self) -> list[Any]:
        return [item for bucket in self.items.values() for item in bucket]
