"""Selection among a task's candidates by behaviour (AlphaCode's clustering, CodeT's dual
execution agreement), for tasks whose tests a model wrote and may be weak.

Every candidate's function runs on the same generated inputs (the tests' argument tuples and
type-aware random ones, :mod:`codesynth.behaviour`); candidates with equal outputs on all of
them form a cluster. A cluster's score is its size times the number of tests its members pass
(CodeT: solutions that agree with each other and with the tests); raising any exception
counts as one output. The best candidate is a
passing member of the best-scoring cluster that has one; ties go to the stronger tests
(``result.test_strength.score``), then to input order.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from codesynth.behaviour import (
    agreement_job,
    disagreements,
    entry_function,
    inputs_for,
    outputs,
    probe_job,
)
from codesynth.records import Job, Limits

PROBE_INPUTS = 24


@dataclass
class Scored:
    index: int  # in the task's candidates
    cluster: int
    cluster_size: int
    tests_passed: int
    score: int
    passed: bool

    def to_dict(self) -> dict[str, Any]:
        return {"cluster": self.cluster, "cluster_size": self.cluster_size,
                "tests_passed": self.tests_passed, "agreement": self.score}


def _tests_passed(record: dict[str, Any]) -> int:
    result = record.get("result") or {}
    return sum(t.get("outcome") == "passed" for t in result.get("tests", []))


def _strength(record: dict[str, Any]) -> float:
    strength = (record.get("result") or {}).get("test_strength") or {}
    score = strength.get("score")
    return float(score) if isinstance(score, int | float) else -1.0


Plan = tuple[list[tuple[Any, ...]], list[Job | None]]  # a task's inputs, a probe per candidate


def probe_jobs(records: Sequence[dict[str, Any]], seed: int, task_id: str) -> Plan:
    """One probe per candidate, all on the inputs drawn from the task's tests."""
    first = next((r for r in records if r.get("code")), None)
    if first is None:
        return [], [None] * len(records)
    base = Job(id=task_id, code=first["code"], tests=first.get("tests") or "x",
               test_style=first.get("test_style", "assert"),
               entry_point=first.get("entry_point"))
    inputs = inputs_for(base, random.Random(f"{seed}:{task_id}:select"), PROBE_INPUTS)
    jobs: list[Job | None] = []
    for index, record in enumerate(records):
        code = record.get("code")
        entry = entry_function(code, record.get("entry_point")) if code else None
        jobs.append(probe_job(f"{task_id}~s{index}", code, entry, inputs)
                    if code and entry and inputs else None)
    return inputs, jobs


def score(records: Sequence[dict[str, Any]], behaviours: Sequence[list[str] | None]
          ) -> list[Scored]:
    """Clusters and dual-agreement scores of one task's candidates."""
    clusters: dict[str, int] = {}
    labels = []
    for index, seen in enumerate(behaviours):
        # An input that makes a candidate raise is outside the task (an empty list where one
        # is needed): which exception it raises does not tell two candidates apart.
        key = repr([v if not v.startswith("!") else "!" for v in seen]) \
            if seen is not None else f"unknown:{index}"
        labels.append(clusters.setdefault(key, len(clusters)))
    sizes = [labels.count(c) for c in range(len(clusters))]
    scored = []
    for index, record in enumerate(records):
        cluster = labels[index]
        members = [i for i, c in enumerate(labels) if c == cluster]
        passed = min(_tests_passed(records[i]) for i in members)
        scored.append(Scored(index, cluster, sizes[cluster], passed, sizes[cluster] * passed,
                             bool((record.get("result") or {}).get("passed"))))
    return scored


def best(records: Sequence[dict[str, Any]], scored: Sequence[Scored]) -> int | None:
    """The index of the chosen candidate (a passing one), or None when none passes."""
    passing = [s for s in scored if s.passed]
    if not passing:
        return None
    return min(passing, key=lambda s: (-s.score, -_strength(records[s.index]), s.index)).index


def select(sandbox: Any, tasks: Sequence[tuple[str, Sequence[dict[str, Any]]]],
           limits: Limits | None = None, seed: int = 0
           ) -> list[tuple[int | None, list[Scored]]]:
    """For each ``(task id, candidates)``: the chosen index and every candidate's score.
    Every probe of every task runs in one batch. The outputs a probe prints are the
    program's own stdout: the members of each leading cluster are then checked, through the
    harness, to really return what they printed (:func:`confirm`), and one that does not
    loses its place in the cluster."""
    plans = [probe_jobs(records, seed, task_id) for task_id, records in tasks]
    batch = [job for _, jobs in plans for job in jobs if job is not None]
    probe_limits = Limits(timeout=max(10.0, (limits or Limits()).timeout))
    results = iter(list(sandbox.run_many(batch, probe_limits)) if batch else [])
    behaviours = [[outputs(next(results)) if job is not None else None for job in jobs]
                  for _, jobs in plans]
    confirm(sandbox, tasks, plans, behaviours, probe_limits)
    chosen = []
    for (_, records), seen in zip(tasks, behaviours, strict=True):
        scored = score(records, seen)
        chosen.append((best(records, scored), scored))
    return chosen


def confirm(sandbox: Any, tasks: Sequence[tuple[str, Sequence[dict[str, Any]]]],
            plans: Sequence[Plan], behaviours: list[list[list[str] | None]],
            limits: Limits, rounds: int = 8) -> None:
    """Check the members of every task's leading cluster by assertions (their printed
    outputs against their real ones); a member that fails is unknown (``None``)."""
    confirmed: set[tuple[int, int]] = set()
    for _ in range(rounds):
        checks: list[tuple[int, int, Job]] = []
        for t, ((_, records), (inputs, jobs)) in enumerate(zip(tasks, plans, strict=True)):
            scored = score(records, behaviours[t])
            index = best(records, scored)
            if index is None:
                continue
            for s in scored:
                seen, job = behaviours[t][s.index], jobs[s.index]
                if s.cluster == scored[index].cluster and (t, s.index) not in confirmed \
                        and seen is not None and job is not None:
                    entry = entry_function(job.code, records[s.index].get("entry_point"))
                    checks.append((t, s.index, agreement_job(
                        f"{job.id}~c", job.code, entry or "", inputs, seen)))
        if not checks:
            return
        for (t, i, _), execution in zip(
                checks, sandbox.run_many([j for _, _, j in checks], limits), strict=True):
            if disagreements(execution, len(behaviours[t][i] or [])):
                behaviours[t][i] = None
            else:
                confirmed.add((t, i))


def choose_per_task(rows: Iterable[dict[str, Any]], sandbox: Callable[[], Any] | None,
                    limits: Limits | None, seed: int) -> dict[Any, Any]:
    """For the pipeline's verify rows (``task_id``, ``kept``): task id -> the chosen row's
    id, and ("score", row id) -> its cluster and agreement. The sandbox opens only if a
    task has a passing candidate."""
    by_task: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_task.setdefault(row["task_id"], []).append(row)
    tasks = [(task, group) for task, group in by_task.items()
             if any(r.get("kept", True) for r in group)]
    if not tasks or sandbox is None:
        return {}
    found: dict[Any, Any] = {}
    for (task, group), (index, scored) in zip(tasks, select(sandbox(), tasks, limits, seed),
                                              strict=True):
        if index is not None:
            found[task] = group[index]["id"]
        for row, scores in zip(group, scored, strict=True):
            found[("score", row["id"])] = scores.to_dict()
    return found
