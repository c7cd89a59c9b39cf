"""Bug-fix pairs proved by execution.

A candidate bug (an AST mutant or an LLM rewrite) becomes a pair only when it fails at least
one test that the original passes, the original being re-verified in the same run
(fail-to-pass). The pair records which tests flipped and the buggy program's trace. Bugs
that fail no test ("survivors") are counted per input: they measure how weak its tests are.
"""

from __future__ import annotations

import collections
import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from codesynth.records import Execution, Job, content_id


@dataclass(frozen=True)
class Bug:
    """A candidate bug for one input program."""

    source: dict[str, Any]  # the input record
    original: Job
    code: str
    kind: str  # the operator name, or the LLM bug kind
    description: str
    strategy: str  # "ast" or "llm"
    provenance: dict[str, Any] = field(default_factory=dict)


@dataclass
class Report:
    """What a run did, per input and per kind (written next to the pairs)."""

    inputs: int = 0
    originals_failed: list[str] = field(default_factory=list)
    tried: collections.Counter[str] = field(default_factory=collections.Counter)
    kept: collections.Counter[str] = field(default_factory=collections.Counter)
    survived: collections.Counter[str] = field(default_factory=collections.Counter)
    survived_by_input: dict[str, int] = field(default_factory=dict)
    rejected: collections.Counter[str] = field(default_factory=collections.Counter)

    def to_dict(self) -> dict[str, Any]:
        return {"inputs": self.inputs, "originals_failed": self.originals_failed,
                "bugs_tried": sum(self.tried.values()), "pairs": sum(self.kept.values()),
                "survivors": sum(self.survived.values()),
                "by_kind": {k: {"tried": self.tried[k], "kept": self.kept[k],
                                "survived": self.survived[k]} for k in sorted(self.tried)},
                "survivors_by_input": self.survived_by_input,
                "rejected": dict(self.rejected)}


def unified_diff(buggy: str, fixed: str) -> str:
    """The fix, as a unified diff from the buggy program to the fixed one."""
    return "".join(difflib.unified_diff(buggy.splitlines(keepends=True),
                                        fixed.splitlines(keepends=True),
                                        fromfile="buggy.py", tofile="fixed.py"))


def flipped(original: Execution, buggy: Execution) -> list[dict[str, Any]]:
    """Tests the original passes and the buggy program does not (failed, errored, not run)."""
    outcomes = {t.name: t for t in buggy.tests}
    flips = []
    for test in original.tests:
        if test.outcome != "passed":
            continue
        after = outcomes.get(test.name)
        if after is None or after.outcome != "passed":
            flips.append({"name": test.name, "source": test.source, "line": test.line,
                          "outcome": after.outcome if after else "not run",
                          "message": after.message if after else None})
    if not flips and original.passed and not buggy.passed:
        # No per-test outcomes (an error before the tests, a timeout): all of them flipped.
        flips = [{"name": t.name, "source": t.source, "line": t.line, "outcome": "not run",
                  "message": None} for t in original.tests] or \
                [{"name": "*", "source": None, "line": None, "outcome": buggy.status.value,
                  "message": buggy.reason}]
    return flips


def pair_record(bug: Bug, original: Execution, buggy: Execution) -> dict[str, Any] | None:
    """The pair, or None when the bug fails no test the original passes."""
    if buggy.passed:
        return None
    flips = flipped(original, buggy)
    if not flips:
        return None
    source = bug.source
    instruction = source.get("instruction") or source.get("prompt")
    return {
        "id": content_id("bugfix", bug.original.id, bug.code),
        "task_id": bug.original.id,
        "instruction": instruction,
        "buggy_code": bug.code,
        "fixed_code": bug.original.code,
        "diff": unified_diff(bug.code, bug.original.code),
        "bug_kind": bug.kind,
        "bug_description": bug.description,
        "failing_tests": flips,
        "trace": buggy.to_dict(),
        "tests": bug.original.tests,
        "test_style": bug.original.test_style,
        "entry_point": bug.original.entry_point,
        "language": bug.original.language,
        "provenance": {"strategy": bug.strategy, "source_id": bug.original.id,
                       "original_status": original.status.value, **bug.provenance},
    }


def judge(bugs: Iterable[tuple[Bug, Execution]], originals: dict[str, Execution],
          report: Report) -> Iterator[dict[str, Any]]:
    """Executed bugs in, kept pairs out; survivors and kinds counted in ``report``."""
    for bug, execution in bugs:
        report.tried[bug.kind] += 1
        record = pair_record(bug, originals[bug.original.id], execution)
        if record is None:
            report.survived[bug.kind] += 1
            key = bug.original.id
            report.survived_by_input[key] = report.survived_by_input.get(key, 0) + 1
            continue
        report.kept[bug.kind] += 1
        yield record
