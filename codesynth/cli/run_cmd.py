"""``codesynth run PIPELINE.(toml|yaml)``: the whole pipeline, resumable."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rich.table import Table

from codesynth.cli._display import console


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "run", help="run a pipeline: generate, solve, verify, filter, dedup, decontaminate, "
                    "export (and bug-fix pairs)",
        description="Every stage streams into its own append-only file under the run's "
                    "output directory. Re-running the same command after a crash, SIGKILL or "
                    "Ctrl-C continues where it stopped; a changed configuration is refused.")
    parser.add_argument("pipeline", help="pipeline file (.toml, .yaml)")
    parser.add_argument("--output", default=None, help="run directory (overrides [run] output)")
    parser.add_argument("--restart", action="store_true",
                        help="delete the run directory's results and start again")
    parser.add_argument("--json", action="store_true", help="print the run summary on stdout")
    parser.add_argument("--allow-empty", action="store_true",
                        help="exit 0 even when the run keeps no record (also: [run] "
                             "allow_empty = true)")
    parser.add_argument("--executor", default=None,
                        help="where sandbox jobs run: local or ray (overrides [executor] name)")
    parser.add_argument("--ray-address", default=None,
                        help="--executor ray: the cluster to join (overrides [executor] "
                             "address)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from codesynth.pipeline import config
    from codesynth.pipeline.run import run as run_pipeline
    from codesynth.pipeline.view import progress_interval

    progress_interval()  # a bad CODESYNTH_PROGRESS_INTERVAL: said before any work
    pipeline = config.load(args.pipeline, output=args.output or None)
    _check_executor(pipeline, args)
    try:
        summary = run_pipeline(pipeline, args, console)
    except KeyboardInterrupt:
        console.print(f"[bold red]interrupted[/]: what was done is kept in {pipeline.output}; "
                      "run the same command again to continue", highlight=False)
        return 130
    table = Table(title=f"{pipeline.name} -> {pipeline.output}")
    for column in ("stage", "in", "out", "rejected (top reasons)"):
        table.add_column(column, justify="left" if column in ("stage", "rejected (top reasons)")
                         else "right")
    for stage, row in summary["stages"].items():
        reasons = sorted(row.get("rejected", {}).items(), key=lambda kv: -kv[1])[:3]
        table.add_row(stage, str(row.get("in", "")), str(row.get("out", "")),
                      ", ".join(f"{k} {v}" for k, v in reasons))
    console.print(table)
    console.print(f"dataset: {pipeline.output / 'dataset'}; summary: "
                  f"{pipeline.output / 'summary.json'}; report: "
                  f"{pipeline.output / 'report.html'}", highlight=False)
    if args.json:
        sys.stdout.write(json.dumps(summary) + "\n")
    if summary["records"] == 0:
        return _empty(summary, args.allow_empty or pipeline.allow_empty)
    return 0


def _empty(summary: dict[str, Any], allowed: bool) -> int:
    """No record kept: say where they went, and fail unless that was allowed."""
    from rich.text import Text

    last = next((name for name, row in summary["stages"].items()
                 if row.get("in") and not row.get("out")), None)
    where = f" (the {last} stage kept none of its {summary['stages'][last]['in']} inputs)" \
        if last else ""
    if allowed:
        console.print(f"warning: the run kept 0 records{where}", highlight=False)
        return 0
    console.print(Text("error: ", style="bold red") + Text(
        f"the run kept 0 records{where}; the dataset is empty. See the rejections above and "
        "in summary.json; pass --allow-empty (or set [run] allow_empty = true) to accept an "
        "empty dataset"), highlight=False)
    return 1


def _check_executor(pipeline: Any, args: argparse.Namespace) -> None:
    """--executor / --ray-address, checked before any work as the pipeline file is."""
    from codesynth.errors import UserError
    from codesynth.executors import problem
    from codesynth.pipeline.run import executor_of

    chosen = executor_of(pipeline, args)
    found = problem(chosen.get("name", "local"))
    if found is None and "address" in chosen and chosen.get("name", "local") == "local":
        found = "--ray-address applies to the ray executor only"
    if found:
        raise UserError(f"--executor: {found}" if args.executor else found)
