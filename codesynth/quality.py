"""Data quality beyond "it passed", as one pass over executed records: reruns (flaky),
test strength by mutation, and test augmentation for weak tests.

Records go through in chunks: each chunk's jobs run to completion, then their reruns, then
every mutant of the chunk in one batch, then the probes. The sandbox is never asked to run two
batches at once, and each batch keeps every worker busy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from codesynth import augment, flaky, test_strength
from codesynth.records import Execution, Job, Limits

P = TypeVar("P")
Inputs = dict[str, list[tuple[Any, ...]]]
CHUNK = 32


@dataclass(frozen=True)
class Checks:
    strength: int = 0  # mutants per passing record (0: off)
    reruns: int = 0
    augment: bool = False  # new tests for records with surviving mutants
    seed: int = 0
    # augmented tests' labels: the record's program ("reference"), or the majority of it and
    # the other passing candidates of its group ("agreement"; needs ``group`` in checked)
    labels: str = "reference"

    @property
    def active(self) -> bool:
        return bool(self.strength or self.reruns)

    def fingerprint(self) -> dict[str, Any]:
        found = dataclasses.asdict(self)
        if self.labels == "reference":  # the default: fingerprints as before
            del found["labels"]
        return found


def check_chunk(sandbox: Any, pairs: list[tuple[Job, Execution]], checks: Checks,
                limits: Limits | None = None, extra_inputs: Inputs | None = None,
                groups: list[str] | None = None
                ) -> list[tuple[Execution, list[dict[str, Any]] | None]]:
    """Each execution with what the checks add, and the record's new tests (or None).
    ``extra_inputs``: more probe inputs by job id (e.g. a model's edge cases); ``groups``:
    each pair's group (its task), for labels by agreement among a group's passing ones."""
    executions = flaky.rerun(sandbox, pairs, checks.reruns, limits)
    added: dict[int, list[dict[str, Any]]] = {}
    if checks.strength:
        passing = [(i, job) for i, ((job, _), e) in enumerate(zip(pairs, executions,
                                                                  strict=True))
                   if e.passed and e.flaky is None]
        strengths = test_strength.measure(
            sandbox, [job for _, job in passing], limits, checks.strength, checks.seed,
            extra_inputs=extra_inputs, durations=[executions[i].duration for i, _ in passing])
        if checks.augment:
            labels = None
            if checks.labels == "agreement" and groups is not None:
                peers = {job.id: [other for j, other in passing
                                  if j != i and groups[j] == groups[i]]
                         for i, job in passing}
                labels = augment.agreement(sandbox, strengths, peers, limits)
            new = augment.augment(sandbox, strengths, limits, labels)
            added = {index: tests for (index, _), tests in zip(passing, new, strict=True)}
        for (index, _), strength in zip(passing, strengths, strict=True):
            report = strength.to_dict(checks.seed)
            tests = added.get(index)
            if tests:
                killed = {k["survivor"] for t in tests for k in t["kills"]}
                judged = len(strength.mutants) - strength.unknown - strength.equivalent
                report["augmented"] = {
                    "tests": len(tests), "killed": len(killed),
                    "score": round((strength.killed + len(killed)) / judged, 4)}
            executions[index] = dataclasses.replace(executions[index], test_strength=report)
    return [(e, added.get(index) or None) for index, e in enumerate(executions)]


def checked(sandbox: Any, pairs: Iterable[tuple[P, Job]], checks: Checks,
            limits: Limits | None = None, chunk: int = CHUNK,
            extra_inputs: Inputs | None = None, group: Callable[[P], str] | None = None
            ) -> Iterator[tuple[P, Execution, list[dict[str, Any]] | None]]:
    """``(payload, execution, new tests)`` in input order, the checks applied. With
    ``group`` (a payload's task), a chunk ends only where a group does (consecutive payloads
    of a group stay together), so that labels by agreement see all of a group's passing
    ones."""
    for part in _chunks(iter(pairs), chunk, group):
        jobs = [job for _, job in part]
        executions = list(sandbox.run_many(jobs, limits))
        groups = [group(payload) for payload, _ in part] if group is not None else None
        done = check_chunk(sandbox, list(zip(jobs, executions, strict=True)), checks, limits,
                           extra_inputs, groups)
        for (payload, _), (execution, tests) in zip(part, done, strict=True):
            yield payload, execution, tests


def _chunks(iterator: Iterator[tuple[P, Job]], size: int, group: Callable[[P], str] | None
            ) -> Iterator[list[tuple[P, Job]]]:
    """Chunks of about ``size`` pairs; with ``group``, cut only between two groups."""
    part: list[tuple[P, Job]] = []
    for pair in iterator:
        if part and len(part) >= size and \
                (group is None or group(pair[0]) != group(part[-1][0])):
            yield part
            part = []
        part.append(pair)
    if part:
        yield part
