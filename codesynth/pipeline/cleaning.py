"""Dedup and decontamination stages."""

from __future__ import annotations

from typing import Any

from codesynth.execute import execute_pairs
from codesynth.pipeline.config import Pipeline
from codesynth.pipeline.decontam import NgramIndex, load_benchmarks, scan_job, scan_result
from codesynth.pipeline.dedup import Deduplicator
from codesynth.pipeline.stages import Counts, Tick, judged, kept
from codesynth.pipeline.state import StageFile
from codesynth.records import Limits, content_id
from codesynth.sandbox.protocol import Sandbox


def dedup(records: StageFile, out: StageFile, pipeline: Pipeline, tick: Tick) -> Counts:
    options = pipeline.dedup
    dedup = Deduplicator(fields=options.get("fields", ("instruction", "code")),
                         exact=bool(options.get("exact", True)),
                         near=bool(options.get("near", True)),
                         threshold=float(options.get("threshold", 0.8)),
                         num_perm=int(options.get("num_perm", 128)))
    counts = Counts()
    for record in kept(records):
        reason = dedup.check(record)
        row = judged("dedup", record, reason)
        out.write(row)
        counts.add(row)
        tick(counts)
    return counts


def decontaminate(records: StageFile, out: StageFile, pipeline: Pipeline, sandbox: Sandbox,
                  limits: Limits, tick: Tick) -> tuple[Counts, dict[str, Any]]:
    from codesynth.pipeline.decontam import scan_tests

    options = pipeline.decontaminate
    problems = load_benchmarks(list(options.get("benchmarks", ["humaneval"])))
    index = NgramIndex(problems, int(options.get("ngram", 10)))
    execution = bool(options.get("execution", True))
    tests = scan_tests(problems, float(options.get("check_timeout", 0.5)))
    scan_limits = Limits(timeout=max(limits.timeout, 60.0), memory_mb=limits.memory_mb,
                         max_processes=limits.max_processes, file_size_mb=limits.file_size_mb,
                         max_output=max(limits.max_output, 1 << 16))
    matches: dict[str, Any] = {"ngram": [], "execution": [], "unfinished": []}

    def pending() -> Any:
        for record in kept(records):
            row_id = content_id("decontaminate", record["id"])
            if row_id in out.done:
                continue
            hit = index.match(record)
            # The execution scan calls a Python module's functions: other languages, and
            # stdio programs (a script, no function to call), get the n-gram check only.
            if hit is not None or not execution \
                    or record.get("language", "python") != "python" \
                    or record.get("test_style") == "stdio":
                yield record, None, hit
            else:
                yield record, scan_job(record, tests), None

    def run_scans() -> Any:
        batch = []
        for item in pending():
            if item[1] is None:
                yield item, None
            else:
                batch.append(item)
                if len(batch) >= 64:
                    yield from _scan(batch)
                    batch = []
        yield from _scan(batch)

    def _scan(batch: list[Any]) -> Any:
        pairs = ((item, item[1]) for item in batch)
        yield from execute_pairs(sandbox, pairs, scan_limits)

    for (record, _, hit), result in run_scans():
        reason, detail = None, None
        if hit is not None:
            reason, detail = "ngram_overlap", {"benchmark": hit}
        elif result is not None:
            found = scan_result(result.stdout)
            if found:
                reason, detail = "solves_a_benchmark", {"benchmark": found[0][0],
                                                        "function": found[0][1]}
            elif found is None:
                detail = {"scan": "unfinished", "status": result.status.value}
        out.write(judged("decontaminate", record, reason, decontamination=detail))
    counts = Counts()
    for row in out.read():
        counts.add(row)
        detail = row.get("decontamination") or {}
        if row.get("reason") == "ngram_overlap":
            matches["ngram"].append([row["candidate_id"], detail.get("benchmark")])
        elif row.get("reason") == "solves_a_benchmark":
            matches["execution"].append([row["candidate_id"], detail.get("benchmark")])
        elif detail.get("scan") == "unfinished":
            matches["unfinished"].append(row["candidate_id"])
    tick(counts)
    return counts, {"benchmarks": options.get("benchmarks", ["humaneval"]),
                    "problems": len(problems), **matches}
