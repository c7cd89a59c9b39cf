"""``codesynth verify``: records in, the same records plus ``result`` out.

Input record fields: ``id``, ``language`` ("python"), ``code``, ``tests``, ``test_style``
(default ``assert``), ``entry_point`` (for ``humaneval``). Every other field is kept.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codesynth.errors import InputError
from codesynth.jsonl import read_objects
from codesynth.records import InvalidJob, Job


def job_from_record(record: dict[str, Any], path: str, line: int) -> Job:
    """Validate one input record; raise :class:`InputError` naming the field."""

    def fail(field: str, message: str) -> InputError:
        return InputError(path, line, message, field)

    for name in ("id", "code", "tests"):
        if name not in record:
            raise fail(name, "is missing")
    record_id = record["id"]
    if isinstance(record_id, bool) or not isinstance(record_id, (str, int)) or record_id == "":
        raise fail("id", f"must be a non-empty string or an integer, got {record_id!r}")
    try:
        return Job(id=str(record_id), code=record["code"], tests=record["tests"],
                   test_style=record.get("test_style", "assert"),
                   entry_point=record.get("entry_point"),
                   language=record.get("language", "python"))
    except InvalidJob as exc:
        raise fail(exc.field, exc.detail) from None


@dataclass
class Validation:
    count: int
    duplicates: int  # records whose id appeared on an earlier line (allowed, reported)
    first_duplicate: str = ""


def validate_file(path: str | Path) -> Validation:
    """Check every record before anything runs. Memory stays small: ids are kept as 8-byte
    digests, and the first duplicate is located by a second pass only when there is one."""
    seen: set[bytes] = set()
    count, duplicates, duplicate_line = 0, 0, 0
    duplicate_id = ""
    for line, record in read_objects(path):
        job = job_from_record(record, str(path), line)
        digest = hashlib.blake2b(job.id.encode("utf-8", "surrogatepass"), digest_size=8).digest()
        if digest in seen:
            duplicates += 1
            if not duplicate_line:
                duplicate_line, duplicate_id = line, job.id
        seen.add(digest)
        count += 1
    if count == 0:
        raise InputError(str(path), None, "no records (the file is empty)")
    first = ""
    if duplicates:
        first_line = next(n for n, r in read_objects(path) if str(r["id"]) == duplicate_id)
        first = f"{duplicate_id!r} on line {duplicate_line} (first on line {first_line})"
    return Validation(count, duplicates, first)


def read_jobs(path: str | Path) -> Iterator[tuple[dict[str, Any], Job]]:
    for line, record in read_objects(path):
        yield record, job_from_record(record, str(path), line)
