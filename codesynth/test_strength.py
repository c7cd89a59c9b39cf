"""Test strength by mutation: how many seeded mutants of a passing program its tests kill.

For each passing program, up to K mutants are drawn from the AST bug operators
(:mod:`codesynth.bugs.operators`) with an RNG seeded by the seed and the record's id, and run
with the record's tests. A mutant that fails (any status but ``passed``; ``sandbox_error`` is
no verdict and is not counted) is killed. A survivor is probed on generated inputs
(:mod:`codesynth.behaviour`): one whose outputs equal the original's on every input (checked
by assertions, through the harness) is reported as ``equivalent`` and left out of the
score. No test can kill it, as far as the generated inputs can tell.

``result.test_strength = {mutants, killed, equivalent, score, survivors, seed}``, with
``score = killed / (mutants - equivalent)`` (None when no mutant could be made).
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from codesynth.behaviour import (
    TIMED_OUT,
    agreement_job,
    call_examples,
    disagreements,
    entry_function,
    inputs_for,
    outputs,
    probe_job,
)
from codesynth.bugs.operators import Mutant, mutate
from codesynth.bugs.pairs import unified_diff
from codesynth.records import Job, Limits, Status

DEFAULT_MUTANTS = 20
PROBE_INPUTS = 24
# A mutant gets 10x the original's run time, at least this much (and never more than the
# record's limit): mutants that loop forever are common, and each would hold a worker for the
# whole limit. A mutant that times out is killed, as in mutation tools.
MUTANT_FLOOR = 0.5


def mutant_limits(limits: Limits | None, duration: float | None) -> Limits:
    base = limits or Limits()
    timeout = min(base.timeout, max(MUTANT_FLOOR, 10 * (duration or 0.0)))
    cpu = base.cpu_time if base.cpu_time is None else min(base.cpu_time, timeout)
    return dataclasses.replace(base, timeout=timeout, cpu_time=cpu)


def mutants_of(job: Job, count: int, seed: int) -> list[Mutant]:
    """Up to ``count`` distinct mutants of ``job.code``, the same for the same seed and id."""
    rng = random.Random(f"{seed}:{job.id}:strength")
    pool = mutate(job.code, rng, per_operator=max(1, count))
    return rng.sample(pool, min(count, len(pool)))


@dataclass
class Survivor:
    mutant: Mutant
    equivalent: bool | None = None  # None: not probed (no inputs to generate)
    differs: list[int] | None = None  # the probe inputs on which it differs from the original

    def to_dict(self, original: str) -> dict[str, Any]:
        return {"operator": self.mutant.operator, "description": self.mutant.description,
                "line": self.mutant.line, "equivalent": self.equivalent,
                "diff": unified_diff(original, self.mutant.code)}


@dataclass
class Strength:
    job: Job
    mutants: list[Mutant]
    killed: int = 0
    unknown: int = 0  # sandbox_error: no verdict
    survivors: list[Survivor] = field(default_factory=list)
    inputs: list[tuple[Any, ...]] = field(default_factory=list)
    origins: list[str] = field(default_factory=list)  # per input: tests, random or model
    original_outputs: list[str] | None = None

    @property
    def usable(self) -> list[int]:
        """The probe inputs on which the original returned (or raised) in time."""
        return [i for i, o in enumerate(self.original_outputs or []) if o != TIMED_OUT]

    @property
    def equivalent(self) -> int:
        return sum(s.equivalent is True for s in self.survivors)

    @property
    def score(self) -> float | None:
        judged = len(self.mutants) - self.unknown - self.equivalent
        return None if judged <= 0 else round(self.killed / judged, 4)

    def to_dict(self, seed: int) -> dict[str, Any]:
        return {"mutants": len(self.mutants), "killed": self.killed,
                "equivalent": self.equivalent, "score": self.score,
                "survivors": [s.to_dict(self.job.code) for s in self.survivors],
                **({"unknown": self.unknown} if self.unknown else {}), "seed": seed}


def measure(sandbox: Any, jobs: Sequence[Job], limits: Limits | None = None,
            count: int = DEFAULT_MUTANTS, seed: int = 0, probe_inputs: int = PROBE_INPUTS,
            extra_inputs: dict[str, list[tuple[Any, ...]]] | None = None,
            durations: Sequence[float] | None = None) -> list[Strength]:
    """The strength of each job's tests (the jobs' programs are taken to pass them, in
    ``durations`` seconds when known). The mutants run in one batch per time limit (each
    record's :func:`mutant_limits`, rounded up to half seconds), then the probes."""
    strengths = [Strength(job, mutants_of(job, count, seed)) for job in jobs]
    groups: dict[Limits, list[tuple[Strength, Mutant]]] = {}
    for index, strength in enumerate(strengths):
        duration = durations[index] if durations else None
        rounded = None if duration is None else math.ceil(duration * 20) / 20
        key = mutant_limits(limits, rounded)
        groups.setdefault(key, []).extend((strength, m) for m in strength.mutants)
    for group_limits, runs in groups.items():
        executions = sandbox.run_many(
            [Job(id=f"{s.job.id}~m{i}", code=m.code, tests=s.job.tests,
                 test_style=s.job.test_style, entry_point=s.job.entry_point,
                 language=s.job.language) for i, (s, m) in enumerate(runs)], group_limits)
        _judge(runs, executions)
    probe(sandbox, [s for s in strengths if s.survivors], limits, seed, probe_inputs,
          extra_inputs or {})
    return strengths


def _judge(runs: Sequence[tuple[Strength, Mutant]], executions: Any) -> None:
    for (strength, mutant), execution in zip(runs, executions, strict=True):
        if execution.status is Status.SANDBOX_ERROR:
            strength.unknown += 1
        elif execution.passed:
            strength.survivors.append(Survivor(mutant))
        else:
            strength.killed += 1


def probe(sandbox: Any, strengths: Sequence[Strength], limits: Limits | None, seed: int,
          count: int, extra_inputs: dict[str, list[tuple[Any, ...]]] | None = None) -> None:
    """Run the original on generated inputs (and ``extra_inputs``, e.g. a model's edge cases,
    by job id), then assert each survivor's outputs equal the original's: a survivor that
    passes every assertion is equivalent. The second step goes through the harness, so a
    program cannot pass its mutants off as equivalent by printing."""
    probe_limits = Limits(timeout=max(10.0, (limits or Limits()).timeout))
    originals: list[tuple[Strength, str, Job]] = []
    for strength in strengths:
        job = strength.job
        entry = entry_function(job.code, job.entry_point)
        if entry is None:
            continue
        examples = {repr(e) for e in call_examples(job.tests, job.test_style, entry)}
        drawn = inputs_for(job, random.Random(f"{seed}:{job.id}:inputs"), count)
        extra = [e for e in (extra_inputs or {}).get(job.id, []) if repr(e) not in
                 {repr(d) for d in drawn}]
        strength.inputs = drawn + extra
        strength.origins = ["tests" if repr(d) in examples else "random" for d in drawn] \
            + ["model"] * len(extra)
        if strength.inputs:
            originals.append((strength, entry, probe_job(f"{job.id}~p", job.code, entry,
                                                         strength.inputs)))
    if not originals:
        return
    checks: list[tuple[Strength, Survivor, Job]] = []
    for (strength, entry, _), execution in zip(
            originals, sandbox.run_many([j for _, _, j in originals], probe_limits),
            strict=True):
        strength.original_outputs = outputs(execution)
        if strength.original_outputs is None or len(strength.original_outputs) != len(
                strength.inputs):
            strength.original_outputs = None  # the original's behaviour is unknown
            continue
        usable = strength.usable
        for index, survivor in enumerate(strength.survivors):
            checks.append((strength, survivor, agreement_job(
                f"{strength.job.id}~q{index}", survivor.mutant.code, entry,
                [strength.inputs[i] for i in usable],
                [strength.original_outputs[i] for i in usable])))
    for (strength, survivor, _), execution in zip(
            checks, sandbox.run_many([j for _, _, j in checks], probe_limits) if checks else [],
            strict=True):
        usable = strength.usable
        survivor.differs = [usable[i] for i in disagreements(execution, len(usable))]
        survivor.equivalent = not survivor.differs if usable else None


def distribution(scores: Sequence[float | None]) -> dict[str, Any]:
    """Counts of scores in tenths, plus the mean and the quartiles (for the dataset card)."""
    known = sorted(s for s in scores if s is not None)
    bins = {f"{b / 10:.1f}-{(b + 1) / 10:.1f}": 0 for b in range(10)}
    for score in known:
        b = min(int(score * 10), 9)
        bins[f"{b / 10:.1f}-{(b + 1) / 10:.1f}"] += 1

    def quantile(q: float) -> float | None:
        return known[min(len(known) - 1, int(q * len(known)))] if known else None

    return {"records": len(scores), "measured": len(known),
            "mean": round(sum(known) / len(known), 4) if known else None,
            "p25": quantile(0.25), "median": quantile(0.5), "p75": quantile(0.75),
            "bins": bins}


def first_assertion_only(tests: str, function: str = "check") -> str:
    """``tests`` cut to their first assertion: in ``function`` (HumanEval's ``check``) when
    there is one, else at the top level. What a weak suite looks like, to measure against."""
    import ast

    tree = ast.parse(tests)
    body = next((n.body for n in tree.body
                 if isinstance(n, ast.FunctionDef) and n.name == function), tree.body)
    kept, seen = [], False
    for statement in body:
        asserts = any(isinstance(n, ast.Assert) for n in ast.walk(statement))
        if asserts and seen:
            continue
        seen = seen or asserts
        kept.append(statement)
    body[:] = kept
    return ast.unparse(tree) + "\n"
