"""``codesynth eval compare A B``: the problems whose results changed between two runs.

Each file is the results JSONL of an ``eval`` run (rows with ``task_id`` and ``passed``; an
EvalPlus row also has ``base_status``). Per problem: samples and correct samples in each run.
A problem is *fixed* when no sample passed before and some pass after, *broken* for the
reverse, *changed* when only the share of passing samples moved."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.table import Table
from rich.text import Text

from codesynth.cli._display import console
from codesynth.errors import InputError
from codesynth.jsonl import read_objects


def tally(path: str) -> dict[str, tuple[int, int]]:
    counts: dict[str, list[int]] = {}
    for line, row in read_objects(path):
        task_id = row.get("task_id")
        if isinstance(task_id, bool) or not isinstance(task_id, (str, int)):
            raise InputError(path, line, "is missing or not a string", "task_id")
        passed = row.get("passed")
        if not isinstance(passed, bool):
            raise InputError(path, line, "is missing or not true/false (a results file of "
                                         "`codesynth eval`?)", "passed")
        entry = counts.setdefault(str(task_id), [0, 0])
        entry[0] += 1
        entry[1] += int(passed)
    if not counts:
        raise InputError(path, None, "no result rows (the file is empty)")
    return {task: (n, c) for task, (n, c) in counts.items()}


def changes(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]
            ) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for task in dict.fromkeys([*before, *after]):
        old, new = before.get(task), after.get(task)
        if old is None or new is None:
            kind = "added" if old is None else "removed"
        elif (old[1] > 0) == (new[1] > 0):
            if old[1] / old[0] == new[1] / new[0]:
                continue
            kind = "changed"
        else:
            kind = "fixed" if new[1] > 0 else "broken"
        rows.append({"task_id": task, "change": kind,
                     "before": None if old is None else {"n": old[0], "correct": old[1]},
                     "after": None if new is None else {"n": new[0], "correct": new[1]}})
    order = {"fixed": 0, "broken": 1, "changed": 2, "added": 3, "removed": 4}
    rows.sort(key=lambda r: order[r["change"]])
    counted = {kind: sum(r["change"] == kind for r in rows) for kind in order}
    same = sum(1 for t in before if t in after) - counted["fixed"] - counted["broken"] - \
        counted["changed"]
    return {"changes": rows, "counts": {**counted, "unchanged": same},
            "solved_before": sum(c > 0 for _, c in before.values()),
            "solved_after": sum(c > 0 for _, c in after.values())}


def compare_files(before: str, after: str, as_json: bool) -> int:
    report = changes(tally(before), tally(after))
    report = {"before": before, "after": after, **report}
    if as_json:
        sys.stdout.write(json.dumps(report) + "\n")
        return 0
    table = Table(title=Text(f"{before} -> {after}"), header_style="bold")
    for column in ("task", "change", "before", "after"):
        table.add_column(column)
    for row in report["changes"]:
        table.add_row(row["task_id"], row["change"], _cell(row["before"]), _cell(row["after"]))
    console.print(table)
    counts = ", ".join(f"{k} {v}" for k, v in report["counts"].items() if v)
    sys.stdout.write(f"solved {report['solved_before']} -> {report['solved_after']}; "
                     f"{counts}\n")
    return 0


def _cell(entry: dict[str, int] | None) -> str:
    return "-" if entry is None else f"{entry['correct']}/{entry['n']}"
