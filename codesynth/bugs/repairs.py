"""Repair pairs from verification runs with several candidates per task: (failed attempt, its
error trace, a passing fix), and multi-step chains where several failed attempts exist.

The fix paired with an attempt is the passing candidate closest to it (difflib ratio), so a
pair shows a repair, not a rewrite. Chains list a task's distinct failed attempts in input
order, each with its trace, then the fix closest to the last one.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from codesynth.bugs.pairs import unified_diff
from codesynth.records import content_id


@dataclass(frozen=True)
class Attempt:
    record: dict[str, Any]
    code: str
    passed: bool
    result: dict[str, Any]
    task: dict[str, Any]  # instruction, tests, test_style, entry_point
    source_id: Any  # the candidate's id: its ``id``, else ``task_id#line`` (its input line)


def attempt(record: dict[str, Any], problems: dict[str, dict[str, Any]] | None,
            line: int = 0) -> Attempt:
    """A verify output record (``code`` + ``result``), or an ``eval humaneval`` result row
    (``completion`` + ``trace``: the program is the problem's prompt + the completion, and
    the task fields come from the problem)."""
    result = record.get("trace") if isinstance(record.get("trace"), dict) \
        else record.get("result")
    if not isinstance(result, dict):
        raise ValueError("has no result object (run `codesynth verify` first)")
    code = record.get("code")
    task = {"instruction": record.get("instruction") or record.get("prompt"),
            "tests": record.get("tests"), "test_style": record.get("test_style"),
            "entry_point": record.get("entry_point")}
    if task["tests"] is not None and task["test_style"] is None:
        task["test_style"] = "assert"  # verify's default
    if code is None and "completion" in record:
        problem = (problems or {}).get(record.get("task_id", ""))
        if problem is None:
            raise ValueError(f"unknown task_id {record.get('task_id')!r}")
        code = problem["prompt"] + record["completion"]
        task = {"instruction": problem["prompt"], "tests": problem["test"],
                "test_style": "humaneval", "entry_point": problem["entry_point"]}
    if not isinstance(code, str):
        raise ValueError("has neither code nor completion")
    source_id = record.get("id", f"{record.get('task_id')}#{line}")
    return Attempt(record, code, bool(result.get("passed")), result, task, source_id)


def error_summary(result: dict[str, Any]) -> dict[str, Any]:
    """What went wrong, briefly: status, exception, failing tests."""
    exception = result.get("exception") or {}
    failing = [{"name": t.get("name"), "source": t.get("source"), "line": t.get("line"),
                "message": t.get("message")}
               for t in result.get("tests", []) if t.get("outcome") != "passed"]
    return {"status": result.get("status"), "reason": result.get("reason"),
            "exception": {k: exception.get(k) for k in ("type", "message", "line")}
            if exception else None,
            "failing_tests": failing}


def _closest(code: str, fixes: list[Attempt]) -> tuple[Attempt, float]:
    scored = [(difflib.SequenceMatcher(None, code, f.code).ratio(), i)
              for i, f in enumerate(fixes)]
    ratio, index = max(scored, key=lambda pair: (pair[0], -pair[1]))
    return fixes[index], ratio


def _common(task: str, fix: Attempt, first: Attempt) -> dict[str, Any]:
    return {"task_id": task, "instruction": first.task["instruction"],
            "fixed_code": fix.code, "tests": first.task["tests"],
            "test_style": first.task["test_style"], "entry_point": first.task["entry_point"]}


def repairs(task: str, attempts: list[Attempt], max_chain: int = 3,
            fixes_from: set[int] | None = None) -> Iterator[dict[str, Any]]:
    """Pairs (and chains) for one task's attempts, in input order. ``fixes_from``: the
    indices of the attempts that may serve as fixes (e.g. the passing members of the
    cluster :mod:`codesynth.selection` chose), else every passing one."""
    fixes = [a for i, a in enumerate(attempts)
             if a.passed and (fixes_from is None or i in fixes_from)]
    failed: list[Attempt] = []
    for candidate in attempts:
        if not candidate.passed and all(candidate.code != f.code for f in failed):
            failed.append(candidate)
    if not fixes or not failed:
        return
    first = attempts[0]
    for bad in failed:
        fix, ratio = _closest(bad.code, fixes)
        yield {"id": content_id("repair", task, bad.code, fix.code), "kind": "repair",
               **_common(task, fix, first), "buggy_code": bad.code,
               "error": error_summary(bad.result), "trace": bad.result,
               "diff": unified_diff(bad.code, fix.code),
               "provenance": {"source_ids": [bad.source_id, fix.source_id],
                              "similarity": round(ratio, 4)}}
    if len(failed) >= 2:
        steps = failed[-max_chain:]
        fix, ratio = _closest(steps[-1].code, fixes)
        yield {"id": content_id("chain", task, [s.code for s in steps], fix.code),
               "kind": "chain", **_common(task, fix, first),
               "steps": [{"code": s.code, "error": error_summary(s.result), "trace": s.result}
                         for s in steps],
               "buggy_code": steps[-1].code, "diff": unified_diff(steps[-1].code, fix.code),
               "provenance": {"source_ids": [s.source_id for s in steps] + [fix.source_id],
                              "similarity": round(ratio, 4)}}
