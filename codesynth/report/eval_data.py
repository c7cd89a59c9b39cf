"""What an evaluation results file says (``codesynth eval humaneval -o RESULTS.jsonl``):
pass@k with bootstrap confidence intervals, each problem's passes of n, failure categories,
the fastest and slowest samples, and what changed between two runs."""

from __future__ import annotations

import collections
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codesynth.metrics import mean_pass_at_k, pass_at_k, skipped_k
from codesynth.report._records import Reservoir, cut, obj, read_jsonl
from codesynth.report.run_data import trace_sections

RESAMPLES = 1000  # bootstrap resamples of the problems, for the confidence intervals
LEVEL = 0.95


@dataclass
class Problem:
    n: int = 0
    c: int = 0
    failures: collections.Counter[str] = field(default_factory=collections.Counter)
    fastest: float | None = None
    slowest: float | None = None


@dataclass
class EvalData:
    path: Path
    problems: dict[str, Problem]
    failures: collections.Counter[tuple[str, str]]
    samples: Reservoir
    bad_lines: list[str]
    ks: list[int] = field(default_factory=list)
    pass_at_k: dict[str, float] = field(default_factory=dict)
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def samples_total(self) -> int:
        return sum(p.n for p in self.problems.values())

    @property
    def counts(self) -> dict[str, tuple[int, int]]:
        return {task: (p.n, p.c) for task, p in self.problems.items()}


def is_results(path: Path) -> bool:
    """An eval results file: its first object has task_id, completion and passed."""
    if not path.is_file():
        return False
    for row in read_jsonl(path, []):
        return {"task_id", "completion", "passed"} <= set(row)
    return False


def gather(path: Path, ks: list[int], sample: int = 25, seed: int = 0) -> EvalData:
    data = EvalData(path, {}, collections.Counter(), Reservoir(sample), [])
    for row in read_jsonl(path, data.bad_lines):
        task = str(row.get("task_id"))
        problem = data.problems.setdefault(task, Problem())
        passed = row.get("passed") is True
        problem.n += 1
        problem.c += passed
        trace = obj(row.get("trace"))
        duration = trace.get("duration")
        if isinstance(duration, int | float):
            problem.fastest = duration if problem.fastest is None else min(problem.fastest,
                                                                          duration)
            problem.slowest = duration if problem.slowest is None else max(problem.slowest,
                                                                          duration)
        if not passed:
            category = category_of(row)
            problem.failures[category[1] if category[1] != "(none)" else category[0]] += 1
            data.failures[category] += 1
        data.samples.offer("passed" if passed else "failed",
                           lambda row=row, passed=passed: eval_sample(row, passed))
    data.ks = ks
    counts = data.counts
    data.pass_at_k = mean_pass_at_k(counts, ks)
    data.skipped = skipped_k(counts, ks)
    data.intervals = {name: bootstrap(counts, int(name.split("@")[1]), seed)
                      for name in data.pass_at_k}
    return data


def category_of(row: dict[str, Any]) -> tuple[str, str]:
    """(status, exception type) of a failed sample."""
    trace = obj(row.get("trace"))
    exception = obj(trace.get("exception"))
    status = trace.get("status") or str(row.get("result") or "failed").split(":")[0]
    return str(status), str(exception.get("type") or "(none)")


def eval_sample(row: dict[str, Any], passed: bool) -> dict[str, Any]:
    trace = obj(row.get("trace"))
    return {"source": str(row.get("task_id")), "outcome": "passed" if passed else "failed",
            "reason": str(row.get("result") or "")[:120], "id": str(row.get("task_id")),
            "status": str(trace.get("status") or ""), "title": "",
            "sections": [s for s in [("completion", "python", cut(row.get("completion"))),
                                     *trace_sections(trace)] if s[2]]}


def bootstrap(counts: dict[str, tuple[int, int]], k: int, seed: int = 0,
              resamples: int = RESAMPLES, level: float = LEVEL) -> tuple[float, float]:
    """Percentile bootstrap interval of mean pass@k, resampling problems with replacement."""
    values = [pass_at_k(n, c, k) for n, c in counts.values()]
    if not values:
        return (0.0, 0.0)
    rng = random.Random(seed)
    size = len(values)
    means = sorted(sum(rng.choices(values, k=size)) / size for _ in range(resamples))
    low = means[int((1 - level) / 2 * (resamples - 1))]
    high = means[int((1 + level) / 2 * (resamples - 1))]
    return (low, high)


@dataclass
class Comparison:
    """Run B against run A, over the problems both attempted."""

    common: list[str]
    gained: list[str]  # no sample of A passes, some sample of B does
    lost: list[str]
    delta: dict[str, float]  # pass@k of B minus A, on common problems
    delta_intervals: dict[str, tuple[float, float]]
    only_a: int
    only_b: int


def compare(a: EvalData, b: EvalData, seed: int = 0) -> Comparison:
    common = sorted(set(a.problems) & set(b.problems), key=_task_order)
    gained = [t for t in common if a.problems[t].c == 0 < b.problems[t].c]
    lost = [t for t in common if b.problems[t].c == 0 < a.problems[t].c]
    delta: dict[str, float] = {}
    intervals: dict[str, tuple[float, float]] = {}
    smallest = min([a.problems[t].n for t in common] + [b.problems[t].n for t in common],
                   default=0)
    rng = random.Random(seed)
    for k in sorted(set(a.ks) | set(b.ks)):
        if not common or k > smallest:
            continue
        diffs = [pass_at_k(b.problems[t].n, b.problems[t].c, k)
                 - pass_at_k(a.problems[t].n, a.problems[t].c, k) for t in common]
        delta[f"pass@{k}"] = sum(diffs) / len(diffs)
        means = sorted(sum(rng.choices(diffs, k=len(diffs))) / len(diffs)
                       for _ in range(RESAMPLES))  # paired: the same problems in A and B
        intervals[f"pass@{k}"] = (means[int((1 - LEVEL) / 2 * (RESAMPLES - 1))],
                                  means[int((1 + LEVEL) / 2 * (RESAMPLES - 1))])
    return Comparison(common, gained, lost, delta, intervals,
                      len(set(a.problems) - set(b.problems)),
                      len(set(b.problems) - set(a.problems)))


def _task_order(task: str) -> tuple[str, int]:
    head, _, tail = task.rpartition("/")
    return (head, int(tail)) if tail.isdigit() else (task, -1)
