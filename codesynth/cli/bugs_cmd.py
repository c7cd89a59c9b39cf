"""``codesynth bugs IN.jsonl -o PAIRS.jsonl``: bug-fix pairs, each proved by execution."""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.table import Table

from codesynth.cli._display import console
from codesynth.cli._llm_args import add_llm_options, endpoint, llm_config
from codesynth.cli._sandbox_args import add_sandbox_options, limits_from, open_during
from codesynth.errors import UserError
from codesynth.execute import execute_pairs
from codesynth.jsonl import AtomicJSONLWriter
from codesynth.records import Execution, Job, Limits
from codesynth.sandbox.protocol import Sandbox
from codesynth.verify import read_jobs, validate_file

CHUNK = 256  # inputs handled together: memory stays bounded whatever the input size


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "bugs", help="bug-fix pairs from passing programs (AST and LLM bugs), verified",
        description="Input: records in the verify format (id, code, tests, test_style, "
                    "entry_point) of programs that pass. Each original is re-verified; a "
                    "candidate bug is kept only if it fails a test the original passes. "
                    "Bugs that fail no test are counted per input in the report.")
    parser.add_argument("input", help="JSONL records (verify format)")
    parser.add_argument("-o", "--output", required=True, help="JSONL pairs")
    parser.add_argument("--strategy", choices=("ast", "llm", "all"), default="ast")
    parser.add_argument("--per-sample", type=int, default=4,
                        help="candidate bugs tried per input and strategy (default: 4)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random choice")
    parser.add_argument("--operators", default=None,
                        help="comma-separated AST operators (default: all)")
    parser.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    add_llm_options(parser)
    add_sandbox_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from codesynth.bugs.operators import OPERATORS
    from codesynth.bugs.pairs import Report

    if args.per_sample < 1:
        raise UserError("--per-sample must be at least 1")
    operators = None
    if args.operators:
        operators = [o.strip() for o in args.operators.split(",") if o.strip()]
        unknown = sorted(set(operators) - set(OPERATORS))
        if unknown:
            raise UserError(f"unknown operator(s) {', '.join(unknown)} "
                            f"(known: {', '.join(OPERATORS)})")
    limits = limits_from(args)
    output = AtomicJSONLWriter(args.output)
    sandbox, validation = open_during(args, limits, lambda: validate_file(args.input))
    report = Report()
    with sandbox, output as writer:
        if args.strategy == "ast":
            _pairs(args, sandbox, limits, operators, None, report, writer)
        else:
            config = llm_config(args)
            with endpoint(config) as base_url:
                _pairs(args, sandbox, limits, operators, (config, base_url), report, writer)
    summary = report.to_dict()
    report_path = Path(args.output + ".report.json")
    report_path.write_text(json.dumps(summary, indent=1) + "\n")
    _print(summary, args, validation.count, report_path)
    if args.json:
        sys.stdout.write(json.dumps({"input": args.input, "output": args.output,
                                     **summary}) + "\n")
    return 0


def _pairs(args: argparse.Namespace, sandbox: Sandbox, limits: Limits,
           operators: list[str] | None, llm: tuple[Any, str] | None, report: Any,
           writer: Any) -> None:
    from codesynth.bugs.pairs import judge

    def rng_for(*scope: object) -> random.Random:
        return random.Random(":".join(map(str, (args.seed, *scope))))

    records = read_jobs(args.input)
    with console.status("bugs") as status:
        while True:
            chunk = list(itertools.islice(records, CHUNK))
            if not chunk:
                return
            report.inputs += len(chunk)
            originals = _originals(sandbox, chunk, limits, report)
            passing = [(s, j) for s, j in chunk if j.id in originals]
            bugs: list[Any] = []
            if args.strategy in ("ast", "all"):
                bugs += _ast_bugs(passing, args.per_sample, operators, rng_for, args.seed)
            if llm is not None:
                bugs += _llm_bugs(llm, passing, args.per_sample, rng_for, report)
            pairs = ((bug, Job(id=f"{bug.original.id}~{index}", code=bug.code,
                               tests=bug.original.tests, test_style=bug.original.test_style,
                               entry_point=bug.original.entry_point))
                     for index, bug in enumerate(bugs))
            for record in judge(execute_pairs(sandbox, pairs, limits), originals, report):
                writer.write(record)
            status.update(f"bugs: {report.inputs} inputs, {sum(report.kept.values())} pairs, "
                          f"{sum(report.survived.values())} survivors")


def _originals(sandbox: Sandbox, chunk: list[tuple[dict[str, Any], Job]], limits: Limits,
               report: Any) -> dict[str, Execution]:
    """Re-verify the originals; only those that pass get bugs."""
    passed = {}
    for (_, job), execution in zip(chunk, sandbox.run_many([j for _, j in chunk], limits),
                                   strict=True):
        if execution.passed:
            passed[job.id] = execution
        else:
            report.originals_failed.append(job.id)
    return passed


def _ast_bugs(items: list[tuple[dict[str, Any], Job]], per_sample: int,
              operators: list[str] | None, rng_for: Any, seed: int) -> Iterator[Any]:
    from codesynth.bugs.operators import mutate
    from codesynth.bugs.pairs import Bug

    for source, job in items:
        rng = rng_for(job.id, "ast")
        mutants = mutate(job.code, rng, operators)
        for mutant in rng.sample(mutants, min(per_sample, len(mutants))):
            yield Bug(source, job, mutant.code, mutant.operator, mutant.description, "ast",
                      {"operator": mutant.operator, "line": mutant.line, "seed": seed})


def _llm_bugs(llm: tuple[Any, str], items: list[tuple[dict[str, Any], Job]],
              per_sample: int, rng_for: Any, report: Any) -> list[Any]:
    import asyncio

    from codesynth.bugs.llm_bugs import llm_bugs
    from codesynth.llm import LLM

    config, base_url = llm

    async def go() -> list[Any]:
        client = LLM(config, base_url)
        try:
            return await llm_bugs(client, items, per_sample, rng_for, report.rejected)
        finally:
            await client.close()

    return asyncio.run(go())


def _print(summary: dict[str, Any], args: argparse.Namespace, count: int,
           report_path: Path) -> None:
    table = Table(title=f"bugs: {args.input} -> {args.output}")
    for column in ("kind", "tried", "pairs", "survived"):
        table.add_column(column, justify="left" if column == "kind" else "right")
    for kind, row in summary["by_kind"].items():
        table.add_row(kind, str(row["tried"]), str(row["kept"]), str(row["survived"]))
    table.add_section()
    table.add_row("total", str(summary["bugs_tried"]), str(summary["pairs"]),
                  str(summary["survivors"]))
    console.print(table)
    failed = summary["originals_failed"]
    console.print(f"{count} input(s); {len(failed)} original(s) did not pass and got no bugs"
                  + (f" (e.g. {failed[0]})" if failed else "")
                  + f"; survivors per input in {report_path}", highlight=False)
    if summary["rejected"]:
        console.print("LLM rewrites rejected: " + ", ".join(
            f"{k} {v}" for k, v in sorted(summary["rejected"].items())), highlight=False)
