"""``codesynth report RUN_DIR|RESULTS.jsonl``: one self-contained HTML page."""

from __future__ import annotations

import argparse
from typing import Any

from codesynth.cli._display import console


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "report", help="an HTML report of a pipeline run or of evaluation results",
        description="Writes one self-contained HTML file (charts, tables and a searchable "
                    "sample of records; no network needed to view it) for a run directory "
                    "(`codesynth run`) or an evaluation results file (`codesynth eval "
                    "humaneval -o`), optionally compared with a second results file.")
    parser.add_argument("source", help="run directory, or evaluation results JSONL")
    parser.add_argument("-o", "--output", default=None,
                        help="HTML file (default: RUN_DIR/report.html, or "
                             "RESULTS.report.html next to the results)")
    parser.add_argument("--compare", default=None, metavar="B.jsonl",
                        help="a second evaluation results file: gained and lost problems, "
                             "change in pass@k")
    parser.add_argument("-k", default="1,10,100",
                        help="comma-separated k for pass@k (default 1,10,100)")
    parser.add_argument("--sample", type=int, default=25,
                        help="records shown per stage and outcome (default 25)")
    parser.add_argument("--open", action="store_true", help="open the report in a browser")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import webbrowser

    from codesynth.benchmarks.scoring import parse_ks
    from codesynth.errors import UserError
    from codesynth.report import write

    if not 0 <= args.sample <= 100_000:
        raise UserError(f"--sample: expected 0 to 100000, got {args.sample}")
    path = write(args.source, args.output, compare=args.compare,
                 ks=tuple(parse_ks(args.k)), sample=args.sample)
    console.print(f"report: {path}", highlight=False)
    if args.open:
        webbrowser.open(path.resolve().as_uri())
    return 0
