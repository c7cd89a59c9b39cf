"""The ``codesynth`` command line."""

from __future__ import annotations

import argparse
import sys

from rich.text import Text

from codesynth import __version__
from codesynth.cli import (
    bugs_cmd,
    eval_cmd,
    generate_cmd,
    lintseq_cmd,
    repairs_cmd,
    run_cmd,
    sandbox_cmd,
    verify_cmd,
)
from codesynth.cli._display import console
from codesynth.errors import CodesynthError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="codesynth",
        description="Synthesize code training data and verify it by execution in a sandbox.")
    parser.add_argument("--version", action="version", version=f"codesynth {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    verify_cmd.register(commands)
    eval_cmd.register(commands)
    sandbox_cmd.register(commands)
    generate_cmd.register(commands)
    bugs_cmd.register(commands)
    repairs_cmd.register(commands)
    run_cmd.register(commands)
    lintseq_cmd.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
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
