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


def attempt(record: dict[str, Any], problems: dict[str, dict[str, Any]] | None) -> Attempt:
    """A verify output record (``code`` + ``result``), or an ``eval humaneval`` result row
    (``completion`` + ``trace``: the program is the problem's prompt + the completion)."""
    result = record.get("trace") if isinstance(record.get("trace"), dict) \
        else record.get("result")
    if not isinstance(result, dict):
        raise ValueError("has no result object (run `codesynth verify` first)")
    code = record.get("code")
    if code is None and "completion" in record:
        problem = (problems or {}).get(record.get("task_id", ""))
        if problem is None:
            raise ValueError(f"unknown task_id {record.get('task_id')!r}")
        code = problem["prompt"] + record["completion"]
    if not isinstance(code, str):
        raise ValueError("has neither code nor completion")
    return Attempt(record, code, bool(result.get("passed")), result)


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


def _common(task: str, fix: Attempt, first: dict[str, Any]) -> dict[str, Any]:
    return {"task_id": task, "instruction": first.get("instruction") or first.get("prompt"),
            "fixed_code": fix.code, "tests": first.get("tests"),
            "test_style": first.get("test_style"), "entry_point": first.get("entry_point")}


def repairs(task: str, attempts: list[Attempt], max_chain: int = 3
            ) -> Iterator[dict[str, Any]]:
    """Pairs (and chains) for one task's attempts, in input order."""
    fixes = [a for a in attempts if a.passed]
    failed: list[Attempt] = []
    for candidate in attempts:
        if not candidate.passed and all(candidate.code != f.code for f in failed):
            failed.append(candidate)
    if not fixes or not failed:
        return
    first = attempts[0].record
    for bad in failed:
        fix, ratio = _closest(bad.code, fixes)
        yield {"id": content_id("repair", task, bad.code, fix.code), "kind": "repair",
               **_common(task, fix, first), "buggy_code": bad.code,
               "error": error_summary(bad.result), "trace": bad.result,
               "diff": unified_diff(bad.code, fix.code),
               "provenance": {"source_ids": [bad.record.get("id"), fix.record.get("id")],
                              "similarity": round(ratio, 4)}}
    if len(failed) >= 2:
        steps = failed[-max_chain:]
        fix, ratio = _closest(steps[-1].code, fixes)
        yield {"id": content_id("chain", task, [s.code for s in steps], fix.code),
               "kind": "chain", **_common(task, fix, first),
               "steps": [{"code": s.code, "error": error_summary(s.result), "trace": s.result}
                         for s in steps],
               "buggy_code": steps[-1].code, "diff": unified_diff(steps[-1].code, fix.code),
               "provenance": {"source_ids": [s.record.get("id") for s in steps]
                              + [fix.record.get("id")], "similarity": round(ratio, 4)}}
