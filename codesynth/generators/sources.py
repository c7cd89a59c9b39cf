"""Verified records as the seeds of the generators that rewrite programs (``refactor``,
``optimize``): a JSONL file in the ``verify`` format, or a folder holding ``verified.jsonl``
(a pipeline's exported dataset)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codesynth.errors import InputError, UserError
from codesynth.jsonl import read_objects
from codesynth.llm.extract import function_names
from codesynth.records import Job
from codesynth.verify import job_from_record


@dataclass(frozen=True)
class Source:
    record: dict[str, Any]
    job: Job
    entry: str | None  # the function under test (differential inputs call it)


def source_file(path: Path) -> Path:
    if path.is_dir():
        for name in ("verified.jsonl", "dataset/verified.jsonl"):
            if (path / name).is_file():
                return path / name
        raise UserError(f"{path}: no verified.jsonl in this folder; give a JSONL file of "
                        "verified records (the verify format)")
    return path


def load_sources(path: Path) -> list[Source]:
    """Every record that carries code and tests, validated (file, line, field); a record
    whose ``result`` says it failed is not a source."""
    file = source_file(path)
    sources = []
    for line, record in read_objects(file):
        job = job_from_record(record, str(file), line)
        result = record.get("result")
        if isinstance(result, dict) and result.get("passed") is False:
            continue
        entry = record.get("entry_point")
        if not isinstance(entry, str) or not entry:
            names = function_names(job.code)
            entry = names[0] if names else None
        sources.append(Source(record, job, entry))
    if not sources:
        raise InputError(str(file), None, "no verified records (code, tests, and a passing "
                         "result when there is one)")
    return sources
