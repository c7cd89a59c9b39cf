"""Flaky programs: run a record K more times (never from the execution cache) and compare.
A flaky record's verdict is dropped from the cache.

A record whose status, or any test's outcome, changes between runs is flaky:
``result.flaky = {runs, statuses, tests}``, where ``tests`` names the tests whose outcome
changed (per test where the style reports tests one by one; ``*`` when only the status moved).
Runs that got no verdict (``sandbox_error``) are left out of the comparison.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from codesynth.records import Execution, Job, Limits, Status


def uncached(sandbox: Any) -> Any:
    """The sandbox under an execution cache (which would answer every rerun alike)."""
    return getattr(sandbox, "sandbox", sandbox) if hasattr(sandbox, "store") else sandbox


def changes(runs: Sequence[Execution]) -> dict[str, Any] | None:
    """What moved between the runs of one record, or None when nothing did."""
    judged = [r for r in runs if r.status is not Status.SANDBOX_ERROR]
    statuses = [r.status.value for r in judged]
    outcomes: dict[str, set[str]] = {}
    for run in judged:
        for test in run.tests:
            outcomes.setdefault(test.name, set()).add(test.outcome)
    for run in judged:  # a test some run reports and another does not
        names = {t.name for t in run.tests}
        for name in outcomes:
            if name not in names:
                outcomes[name].add("not run")
    moved = sorted(name for name, seen in outcomes.items() if len(seen) > 1)
    if len(set(statuses)) <= 1 and not moved:
        return None
    return {"runs": len(runs), "statuses": statuses, "tests": moved or ["*"]}


def rerun(sandbox: Any, pairs: Sequence[tuple[Job, Execution]], reruns: int,
          limits: Limits | None = None) -> list[Execution]:
    """The executions, each flaky one with ``flaky`` set (the first run's verdict stays)."""
    if reruns <= 0 or not pairs:
        return [execution for _, execution in pairs]
    runner = uncached(sandbox)
    jobs = [job for job, _ in pairs for _ in range(reruns)]
    again = list(runner.run_many(jobs, limits))
    result = []
    for index, (job, execution) in enumerate(pairs):
        flaky = changes([execution, *again[index * reruns:(index + 1) * reruns]])
        if flaky is not None and hasattr(sandbox, "forget"):
            sandbox.forget(job, limits)  # a cached verdict would hide the flakiness later
        result.append(execution if flaky is None
                      else dataclasses.replace(execution, flaky=flaky))
    return result
