"""``codesynth verify IN.jsonl -o OUT.jsonl``: run every record's tests in the sandbox."""

from __future__ import annotations

import argparse
import collections
import json
import sys
from typing import Any

from rich.text import Text

from codesynth.cli._display import Tally, console, summary_table, track
from codesynth.cli._quality_args import add_quality_options, checks_from, with_cache
from codesynth.cli._sandbox_args import add_sandbox_options, limits_from, open_during
from codesynth.cli._verify_edges import (
    add_edge_case_options,
    check_edge_cases,
    edge_inputs,
)
from codesynth.cli._verify_edges import (
    fingerprint as edge_fingerprint,
)
from codesynth.execute import execute_pairs
from codesynth.jsonl import ResumableJSONLWriter, file_identity, read_objects
from codesynth.quality import checked
from codesynth.verify import (
    Validation,
    read_jobs,
    resumed_summary,
    validate_file,
    verdict_options,
)

RESTART_HELP = "discard the unfinished OUT.partial of an earlier run instead of continuing it"


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "verify", help="execute records' tests in the sandbox and attach the verdict",
        description="Each input record (id, language, code, tests, test_style, entry_point) "
                    "comes out with all its fields plus result: {passed, status, ...trace}. "
                    "Exit status 0 when the run worked, whatever the verdicts. A killed run "
                    "continues where it stopped when the same command is run again.")
    parser.add_argument("input", help="JSONL records")
    parser.add_argument("-o", "--output", required=True, help="JSONL output")
    parser.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    parser.add_argument("--restart", action="store_true", help=RESTART_HELP)
    add_sandbox_options(parser)
    add_quality_options(parser)
    add_edge_case_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    limits = limits_from(args)
    checks = checks_from(args)
    check_edge_cases(args)
    output = ResumableJSONLWriter(args.output, restart=args.restart)  # checks the path only
    kept: collections.Counter[str] = collections.Counter()

    edges_used = edge_fingerprint(args)

    def prepare() -> Validation:
        validation = validate_file(args.input)
        fingerprint = {"command": "verify", "input": file_identity(args.input),
                       "options": verdict_options(args, limits)}
        if checks.active:  # what the checks add depends on them (absent: as before)
            fingerprint["checks"] = checks.fingerprint()
        if edges_used is not None:  # absent without --edge-cases: as before
            fingerprint["edge_cases"] = edges_used
        if output.open_partial(fingerprint):
            for row in output.kept(read_objects(args.input), ("result",)):
                kept[str((row.get("result") or {}).get("status"))] += 1
        return validation

    sandbox, validation = open_during(args, limits, prepare)
    try:
        edges = edge_inputs(args, args.input)
    except BaseException:
        sandbox.close()
        raise
    sandbox = with_cache(sandbox, args)
    resumed = sum(kept.values())
    if validation.duplicates:
        console.print(Text(f"warning: {validation.duplicates} duplicate id(s), e.g. "
                           f"{validation.first_duplicate}; every record is verified",
                           style="yellow"))
    if resumed:
        console.print(Text(f"resuming: {resumed} of {validation.count} records kept from "
                           f"{output.partial}", style="yellow"))
    tally = Tally()
    with sandbox, output as writer:
        jobs = read_jobs(args.input, skip=resumed)
        results = (((r, t), e) for r, e, t in checked(sandbox, jobs, checks, limits,
                                                              extra_inputs=edges)) \
            if checks.active else (((r, None), e) for r, e in execute_pairs(sandbox, jobs,
                                                                               limits))
        for (record, tests), execution in track(results, validation.count - resumed,
                                                "verify", tally):
            added = {"augmented_tests": tests} if tests else {}
            writer.write({**record, **added, "result": execution.to_dict()})
    info = getattr(sandbox, "info", {})
    extra = {"resumed (kept)": str(resumed), "output total": str(validation.count)} \
        if resumed else None
    console.print(summary_table(tally, f"verify: {args.input} -> {args.output}", extra,
                                caption=f"sandbox {args.sandbox}: {info.get('isolation', '')}"))
    if args.json:
        summary = {"input": args.input, "output": args.output, "sandbox": args.sandbox,
                   **tally.as_dict()}
        sys.stdout.write(json.dumps(resumed_summary(summary, kept)) + "\n")
    return 0
