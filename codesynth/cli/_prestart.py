"""Starting a command's local sandbox before the command itself is even imported.

The runners take ~70 ms to be ready, the command's imports (rich, the records) ~60 ms: run
in parallel, a short ``eval`` or ``verify`` ends that much sooner. Only the options that
decide how the sandbox starts are read here; the command's own parser later checks the
whole command line, and ``take`` hands the sandbox over only if it was started as the
command asks (otherwise it is closed, and the command opens its own).
"""

from __future__ import annotations

import argparse
import threading
from typing import Any, NoReturn

_started: dict[str, Any] = {}


def key(args: argparse.Namespace) -> tuple[Any, ...] | None:
    """What decides how a command's sandbox starts; None when it is not started early."""
    if args.sandbox != "local" or args.image is not None or \
            getattr(args, "executor", "local") != "local" or \
            (args.workers is not None and args.workers < 1):
        return None
    return args.sandbox, args.workers, args.unsafe_no_isolation


class _Quiet(argparse.ArgumentParser):
    """Errors are left for the command's own parser to report, once."""

    def error(self, message: str) -> NoReturn:
        raise argparse.ArgumentError(None, message)


def _options(argv: list[str]) -> tuple[Any, ...] | None:
    from codesynth.cli._sandbox_args import add_sandbox_options

    parser = _Quiet(add_help=False, exit_on_error=False)
    add_sandbox_options(parser)  # the commands' own sandbox options, abbreviations included
    try:
        known, _ = parser.parse_known_args(argv)
    except argparse.ArgumentError:
        return None
    return key(known)


def start(argv: list[str]) -> None:
    """Start opening the sandbox that ``argv`` (a command's arguments) will ask for."""
    if _started or "-h" in argv or "--help" in argv:
        return
    wanted = _options(argv)
    if wanted is None:
        return
    box: dict[str, Any] = {}
    # Imported here, before the thread starts: the thread then only spawns the runners and
    # waits for them, instead of competing with the command's own imports for the GIL.
    import codesynth.sandbox.local  # noqa: F401
    from codesynth.sandbox import open_sandbox

    def open_it() -> None:
        try:
            box["sandbox"] = open_sandbox("local", workers=wanted[1],
                                          unsafe_no_isolation=wanted[2])
        except Exception:  # noqa: BLE001 - the command opens its own and reports why
            pass

    thread = threading.Thread(target=open_it, name="sandbox-prestart", daemon=True)
    thread.start()
    _started.update(key=wanted, thread=thread, box=box)


def take(wanted: tuple[Any, ...] | None) -> Any:
    """The sandbox started for ``wanted`` (see ``key``), or None."""
    if not _started:
        return None
    _started["thread"].join()
    sandbox = _started["box"].pop("sandbox", None)
    started_for = _started["key"]
    _started.clear()
    if sandbox is not None and started_for != wanted:
        sandbox.close()
        return None
    return sandbox


def discard() -> None:
    """Close a sandbox that was started but never taken (the command failed first)."""
    take(None)  # no command asks for this: closed
