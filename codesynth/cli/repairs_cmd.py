"""``codesynth repairs VERIFIED.jsonl -o REPAIRS.jsonl``: repair pairs and chains from runs
with several candidates per task (failed attempt -> its error -> a passing fix)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from codesynth.cli._display import console
from codesynth.cli._sandbox_args import add_sandbox_options, limits_from, sandbox_from
from codesynth.errors import InputError, UserError
from codesynth.jsonl import AtomicJSONLWriter, read_objects


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "repairs", help="repair pairs and chains from verified candidates",
        description="Input: `codesynth verify` output (records with code and result) or "
                    "`codesynth eval humaneval -o` results (task_id, completion, result), "
                    "several candidates per task. Output: one `repair` record per distinct "
                    "failed attempt (with its error trace and the closest passing fix), and "
                    "a `chain` record for tasks with several failed attempts.")
    parser.add_argument("input", help="JSONL verification results")
    parser.add_argument("-o", "--output", required=True, help="JSONL repair records")
    parser.add_argument("--group-by", default="task_id",
                        help="field naming the task of each candidate (default: task_id)")
    parser.add_argument("--max-chain", type=int, default=3,
                        help="failed attempts per chain (default: 3)")
    parser.add_argument("--problems", default=None,
                        help="HumanEval problems for result rows (default: the shipped file)")
    parser.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    parser.add_argument("--select-fixes", action="store_true",
                        help="take fixes only from the passing candidates that agree most "
                             "(behaviour clusters on generated inputs, run in the sandbox): "
                             "weak tests let wrong programs pass")
    add_sandbox_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from codesynth.bugs.repairs import Attempt, attempt, repairs

    if args.max_chain < 2:
        raise UserError("--max-chain must be at least 2")
    problems = None
    groups: dict[str, list[Attempt]] = {}
    for line, record in read_objects(args.input):
        key = record.get(args.group_by)
        if not isinstance(key, str | int) or isinstance(key, bool):
            raise InputError(args.input, line, "is missing (tasks are grouped by it)",
                             args.group_by)
        if problems is None and "completion" in record and "code" not in record:
            from codesynth.humaneval import load_problems

            problems = load_problems(args.problems)
        try:
            groups.setdefault(str(key), []).append(attempt(record, problems, line))
        except ValueError as exc:
            raise InputError(args.input, line, str(exc), "result") from None
    if not groups:
        raise InputError(args.input, None, "no records (the file is empty)")
    counts = {"tasks": len(groups), "repair": 0, "chain": 0, "tasks_without_fix": 0}
    allowed = _agreeing_fixes(args, groups) if args.select_fixes else {}
    with AtomicJSONLWriter(args.output) as writer:
        for task, attempts in groups.items():
            if not any(a.passed for a in attempts):
                counts["tasks_without_fix"] += 1
            for record in repairs(task, attempts, args.max_chain, allowed.get(task)):
                counts[record["kind"]] += 1
                writer.write(record)
    console.print(f"repairs: {counts['repair']} pair(s) and {counts['chain']} chain(s) from "
                  f"{counts['tasks']} task(s); {counts['tasks_without_fix']} task(s) had no "
                  f"passing candidate", highlight=False)
    if args.json:
        sys.stdout.write(json.dumps({"input": args.input, "output": args.output,
                                     **counts}) + "\n")
    return 0


def _agreeing_fixes(args: argparse.Namespace, groups: dict[str, Any]) -> dict[str, set[int]]:
    """Per task, the passing attempts in the cluster selection chooses."""
    from codesynth.exec_cache import cached
    from codesynth.selection import select

    tasks = [(task, [{**a.task, "code": a.code, "result": a.result} for a in attempts])
             for task, attempts in groups.items() if any(a.passed for a in attempts)]
    limits = limits_from(args)
    with cached(sandbox_from(args, limits)) as sandbox:
        chosen = select(sandbox, tasks, limits)
    allowed = {}
    for (task, _), (index, scored) in zip(tasks, chosen, strict=True):
        if index is not None:
            cluster = scored[index].cluster
            allowed[task] = {s.index for s in scored if s.cluster == cluster and s.passed}
    return allowed
