"""``codesynth generate METHOD --seeds PATH --n N -o OUT.jsonl``: instructions (and code)
from a model, streamed record by record; re-running on the same output resumes.

The method's ``--param`` values are checked against its declared parameters before the model
starts. Progress moves with every request, reply and rejection: with stderr a terminal, a
live row refreshed every half second; otherwise a plain line every
``CODESYNTH_PROGRESS_INTERVAL`` seconds (default 10), even when nothing is kept. Rejections
go to ``OUT.rejected.jsonl`` as they happen. Every exit (the end, a budget stop, Ctrl-C, a
dead model server) leaves both files flushed and says how many records ``OUT`` holds.
Exit status: 0, or 1 when no record was kept (unless ``--allow-empty``), 2 for bad input, 3
when the model server is dead or unreachable, 130 after Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.text import Text

from codesynth.cli._display import console
from codesynth.cli._llm_args import add_llm_options, endpoint, llm_config
from codesynth.cli._sandbox_args import add_sandbox_options, limits_from
from codesynth.errors import InfrastructureError, UserError
from codesynth.registry import generators


class _Formatter(argparse.HelpFormatter):
    """Wraps the description; the methods epilog, laid out already, is printed as is."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


class _Help(argparse.Action):
    """``-h``: the help, with every method's parameters (their modules imported only now)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS,
                 default: Any = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=default, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        parser.epilog = methods_help()
        parser.print_help()
        parser.exit()


def methods_help() -> str:
    """Every generator (built-in or plugin) with its parameters, from their declarations."""
    from codesynth.generators.params import declared

    width = max(60, shutil.get_terminal_size().columns - 2)  # as argparse's own text
    lines = ["methods and their parameters (--param KEY=VALUE):"]
    for name in generators.names():
        lines.append(f"  {name}")
        try:
            schema = declared(generators.get(name))
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not break --help
            lines.append(f"    (cannot be loaded: {exc})")
            continue
        if schema is None:
            lines.append("    (parameters not declared: passed through unchecked)")
        for param in schema or ():
            lines.extend(textwrap.wrap(param.describe(), width, initial_indent=" " * 4,
                                       subsequent_indent=" " * 6))
        if schema == ():
            lines.append("    (no parameters)")
    return "\n".join(lines) + "\n"


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "generate", help="generate tasks and code with a model (self-instruct, evol-instruct, "
                         "oss-instruct, self-align, refactor, optimize, nl2sql, translate)",
        description="Records stream to OUT as they are made; re-running the same command on "
                    "the same OUT resumes (replies come from the response cache, so nothing "
                    "is asked twice). Without --base-url or OPENAI_BASE_URL, the embedded "
                    "SmolLM2-135M-Instruct model is started locally.",
        formatter_class=_Formatter, add_help=False)
    parser.add_argument("-h", "--help", action=_Help,
                        help="show this help, with every method's parameters, and exit")
    parser.add_argument("method", help="generator: " + ", ".join(generators.builtin_names())
                        + ", or the name of an installed plugin")
    parser.add_argument("--seeds", default="seeds", help="seed tasks/snippets (default: seeds)")
    parser.add_argument("--n", type=int, required=True, help="records to produce")
    parser.add_argument("-o", "--output", required=True, help="JSONL output (appended)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random choice")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="a parameter of the method (listed below)")
    parser.add_argument("--allow-empty", action="store_true",
                        help="exit 0 even when no record is kept (default: exit 1)")
    parser.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    add_llm_options(parser)
    add_sandbox_options(parser)
    parser.set_defaults(handler=run)


def _params(pairs: list[str]) -> dict[str, str]:
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UserError(f"--param {pair!r}: expected KEY=VALUE")
        params[key.strip()] = value.strip()
    return params


# Flags checked against the pipeline's [llm] ranges (schema.py): one place for them all.
_FLAGS = {"concurrency": "--concurrency", "temperature": "--temperature",
          "max_tokens": "--max-tokens", "budget_requests": "--budget-requests",
          "budget_tokens": "--budget-tokens"}
_SOURCES = {"base_url": "--base-url, OPENAI_BASE_URL or [llm] base_url",
            "api_key": "OPENAI_API_KEY or [llm] api_key", "cache": "--cache or [llm] cache"}


def _check_args(args: argparse.Namespace) -> None:
    """The numbers given as flags, in the ranges a pipeline file allows (a budget of 0 is
    allowed here: it stops before the first request)."""
    import dataclasses

    from codesynth.pipeline import schema

    specs = {"n": schema.SCHEMA["generate"]["n"], "seed": schema.SCHEMA["run"]["seed"],
             **{key: schema.LLM_RANGES[key] for key in _FLAGS}}
    for key in ("budget_requests", "budget_tokens"):
        specs[key] = dataclasses.replace(specs[key], low=0)
    for key, spec in specs.items():
        value = getattr(args, key, None)
        problem = spec.check(value) if value is not None else None
        if problem:
            raise UserError(f"{_FLAGS.get(key, '--' + key)}: {problem}")


def _check_config(config: Any) -> None:
    """Where the model is and what is sent to it, whichever source set them."""
    from codesynth.pipeline import schema

    for key, source in _SOURCES.items():
        value = getattr(config, key, None)
        problem = schema.LLM_RANGES[key].check(value) if value is not None else None
        if problem:
            raise UserError(f"{source}: {problem}")


def _check_output(output: Path) -> None:
    from codesynth.pipeline.inputs import place_problem

    for path in (output, output.with_name(output.name + ".rejected.jsonl")):
        problem = place_problem(path, directory=False)
        if problem:
            raise UserError(f"-o {output}: {problem}")


def run(args: argparse.Namespace) -> int:
    from codesynth.cli._generate_run import generate, resume
    from codesynth.generators.params import check_params
    from codesynth.pipeline.inputs import seeds_problem
    from codesynth.pipeline.view import progress_interval

    _check_args(args)
    generator = generators.get(args.method)()
    params = check_params(args.method, _params(args.param), f"generate {args.method}:")
    seeds = Path(args.seeds)
    if not seeds.exists():
        raise UserError(f"{seeds}: seeds not found")
    problem = seeds_problem(args.method, seeds)
    if problem:
        raise UserError(f"--seeds: {problem}")
    config = llm_config(args)
    _check_config(config)
    output = Path(args.output)
    _check_output(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    done = resume(output)
    limits = limits_from(args)
    progress_interval()  # a bad CODESYNTH_PROGRESS_INTERVAL: said before the model starts
    import asyncio  # here: the commands that do not need it start faster

    try:
        with endpoint(config) as base_url:
            summary = asyncio.run(generate(args, generator, params, config, base_url, seeds,
                                           output, done, limits))
    except KeyboardInterrupt:
        console.print(Text(f"interrupted: {len(done)} record(s) kept in {output}; re-run the "
                           "same command to resume", style="bold red"), highlight=False)
        return 130
    except InfrastructureError:
        console.print(Text(f"{len(done)} record(s) kept in {output}"), highlight=False)
        raise
    _report(args, summary, output)
    if args.json:
        sys.stdout.write(json.dumps(summary) + "\n")
    if summary["kept"] == 0 and not args.allow_empty:
        return 1
    return 0


def _report(args: argparse.Namespace, summary: dict[str, Any], output: Path) -> None:
    llm = summary["llm"]
    console.print(Text(f"{args.method}: {summary['kept']} record(s) in {output} "
                       f"({summary['new']} new), {summary['rejected_total']} rejected; "
                       f"{summary['requests_sent']} request(s), {llm['cache_hits']} from cache, "
                       f"{llm['tokens']} token(s)"), highlight=False)
    if summary["rejected"]:
        console.print("  rejected: " + ", ".join(f"{k} {v}" for k, v in
                                                  sorted(summary["rejected"].items())),
                      highlight=False)
    if summary["kept"] == 0:
        hint = "" if args.allow_empty else " (exit status 1; --allow-empty accepts this)"
        console.print(Text(f"0 records kept{hint}; the rejections are in "
                           f"{summary['rejections_log']}", style="bold red"), highlight=False)

