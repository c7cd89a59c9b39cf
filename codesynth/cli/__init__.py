"""The ``codesynth`` command line."""

from __future__ import annotations

import argparse
import importlib
import sys

from rich.text import Text

from codesynth import __version__
from codesynth.cli._display import console
from codesynth.errors import CodesynthError

# Each command's module, in the order ``--help`` lists them. Only the module of the command
# being run is imported (each pulls in its own dependencies: start-up time is throughput for
# a short `eval` or `verify`).
COMMANDS = {"verify": "verify_cmd", "eval": "eval_cmd", "sandbox": "sandbox_cmd",
            "generate": "generate_cmd", "bugs": "bugs_cmd", "repairs": "repairs_cmd",
            "run": "run_cmd", "lintseq": "lintseq_cmd"}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line, or only command ``only`` (what ``main`` needs to run it)."""
    parser = argparse.ArgumentParser(
        prog="codesynth",
        description="Synthesize code training data and verify it by execution in a sandbox.")
    parser.add_argument("--version", action="version", version=f"codesynth {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module in COMMANDS.items():
        if only is None or name == only:
            importlib.import_module(f"codesynth.cli.{module}").register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv[0] if argv and argv[0] in COMMANDS else None).parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except CodesynthError as exc:
        console.print(Text("error: ", style="bold red") + Text(str(exc)), highlight=False)
        return exc.exit_code
    except KeyboardInterrupt:
        console.print("[bold red]interrupted[/]: partial output kept as *.partial")
        return 130


if __name__ == "__main__":
    sys.exit(main())
