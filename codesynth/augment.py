"""Test augmentation: new tests for weak suites, each one shown to kill a surviving mutant.

The survivors of :mod:`codesynth.test_strength` were probed on generated inputs (the tests'
own argument tuples, type-aware random ones, and optionally inputs a model proposed as edge
cases). Where a survivor's output differs from the original's, the input becomes a candidate
test, ``assert f(ARGS) == EXPECTED``, labelled by the reference (the record's passing
program) or, given several passing candidates, by their majority output (:func:`majority`).
A candidate is kept only when executed: it passes on the reference and fails on at least one
survivor. Kept tests are chosen greedily, each killing a survivor no earlier one kills.

Records gain ``augmented_tests``: ``[{test, origin, label, kills}]``; ``origin`` is where the
input came from (``tests``, ``random``, ``model``), ``kills`` the survivors it kills (their
index in ``test_strength.survivors`` and their description).
"""

from __future__ import annotations

import ast
import collections
from collections.abc import Mapping, Sequence
from typing import Any

from codesynth.behaviour import entry_function
from codesynth.records import Job, Limits
from codesynth.test_strength import Strength

PER_SURVIVOR = 2  # distinguishing inputs tried per survivor


def literal_output(text: str) -> bool:
    if text.startswith(("!", "#")):
        return False
    try:
        ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
    return True


def majority(outputs: Sequence[Sequence[str] | None]) -> list[str | None]:
    """Per input, the output most passing candidates agree on (None without a majority)."""
    known = [o for o in outputs if o is not None]
    if not known:
        return []
    labels: list[str | None] = []
    for index in range(len(known[0])):
        votes = collections.Counter(o[index] for o in known if index < len(o))
        value, count = votes.most_common(1)[0]
        labels.append(value if count * 2 > len(known) else None)
    return labels


def agreement(sandbox: Any, strengths: Sequence[Strength], peers: Mapping[str, Sequence[Job]],
              limits: Limits | None = None) -> dict[str, list[str | None]]:
    """Labels by agreement, for records with no reference but other passing candidates of
    their task (``peers`` by job id): each peer is probed on the record's own inputs, and the
    label of an input is the output a strict majority of the record and its peers give (None
    without one). A peer's probe prints what its calls return, which it could forge: a forged
    label can only make a test fail on the record itself, and such a test is never kept."""
    from codesynth.behaviour import outputs, probe_job

    plans: list[tuple[Strength, int]] = []
    jobs: list[Job] = []
    for strength in strengths:
        others = peers.get(strength.job.id) or ()
        useful = any(s.equivalent is False and s.differs for s in strength.survivors)
        if not others or not useful or strength.original_outputs is None:
            continue
        count = 0
        for k, peer in enumerate(others):
            entry = entry_function(peer.code, peer.entry_point)
            if entry is not None:
                jobs.append(probe_job(f"{strength.job.id}~peer{k}", peer.code, entry,
                                      strength.inputs))
                count += 1
        if count:
            plans.append((strength, count))
    runs = iter(list(sandbox.run_many(jobs, limits)) if jobs else [])
    labels: dict[str, list[str | None]] = {}
    for strength, count in plans:
        seen = [outputs(next(runs)) for _ in range(count)]
        labels[strength.job.id] = majority([strength.original_outputs, *seen])
    return labels


def candidates(strength: Strength, labels: Sequence[str | None] | None = None
               ) -> list[tuple[str, str, str]]:
    """``(test source, input origin, label kind)`` for inputs where a survivor differs."""
    entry = entry_function(strength.job.code, strength.job.entry_point)
    expected = labels if labels is not None else strength.original_outputs
    if entry is None or expected is None:
        return []
    label = "agreement" if labels is not None else "reference"
    found: dict[str, tuple[str, str, str]] = {}
    for survivor in strength.survivors:
        if survivor.equivalent is not False or not survivor.differs:
            continue
        tried = 0
        for index in survivor.differs:
            want = expected[index] if index < len(expected) else None
            if tried >= PER_SURVIVOR:
                break
            if want is None or not literal_output(want):
                continue
            args = ", ".join(repr(a) for a in strength.inputs[index])
            test = f"assert {entry}({args}) == {want}"
            origin = strength.origins[index] if index < len(strength.origins) else "random"
            found.setdefault(test, (test, origin, label))
            tried += 1
    return list(found.values())


def augment(sandbox: Any, strengths: Sequence[Strength], limits: Limits | None = None,
            labels: Mapping[str, Sequence[str | None]] | None = None
            ) -> list[list[dict[str, Any]]]:
    """Kept tests per strength (in order; [] for none): those that kill surviving,
    non-equivalent mutants. ``labels`` (by job id, per probe input) replace the reference's
    outputs as expected values, e.g. the :func:`majority` of several passing candidates."""
    plans = []
    kept: list[list[dict[str, Any]]] = [[] for _ in strengths]
    for position, strength in enumerate(strengths):
        found = candidates(strength, (labels or {}).get(strength.job.id))
        if found:
            plans.append((position, strength, found))
    if not plans:
        return kept
    batch: list[Job] = []
    for _, strength, found in plans:
        tests = "\n".join(test for test, _, _ in found) + "\n"
        job = strength.job
        programs = [job.code, *(s.mutant.code for s in strength.survivors
                                if s.equivalent is False)]
        batch += [Job(id=f"{job.id}~a{i}", code=code, tests=tests, test_style="assert",
                      language=job.language) for i, code in enumerate(programs)]
    runs = iter(list(sandbox.run_many(batch, limits)))
    for position, strength, found in plans:
        reference = next(runs)
        passing = {t.line for t in reference.tests if t.outcome == "passed"}
        kills: dict[int, list[int]] = collections.defaultdict(list)  # line -> survivors
        for index, survivor in enumerate(strength.survivors):
            if survivor.equivalent is not False:
                continue
            execution = next(runs)
            failed = {t.line for t in execution.tests if t.outcome != "passed"}
            for line in sorted(failed & passing):
                kills[line].append(index)
        chosen: list[dict[str, Any]] = []
        covered: set[int] = set()
        for line in sorted(kills, key=lambda n: (-len(kills[n]), n)):
            if set(kills[line]) - covered:
                covered.update(kills[line])
                test, origin, label = found[line - 1]
                chosen.append({"test": test, "origin": origin, "label": label, "kills": [
                    {"survivor": i, "description": strength.survivors[i].mutant.description}
                    for i in kills[line]]})
        kept[position] = chosen
    return kept
