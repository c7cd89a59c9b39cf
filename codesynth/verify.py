"""``codesynth verify``: records in, the same records plus ``result`` out.

Input record fields: ``id``, ``language`` ("python"), ``code``, ``tests``, ``test_style``
(default ``assert``), ``entry_point`` (for ``humaneval``). Every other field is kept.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codesynth.errors import InputError
from codesynth.jsonl import read_objects
from codesynth.records import InvalidJob, Job, Limits


def job_from_record(record: dict[str, Any], path: str, line: int | None) -> Job:
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
                   language=record.get("language", "python"),
                   standard=record.get("standard"))
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
    import hashlib  # here: ``eval`` imports this module too, and never needs it

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


def read_jobs(path: str | Path, skip: int = 0) -> Iterator[tuple[dict[str, Any], Job]]:
    """The records and their jobs, after the first ``skip`` records (done by a resumed run)."""
    for line, record in read_objects(path):
        if skip:
            skip -= 1
            continue
        yield record, job_from_record(record, str(path), line)


# What a resumed run must share with the run that wrote the partial output: the options that
# can change a verdict or a trace. Workers and -k cannot, so they may change between the two.
def verdict_options(args: Any, limits: Limits) -> dict[str, Any]:
    return {"sandbox": args.sandbox, "image": args.image,
            "unsafe_no_isolation": args.unsafe_no_isolation, "limits": limits.to_dict()}


def resumed_summary(summary: dict[str, Any], kept: Counter[str]) -> dict[str, Any]:
    """A run's JSON summary over the whole output: counts include the records kept from the
    partial file (``resumed``); ``seconds`` and ``ms_per_sample`` are this run's own."""
    if not kept:
        return {**summary, "resumed": 0}
    ran = summary["total"]
    by_status = {status: count + kept.get(status, 0)
                 for status, count in summary["by_status"].items()}
    total = sum(by_status.values())
    return {**summary, "total": total, "by_status": by_status,
            "pass_rate": by_status.get("passed", 0) / total if total else 0.0,
            "resumed": total - ran}
