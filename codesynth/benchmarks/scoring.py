"""Scoring a samples file: every sample's jobs in the sandbox, result rows streamed to
``RESULTS.partial`` (a killed run resumes), pass@k, and the run's record (``RESULTS.run.json``:
what it used and what it found; always after sampling, with ``--record`` otherwise)."""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

from rich.table import Table
from rich.text import Text

from codesynth import __version__
from codesynth.benchmarks.base import Benchmark, Problems, Source
from codesynth.benchmarks.results import Scores, traces
from codesynth.cli._display import Tally, console, summary_table, track
from codesynth.cli._quality_args import with_cache
from codesynth.cli._sandbox_args import limits_from, open_during
from codesynth.errors import InputError, UserError
from codesynth.execute import execute_pairs
from codesynth.jsonl import ResumableJSONLWriter, file_identity, read_objects
from codesynth.records import Execution, Job
from codesynth.verify import resumed_summary, verdict_options


def parse_ks(text: str) -> list[int]:
    try:
        ks = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise UserError(f"-k: expected comma-separated integers, got {text!r}") from None
    if not ks or any(k < 1 for k in ks):
        raise UserError(f"-k: expected positive integers, got {text!r}")
    return ks


def results_path(args: argparse.Namespace) -> str:
    return str(args.output or f"{args.samples}_results.jsonl")


def manifest_path(results: Path) -> Path:
    name = results.name[:-len(".jsonl")] if results.name.endswith(".jsonl") else results.name
    return results.with_name(name + ".run.json")


def validate(bench: Benchmark, path: str, problems: Problems) -> int:
    count = 0
    for line, record in read_objects(path):
        bench.check_sample(record, path, line, problems)
        count += 1
    if count == 0:
        raise InputError(path, None, "no samples (the file is empty)")
    return count


Payload = tuple[dict[str, Any], int, int, str]  # sample, part index, parts, task id


def sample_jobs(bench: Benchmark, path: str, problems: Problems, sanitize: bool,
                skip: int = 0) -> Iterator[tuple[Payload, Job]]:
    for line, record in read_objects(path):
        if skip:
            skip -= 1
            continue
        problem = bench.check_sample(record, path, line, problems)
        sample = record
        if sanitize:
            code = bench.sanitize_sample(problem, record)
            sample = {**record, "sanitized": code}
            record = bench.with_code(record, code)
        jobs = bench.jobs(problem, record, f"{record['task_id']}#{line}")
        for index, job in enumerate(jobs):
            yield (sample, index, len(jobs), problem.task_id), job


def score(args: argparse.Namespace, bench: Benchmark, run: dict[str, Any] | None = None,
          loaded: tuple[Problems, Source] | None = None, ahead: Any = None) -> int:
    """``eval BENCH SAMPLES``. ``run``: what sampling used (model, parameters), when it made
    the samples; ``loaded``: the problems, when sampling loaded them already; ``ahead``: an
    :class:`~codesynth.benchmarks.overlap.Overlap` that scored the samples while they were
    made (its sandbox is used; a results file being resumed is refused to it)."""
    ks = parse_ks(args.k)
    limits = limits_from(args)
    sanitize = bool(getattr(args, "sanitize", False))
    added = bench.added + (("sanitized",) if sanitize else ())
    results_file = ResumableJSONLWriter(results_path(args), restart=args.restart)
    scores = Scores(bench.metrics)
    kept: collections.Counter[str] = collections.Counter()
    started = time.monotonic()

    def prepare() -> tuple[Problems, Source, int]:
        if not Path(args.samples).exists():
            raise UserError(f"{args.samples}: no such file")
        problems, source = loaded or bench.load(args.problems, getattr(args, "dataset", None),
                                                getattr(args, "split", None))
        total = validate(bench, args.samples, problems)
        fingerprint: dict[str, Any] = {
            "command": f"eval {bench.name}", "input": file_identity(args.samples),
            "problems": source.identity, "options": verdict_options(args, limits)}
        extra = {**bench.option_values(), **({"sanitize": True} if sanitize else {})}
        if extra:
            fingerprint["benchmark_options"] = extra
        if results_file.open_partial(fingerprint):
            for row in results_file.kept(read_objects(args.samples), added):
                key = bench.sample_key(row)
                task = problems[key].task_id if key in problems else str(key)
                scores.add(task, bench.passed(row), row)
                statuses = [t.get("status") for t in traces(row)] or [None]
                kept[str(next((s for s in statuses if s != "passed"), statuses[0]))] += 1
        return problems, source, total

    if ahead is not None:
        sandbox = ahead.sandbox
        try:
            problems, source, total = prepare()
        except BaseException:
            ahead.abandon()
            sandbox.close()
            raise
        if kept:  # a partial results file was resumed after all: the rows must match it
            ahead.abandon()
            ahead = None
    else:
        sandbox, (problems, source, total) = open_during(args, limits, prepare)
        sandbox = with_cache(sandbox, args)
    resumed = sum(kept.values())
    if resumed:
        console.print(Text(f"resuming: {resumed} of {total} samples kept from "
                           f"{results_file.partial}", style="yellow"))
    tally = Tally()
    with sandbox, results_file as writer:
        if ahead is not None:
            try:
                for (task, row), _ in track(ahead.rows(), total, bench.name, tally):
                    scores.add(task, bench.passed(row), row)
                    writer.write(row)
            finally:
                ahead.close()
        else:
            pairs = sample_jobs(bench, args.samples, problems, sanitize, skip=resumed)
            for (sample, _, _, task), executions in track(
                    _whole(execute_pairs(sandbox, pairs, limits)), total - resumed,
                    bench.name, tally):
                row = {**sample, **bench.row(sample, list(cast(_Executions, executions)))}
                scores.add(task, bench.passed(row), row)
                writer.write(row)
        info = dict(getattr(sandbox, "info", {}))
    passes, skipped = scores.pass_at_k(ks)
    _report(args, bench, scores, passes, skipped, problems, tally, resumed, info)
    summary = {"benchmark": bench.name, "samples": args.samples,
               "results": str(results_file.path),
               "problems_attempted": len(scores.tasks()), "problems_total": len(problems),
               "pass_at_k": passes, "pass_at_k_skipped": skipped, "sandbox": args.sandbox,
               "isolation": info.get("isolation"), **tally.as_dict()}
    summary = resumed_summary(summary, kept)
    summary.update({
        "failures": scores.failure_counts(), "problems": source.label,
        "problems_sha256": source.sha256, "limits": limits.to_dict(),
        "benchmark_options": {**bench.option_values(), "sanitize": sanitize},
        "codesynth_version": __version__, "runtime": info.get("runtime"),
        "scoring_seconds": round(time.monotonic() - started, 3),
        **(run or {}), "run": str(manifest_path(results_file.path))})
    if run is not None or getattr(args, "record", False):
        manifest = {**summary, "per_problem": scores.per_problem()}
        manifest_path(results_file.path).write_text(json.dumps(manifest, indent=1) + "\n",
                                                    encoding="utf-8")
    else:
        summary["run"] = None
    if args.json:
        sys.stdout.write(json.dumps(summary) + "\n")
    else:
        sys.stdout.write(f"{passes}\n")
    return 0


def _whole(pairs: Iterator[tuple[Payload, Execution]]) -> Iterator[tuple[Payload, Any]]:
    """One item per sample, with the executions of all its jobs (in order)."""
    gathered: list[Execution] = []
    for (sample, index, parts, task), execution in pairs:
        gathered.append(execution)
        if index == parts - 1:
            yield (sample, index, parts, task), _Executions(gathered)
            gathered = []


class _Executions(list):  # type: ignore[type-arg]
    """A sample's executions, with the status the progress display counts (the worst)."""

    @property
    def status(self) -> Any:
        return next((e.status for e in self if not e.passed), self[0].status)

    @property
    def passed(self) -> bool:
        return all(e.passed for e in self)


def _report(args: argparse.Namespace, bench: Benchmark, scores: Scores, passes: dict[str, Any],
            skipped: dict[str, Any], problems: Problems, tally: Tally, resumed: int,
            info: dict[str, Any]) -> None:
    extra: dict[str, str] = {}
    if bench.metrics == ("",):
        extra.update({name: f"{value:.4f}" for name, value in passes.items()})
        notes = skipped
    else:
        for metric in bench.metrics:
            extra.update({f"{name} ({metric})": f"{value:.4f}"
                          for name, value in passes[metric].items()})
        notes = skipped[bench.metrics[0]]
    attempted = len(scores.tasks())
    extra["problems"] = f"{attempted} of {len(problems)}"
    if resumed:
        extra["resumed (kept)"] = str(resumed)
    console.print(summary_table(tally, f"{bench.name}: {args.samples}", extra,
                                caption=f"sandbox {args.sandbox}: {info.get('isolation', '')}"))
    if attempted < len(problems):
        console.print(f"[yellow]note:[/] {len(problems) - attempted} problems have no sample; "
                      "pass@k averages over the attempted ones")
    for name, reason in notes.items():
        console.print(Text.assemble(("note: ", "yellow"), f"{name} not reported: {reason}"))
    if getattr(args, "per_problem", False):
        console.print(per_problem_table(scores))
        failures = ", ".join(f"{k} {v}" for k, v in scores.failure_counts().items() if v)
        console.print(Text(f"failures: {failures or 'none'}"), highlight=False)


def per_problem_table(scores: Scores) -> Table:
    table = Table(title="per problem", header_style="bold")
    table.add_column("task")
    table.add_column("n", justify="right")
    for metric in scores.metrics:
        table.add_column(f"correct {metric}".strip(), justify="right")
    for task, entry in scores.per_problem().items():
        table.add_row(task, str(entry["n"]), *(str(value) for key, value in entry.items()
                                               if key.startswith("correct")))
    return table
