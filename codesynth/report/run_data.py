"""What a pipeline run directory says, gathered in one streaming pass over its files.

Counts come from ``summary.json`` (what ``codesynth run`` printed); the stage files add what
the summary does not hold: pass rates per generator, round, language and difficulty, the
statuses of failed candidates, test strength where measured, and a bounded sample of records
(kept and rejected) for the browsable table.
"""

from __future__ import annotations

import collections
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codesynth.report._records import Reservoir, cut, obj, read_jsonl

STAGE_FILE = re.compile(r"^(\d+)-([a-z_]+)\.jsonl$")
DIMENSIONS = ("generator", "round", "language", "difficulty")
STRENGTH_FIELDS = ("test_strength", "mutation_score")
STRENGTH_BINS = 10


@dataclass
class RunData:
    directory: Path
    summary: dict[str, Any]
    stages: dict[str, dict[str, Any]]
    # dimension -> value -> [candidates verified, passed]
    groups: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    # (status, exception type) -> count, over candidates that failed verification
    failures: collections.Counter[tuple[str, str]] = field(default_factory=collections.Counter)
    strength: list[int] | None = None  # counts per bin of [0, 1], STRENGTH_BINS bins
    strength_stage: str | None = None
    repairs: collections.Counter[str] = field(default_factory=collections.Counter)
    chain_lengths: collections.Counter[int] = field(default_factory=collections.Counter)
    matches: list[dict[str, Any]] = field(default_factory=list)
    samples: Reservoir = field(default_factory=lambda: Reservoir(25))
    bad_lines: list[str] = field(default_factory=list)


def is_run(path: Path) -> bool:
    return path.is_dir() and ((path / "summary.json").exists() or (path / "stages").is_dir())


def gather(directory: Path, sample: int = 25) -> RunData:
    summary_path = directory / "summary.json"
    summary: dict[str, Any] = {}
    if summary_path.exists():
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    data = RunData(directory, summary, dict(summary.get("stages", {})),
                   samples=Reservoir(sample))
    files = sorted((int(m.group(1)), m.group(2), p) for p in (directory / "stages").glob("*")
                   if (m := STAGE_FILE.match(p.name)))
    titles: dict[str, str] = {}  # decontaminated candidate -> its instruction
    for _, stage, path in files:
        inputs = outputs = 0
        rejected: collections.Counter[str] = collections.Counter()
        bins = [0] * STRENGTH_BINS
        measured = False
        for row in read_jsonl(path, data.bad_lines):
            kept = row.get("kept", True) is not False
            inputs += 1
            outputs += kept
            if not kept:
                rejected[str(row.get("reason"))] += 1
            if stage == "verify":
                _verified(data, row)
            if stage == "decontaminate" and not kept:
                titles[str(row.get("candidate_id"))] = str(row.get("instruction") or "")
            value = strength_of(row)
            if value is not None:
                measured = True
                bins[min(int(value * STRENGTH_BINS), STRENGTH_BINS - 1)] += 1
            data.samples.offer(f"{stage}/{'kept' if kept else 'rejected'}",
                               lambda row=row, stage=stage, kept=kept: stage_sample(
                                   row, stage, kept))
        if measured:
            data.strength, data.strength_stage = bins, stage
        if stage not in data.stages:  # no summary (an unfinished run): counted from the file
            data.stages[stage] = {"in": inputs, "out": outputs, "rejected": dict(rejected)}
    _pairs(data, directory / "dataset" / "bugfix_pairs.jsonl")
    for path in sorted(directory.rglob("*repair*.jsonl")):
        _repairs(data, path)
    data.matches = matches(summary.get("decontamination") or {}, titles)
    return data


def dimension_values(row: dict[str, Any]) -> dict[str, Any]:
    origin = obj(row.get("origin"))
    params = obj(origin.get("params"))
    return {"generator": origin.get("method"), "round": origin.get("round"),
            "language": row.get("language"),
            "difficulty": row.get("difficulty") or origin.get("difficulty")
            or params.get("difficulty")}


def strength_of(row: dict[str, Any]) -> float | None:
    """A measured test strength in [0, 1] (mutation score), wherever a stage put it."""
    for holder in (row, row.get("quality"), row.get("verification")):
        if isinstance(holder, dict):
            for name in STRENGTH_FIELDS:
                value = holder.get(name)
                if isinstance(value, int | float) and not isinstance(value, bool) \
                        and 0 <= value <= 1:
                    return float(value)
    return None


def _verified(data: RunData, row: dict[str, Any]) -> None:
    result = obj(row.get("result"))
    passed = row.get("kept", True) is not False
    for dimension, value in dimension_values(row).items():
        if value is not None:
            cell = data.groups.setdefault(dimension, {}).setdefault(str(value), [0, 0])
            cell[0] += 1
            cell[1] += passed
    if not passed:
        exception = obj(result.get("exception"))
        status = str(result.get("status") or row.get("reason"))
        data.failures[(status, str(exception.get("type") or "(none)"))] += 1


def trace_sections(result: Any) -> list[tuple[str, str, str]]:
    """A verify trace: its summary as JSON, then the traceback and the output streams."""
    if not isinstance(result, dict):
        return []
    exception = obj(result.get("exception"))
    brief = {k: v for k, v in result.items() if k not in ("stdout", "stderr", "exception")}
    if exception:
        brief["exception"] = {k: v for k, v in exception.items() if k != "traceback"}
    sections = [("trace", "json", cut(brief))]
    if exception.get("traceback"):
        sections.append(("traceback", "pytb", cut(exception["traceback"])))
    for stream in ("stdout", "stderr"):
        if result.get(stream):
            sections.append((stream, "text", cut(result[stream])))
    return sections


def stage_sample(row: dict[str, Any], stage: str, kept: bool) -> dict[str, Any]:
    language = str(row.get("language") or "python")
    sections = [("instruction", "text", cut(row.get("instruction")))]
    if row.get("code"):
        sections.append(("code", language, cut(row["code"])))
    if row.get("tests"):
        tests = row["tests"]
        sections.append(("tests", language if isinstance(tests, str) else "json", cut(tests)))
    sections += trace_sections(row.get("result"))
    extra = {k: row[k] for k in ("origin", "solve", "verification", "decontamination",
                                 "dedup") if row.get(k)}
    if extra:
        sections.append(("provenance", "json", cut(extra)))
    result = obj(row.get("result"))
    return {"source": stage, "outcome": "kept" if kept else "rejected",
            "reason": row.get("reason") or "", "id": str(row.get("id", "")),
            "status": result.get("status") or "", "title": _title(row.get("instruction")),
            "sections": [s for s in sections if s[2]]}


def _title(text: Any) -> str:
    line = str(text or "").strip().splitlines()
    return line[0][:160] if line else ""


def _pairs(data: RunData, path: Path) -> None:
    if not path.exists():
        return
    for row in read_jsonl(path, data.bad_lines):
        def make(row: dict[str, Any] = row) -> dict[str, Any]:
            failing = row.get("failing_tests")
            return {"source": "bug-fix pairs", "outcome": "kept",
                    "reason": str(row.get("bug_kind") or ""), "id": str(row.get("id", "")),
                    "status": "fail-to-pass", "title": _title(row.get("instruction")),
                    "sections": [s for s in (
                        ("diff (buggy -> fixed)", "diff", cut(row.get("diff"))),
                        ("buggy code", "python", cut(row.get("buggy_code"))),
                        ("tests", "python", cut(row.get("tests"))),
                        ("failing tests", "json", cut(failing) if failing else ""),
                        ("bug", "text", cut(row.get("bug_description")))) if s[2]]}
        data.samples.offer("bugs/kept", make)


def _repairs(data: RunData, path: Path) -> None:
    for row in read_jsonl(path, data.bad_lines):
        kind = str(row.get("kind") or "repair")
        data.repairs[kind] += 1
        steps = row.get("steps") if isinstance(row.get("steps"), list) else None
        if kind == "chain" and steps is not None:
            data.chain_lengths[len(steps)] += 1

        def make(row: dict[str, Any] = row, kind: str = kind) -> dict[str, Any]:
            sections = [("instruction", "text", cut(row.get("instruction")))]
            for number, step in enumerate(row.get("steps") or [], 1):
                if isinstance(step, dict):
                    sections.append((f"attempt {number}", "python", cut(step.get("code"))))
                    sections.append((f"attempt {number}: error", "json", cut(step.get("error"))))
            if not row.get("steps"):
                sections.append(("failed attempt", "python", cut(row.get("buggy_code"))))
                sections.append(("error", "json", cut(row.get("error"))))
            sections.append(("diff (last attempt -> fix)", "diff", cut(row.get("diff"))))
            return {"source": f"repairs ({path.name})", "outcome": kind,
                    "reason": "", "id": str(row.get("id", "")),
                    "status": str((row.get("error") or {}).get("status") or ""),
                    "title": _title(row.get("instruction")),
                    "sections": [s for s in sections if s[2]]}
        data.samples.offer(f"repairs/{kind}", make)


def matches(report: dict[str, Any], titles: dict[str, str]) -> list[dict[str, Any]]:
    """Each decontamination match, with the benchmark problem it hit (its text when the
    benchmark can still be read)."""
    found = [(kind, str(pair[0]), str(pair[1])) for kind in ("ngram", "execution")
             for pair in report.get(kind, []) if isinstance(pair, list | tuple)
             and len(pair) == 2]
    problems: dict[str, str] = {}
    if found:
        try:
            from codesynth.pipeline.decontam import load_benchmarks

            problems = {p.id: p.text for p in load_benchmarks(list(report.get("benchmarks",
                                                                              [])))}
        except Exception:  # noqa: BLE001 - a benchmark moved since the run: ids are enough
            problems = {}
    return [{"method": "n-gram overlap" if kind == "ngram" else "execution (solves it)",
             "candidate": candidate, "instruction": titles.get(candidate, ""),
             "problem": problem, "problem_text": problems.get(problem, "")}
            for kind, candidate, problem in found]
