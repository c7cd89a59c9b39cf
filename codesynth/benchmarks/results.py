"""What a scoring run adds up: pass@k per metric, the per-problem counts, and failure
categories, from result rows (kept from a resumed run or new)."""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import Any

from codesynth.metrics import mean_pass_at_k, skipped_k
from codesynth.records import Status

CATEGORIES = ("syntax", "runtime_error", "wrong_answer", "timeout", "memory", "output_limit",
              "sandbox_error")
_SYNTAX = ("SyntaxError", "IndentationError", "TabError")


def category(trace: dict[str, Any] | None) -> str | None:
    """The failure category of one execution trace (None: it passed)."""
    if not isinstance(trace, dict):
        return "sandbox_error"
    status = trace.get("status")
    exception = trace.get("exception") or {}
    kind = exception.get("type") if isinstance(exception, dict) else None
    if status == Status.PASSED:
        return None
    if kind in _SYNTAX:
        return "syntax"
    if status == Status.ERROR or status == Status.CRASHED:
        return "runtime_error"
    if status == Status.FAILED:
        if kind in (None, "AssertionError"):
            return "wrong_answer"
        return "runtime_error"
    if status == Status.TIMEOUT:
        return "timeout"
    if status == Status.MEMORY:
        return "memory"
    if status == Status.OUTPUT_LIMIT:
        return "output_limit"
    return "sandbox_error"


def traces(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The execution traces of a row: one, or one per part (evalplus: base, plus)."""
    trace = row.get("trace")
    if isinstance(trace, dict) and "status" not in trace:
        return [t for t in trace.values() if isinstance(t, dict)]
    return [trace] if isinstance(trace, dict) else []


@dataclass
class Scores:
    metrics: tuple[str, ...]
    counts: dict[str, dict[str, list[int]]] = field(default_factory=dict)  # metric -> task
    failures: collections.Counter[str] = field(default_factory=collections.Counter)

    def __post_init__(self) -> None:
        for metric in self.metrics:
            self.counts.setdefault(metric, {})

    def add(self, task_id: str, passed: list[bool], row: dict[str, Any]) -> None:
        for metric, ok in zip(self.metrics, passed, strict=True):
            entry = self.counts[metric].setdefault(task_id, [0, 0])
            entry[0] += 1
            entry[1] += int(ok)
        for trace in traces(row):
            kind = category(trace)
            if kind is not None:
                self.failures[kind] += 1
                break

    def tasks(self) -> dict[str, list[int]]:
        return self.counts[self.metrics[0]]

    def pass_at_k(self, ks: list[int]) -> tuple[dict[str, Any], dict[str, Any]]:
        """``({"pass@1": ...}, skipped)``, or per metric when there are several."""
        done: dict[str, Any] = {}
        skipped: dict[str, Any] = {}
        for metric in self.metrics:
            counts = {t: (n, c) for t, (n, c) in self.counts[metric].items()}
            done[metric] = mean_pass_at_k(counts, ks)
            skipped[metric] = skipped_k(counts, ks)
        if self.metrics == ("",):
            return done[""], skipped[""]
        return done, skipped

    def per_problem(self) -> dict[str, dict[str, Any]]:
        table: dict[str, dict[str, Any]] = {}
        for metric in self.metrics:
            suffix = f"_{metric}" if metric else ""
            for task, (n, c) in self.counts[metric].items():
                entry = table.setdefault(task, {"n": n})
                entry[f"correct{suffix}"] = c
        return table

    def failure_counts(self) -> dict[str, int]:
        return {kind: self.failures.get(kind, 0) for kind in CATEGORIES}
