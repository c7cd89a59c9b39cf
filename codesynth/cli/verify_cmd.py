"""``codesynth verify IN.jsonl -o OUT.jsonl``: run every record's tests in the sandbox."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rich.text import Text

from codesynth.cli._display import Tally, console, summary_table, track
from codesynth.cli._sandbox_args import add_sandbox_options, limits_from, open_during
from codesynth.execute import execute_pairs
from codesynth.jsonl import AtomicJSONLWriter
from codesynth.verify import read_jobs, validate_file


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "verify", help="execute records' tests in the sandbox and attach the verdict",
        description="Each input record (id, language, code, tests, test_style, entry_point) "
                    "comes out with all its fields plus result: {passed, status, ...trace}. "
                    "Exit status 0 when the run worked, whatever the verdicts.")
    parser.add_argument("input", help="JSONL records")
    parser.add_argument("-o", "--output", required=True, help="JSONL output")
    parser.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    add_sandbox_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    limits = limits_from(args)
    output = AtomicJSONLWriter(args.output)  # checks the path; creates nothing yet
    sandbox, validation = open_during(args, limits, lambda: validate_file(args.input))
    total = validation.count
    if validation.duplicates:
        console.print(Text(f"warning: {validation.duplicates} duplicate id(s), e.g. "
                           f"{validation.first_duplicate}; every record is verified",
                           style="yellow"))
    tally = Tally()
    with sandbox, output as writer:
        results = execute_pairs(sandbox, read_jobs(args.input), limits)
        for record, execution in track(results, total, "verify", tally):
            writer.write({**record, "result": execution.to_dict()})
    info = getattr(sandbox, "info", {})
    console.print(summary_table(tally, f"verify: {args.input} -> {args.output}",
                                caption=f"sandbox {args.sandbox}: {info.get('isolation', '')}"))
    if args.json:
        sys.stdout.write(json.dumps({"input": args.input, "output": args.output,
                                     "sandbox": args.sandbox, **tally.as_dict()}) + "\n")
    return 0

