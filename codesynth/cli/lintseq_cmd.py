"""``codesynth lintseq IN.jsonl -o EDITS.jsonl``: programs as insertion-only edit sequences."""

from __future__ import annotations

import argparse
import collections
import contextlib
import itertools
import json
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from codesynth.cli._display import LOG_EVERY, console
from codesynth.cli._sandbox_args import add_sandbox_options, limits_from, open_during
from codesynth.errors import UserError
from codesynth.jsonl import AtomicJSONLWriter
from codesynth.records import Job, Limits, content_id
from codesynth.sandbox.protocol import Sandbox
from codesynth.verify import read_jobs, validate_file

CHUNK = 256  # inputs sampled together: one lint call per round for all of them (ruff batches)
LINTERS = ("pyflakes", "ruff")  # codesynth.lintseq.LINTERS, without importing it at start-up


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "lintseq", help="LintSeq: programs as sequences of insertion-only edits",
        description="Input: records in the verify format (id, code, tests, test_style, "
                    "entry_point). Each program is cut back to nothing by deleting random "
                    "lines (and what the linter then finds broken); reversed, the states are "
                    "insertion-only edits (zero-context unified diffs) through programs that "
                    "all lint clean. Programs that do not parse or do not lint clean are "
                    "counted as rejected.")
    parser.add_argument("input", help="JSONL records (verify format)")
    parser.add_argument("-o", "--output", required=True, help="JSONL edit sequences")
    parser.add_argument("--samples", type=int, default=1,
                        help="edit sequences per input (default: 1)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random choice")
    parser.add_argument("--linter", choices=LINTERS, default="pyflakes",
                        help="the oracle (default: pyflakes)")
    parser.add_argument("--verified", action="store_true",
                        help="run every program's tests in the sandbox first; keep only the "
                             "programs that pass")
    parser.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    add_sandbox_options(parser)
    parser.set_defaults(handler=run)


@dataclass
class Report:
    inputs: int = 0
    sequences: int = 0
    edits: int = 0
    rejected: collections.Counter[str] = field(default_factory=collections.Counter)
    examples: dict[str, str] = field(default_factory=dict)  # reason -> first "id: message"
    seconds: float = 0.0

    def reject(self, reason: str, job_id: str, message: str) -> None:
        self.rejected[reason] += 1
        self.examples.setdefault(reason, f"{job_id}: {message}")

    def to_dict(self) -> dict[str, Any]:
        return {"inputs": self.inputs, "sequences": self.sequences,
                "rejected": dict(sorted(self.rejected.items())),
                "rejected_inputs": sum(self.rejected.values()),
                "edits_per_sequence": round(self.edits / self.sequences, 3)
                if self.sequences else None,
                "seconds": round(self.seconds, 3),
                "sequences_per_s": round(self.sequences / self.seconds, 2)
                if self.seconds else None}


def run(args: argparse.Namespace) -> int:
    from codesynth.lintseq import linter

    if args.samples < 1:
        raise UserError("--samples must be at least 1")
    try:
        oracle = linter(args.linter)
    except (ValueError, RuntimeError) as exc:
        raise UserError(str(exc)) from None
    limits = limits_from(args)
    output = AtomicJSONLWriter(args.output)  # checks the path; creates nothing yet
    sandbox: Sandbox | None = None
    if args.verified:
        sandbox, validation = open_during(args, limits, lambda: validate_file(args.input))
    else:
        validation = validate_file(args.input)
    if validation.duplicates:
        console.print(Text(f"warning: {validation.duplicates} duplicate id(s), e.g. "
                           f"{validation.first_duplicate}", style="yellow"))
    report = Report()
    started = time.perf_counter()
    with sandbox or contextlib.nullcontext(), output as writer, _progress() as progress:
        task = progress.add_task("lintseq", total=validation.count, done=0)
        records = read_jobs(args.input)
        next_line = started + LOG_EVERY
        while chunk := list(itertools.islice(records, CHUNK)):
            for record in _sequences(args, oracle, sandbox, limits, chunk, report):
                writer.write(record)
            progress.update(task, advance=len(chunk), done=report.sequences)
            if not console.is_terminal and time.perf_counter() >= next_line:
                next_line = time.perf_counter() + LOG_EVERY
                console.print(f"lintseq: {report.inputs}/{validation.count} inputs, "
                              f"{report.sequences} sequences", highlight=False)
    report.seconds = time.perf_counter() - started
    summary = report.to_dict()
    _print(args, report, summary)
    if args.json:
        sys.stdout.write(json.dumps({"input": args.input, "output": args.output,
                                     "linter": args.linter, "samples": args.samples,
                                     "seed": args.seed, "verified": args.verified,
                                     **summary}) + "\n")
    return 0


def _progress() -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("[green]{task.fields[done]} sequences"), TimeElapsedColumn(),
                    console=console, disable=not console.is_terminal, transient=False)


def _sequences(args: argparse.Namespace, oracle: Any, sandbox: Sandbox | None, limits: Limits,
               chunk: list[tuple[dict[str, Any], Job]], report: Report
               ) -> Iterator[dict[str, Any]]:
    from codesynth.lintseq import LintSeqError, edits, sample_states_many

    report.inputs += len(chunk)
    if sandbox is not None:
        kept = []
        executions = sandbox.run_many([job for _, job in chunk], limits)
        for item, execution in zip(chunk, executions, strict=True):
            if execution.passed:
                kept.append(item)
            else:
                report.reject(f"tests_{execution.status.value}", item[1].id,
                              execution.reason or execution.status.value)
        chunk = kept
    usable = []
    for record, job in chunk:
        if job.code:
            usable.append((record, job))
        else:
            report.reject("empty", job.id, "the program is empty")
    samples = args.samples
    items = [(job.code, random.Random(f"{args.seed}:{job.id}:{k}"))
             for _, job in usable for k in range(samples)]
    outcomes = sample_states_many(items, oracle)
    for index, (record, job) in enumerate(usable):
        mine = outcomes[index * samples:(index + 1) * samples]
        failure = next((o for o in mine if isinstance(o, LintSeqError)), None)
        if failure is not None:
            report.reject(failure.reason, job.id, str(failure))
            continue
        for k, states in enumerate(mine):
            assert not isinstance(states, LintSeqError)
            steps = edits(states)
            report.sequences += 1
            report.edits += len(steps)
            yield _record(args, record, job, k, steps)


def _record(args: argparse.Namespace, record: dict[str, Any], job: Job, k: int,
            steps: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": content_id("lintseq", job.id, job.code, args.linter, args.seed, k, steps),
        "source_id": record["id"], "sample": k, "seed": args.seed, "linter": args.linter,
        "edits": steps, "code": job.code}
    if "instruction" in record:
        out["instruction"] = record["instruction"]
    out["provenance"] = {"method": "lintseq", "source_id": record["id"], "linter": args.linter,
                         "seed": args.seed, "sample": k, "verified": args.verified,
                         "rng": f"{args.seed}:{job.id}:{k}", "edits": len(steps)}
    return out


def _print(args: argparse.Namespace, report: Report, summary: dict[str, Any]) -> None:
    table = Table(title=Text(f"lintseq ({args.linter}): {args.input} -> {args.output}"),
                  header_style="bold")
    table.add_column("")
    table.add_column("count", justify="right")
    table.add_row("inputs", str(report.inputs))
    table.add_row("sequences", str(report.sequences))
    for reason, count in sorted(report.rejected.items()):
        table.add_row(f"rejected: {reason}", str(count))
    table.add_section()
    if summary["edits_per_sequence"] is not None:
        table.add_row("edits/sequence", f"{summary['edits_per_sequence']:.1f}")
    table.add_row("seconds", f"{report.seconds:.2f}")
    if summary["sequences_per_s"] is not None:
        table.add_row("sequences/s", f"{summary['sequences_per_s']:.1f}")
    console.print(table)
    for reason, example in sorted(report.examples.items()):
        console.print(Text(f"rejected {reason}, e.g. {example}"), highlight=False)
