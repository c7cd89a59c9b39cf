"""The ``codesynth`` command line."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from codesynth import __version__
from codesynth.cli import _prestart
from codesynth.errors import CodesynthError

# Each command's module, in the order ``--help`` lists them. Only the module of the command
# being run is imported (each pulls in its own dependencies: start-up time is throughput for
# a short `eval` or `verify`).
COMMANDS = {"verify": "verify_cmd", "eval": "eval_cmd", "sandbox": "sandbox_cmd",
            "generate": "generate_cmd", "bugs": "bugs_cmd", "repairs": "repairs_cmd",
            "run": "run_cmd", "lintseq": "lintseq_cmd",
            "report": "report_cmd", "serve": "serve_cmd"}


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


# Commands that always run programs: their sandbox starts before they are imported.
PRESTART = ("eval", "verify")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in PRESTART:
        _prestart.start(argv[1:])
    try:
        args = build_parser(argv[0] if argv and argv[0] in COMMANDS else None).parse_args(argv)
        return _run(args)
    finally:
        _prestart.discard()


def _run(args: argparse.Namespace) -> int:
    from rich.text import Text

    from codesynth.cli._display import console

    try:
        return int(args.handler(args) or 0)
    except CodesynthError as exc:
        console.print(Text("error: ", style="bold red") + Text(str(exc)), highlight=False)
        return exc.exit_code
    except KeyboardInterrupt:
        console.print("[bold red]interrupted[/]: what was written is kept; run the same "
                      "command again to resume (or pass --restart where it exists)")
        return 130


def run() -> None:
    """The ``codesynth`` program: ``main``. After ``eval`` and ``verify`` (whose files are all
    closed when ``main`` returns), exit without the interpreter's teardown of every module
    (~15 ms) when no other thread is left. Exit handlers still run."""
    import atexit
    import threading

    code = main()
    command = sys.argv[1] if len(sys.argv) > 1 else None
    if command not in PRESTART or threading.active_count() > 1:
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or 1
    os._exit(code)


if __name__ == "__main__":
    run()
