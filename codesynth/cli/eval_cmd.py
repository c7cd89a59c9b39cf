"""``codesynth eval humaneval SAMPLES.jsonl``: functional correctness and pass@k, in the sandbox."""

from __future__ import annotations

import argparse
import collections
import json
import sys
from typing import Any

from codesynth.cli._display import Tally, console, summary_table, track
from codesynth.cli._sandbox_args import add_sandbox_options, limits_from, open_during
from codesynth.errors import UserError
from codesynth.execute import execute_pairs
from codesynth.humaneval import load_problems, official_result, read_samples, validate_samples
from codesynth.jsonl import AtomicJSONLWriter
from codesynth.metrics import mean_pass_at_k


def register(commands: Any) -> None:
    parser = commands.add_parser("eval", help="evaluate samples against a benchmark")
    benchmarks = parser.add_subparsers(dest="benchmark", required=True, metavar="BENCHMARK")
    humaneval = benchmarks.add_parser(
        "humaneval", help="HumanEval functional correctness (pass@k)",
        description="Samples in the official human-eval format (task_id, completion). Result "
                    "rows mirror the official _results.jsonl (task_id, completion, passed, "
                    "result) plus the full trace under 'trace'.")
    humaneval.add_argument("samples", help="JSONL samples: task_id, completion")
    humaneval.add_argument("--problems", default=None,
                           help="problems JSONL(.gz) (default: HumanEval.jsonl.gz from the "
                                "human-eval package)")
    humaneval.add_argument("-o", "--output", default=None,
                           help="results JSONL (default: SAMPLES_results.jsonl)")
    humaneval.add_argument("-k", default="1,10,100", help="comma-separated k (default 1,10,100)")
    humaneval.add_argument("--json", action="store_true",
                           help="print a machine-readable summary on stdout")
    add_sandbox_options(humaneval, timeout=3.0)
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

    def load_and_validate() -> tuple[dict[str, dict[str, Any]], int]:
        problems = load_problems(args.problems)
        return problems, validate_samples(args.samples, problems)

    results_file = AtomicJSONLWriter(args.output or f"{args.samples}_results.jsonl")
    sandbox, (problems, total) = open_during(args, limits, load_and_validate)
    counts: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    tally = Tally()
    with sandbox, results_file as writer:
        results = execute_pairs(sandbox, read_samples(args.samples, problems), limits)
        for sample, execution in track(results, total, "humaneval", tally):
            counts[sample["task_id"]][0] += 1
            counts[sample["task_id"]][1] += int(execution.passed)
            writer.write({**sample, "passed": execution.passed,
                          "result": official_result(execution), "trace": execution.to_dict()})
        info = dict(getattr(sandbox, "info", {}))
    scores = mean_pass_at_k({t: (n, c) for t, (n, c) in counts.items()}, ks)
    extra = {name: f"{value:.4f}" for name, value in scores.items()}
    extra["problems"] = f"{len(counts)} of {len(problems)}"
    console.print(summary_table(tally, f"humaneval: {args.samples}", extra,
                                caption=f"sandbox {args.sandbox}: {info.get('isolation', '')}"))
    if len(counts) < len(problems):
        console.print(f"[yellow]note:[/] {len(problems) - len(counts)} problems have no sample; "
                      "pass@k averages over the attempted ones")
    if args.json:
        summary = {"benchmark": "humaneval", "samples": args.samples,
                   "results": str(results_file.path),
                   "problems_attempted": len(counts), "problems_total": len(problems),
                   "pass_at_k": scores, "sandbox": args.sandbox,
                   "isolation": info.get("isolation"), **tally.as_dict()}
        sys.stdout.write(json.dumps(summary) + "\n")
    else:
        sys.stdout.write(f"{scores}\n")
    return 0
