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
from typing import Any

_started: dict[str, Any] = {}


def _options(argv: list[str]) -> tuple[Any, ...] | None:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--sandbox", default="local")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--unsafe-no-isolation", action="store_true")
    parser.add_argument("--image", default=None)
    try:
        known, _ = parser.parse_known_args(argv)
    except (SystemExit, ValueError, TypeError):
        return None
    if known.sandbox != "local" or known.image is not None or \
            (known.workers is not None and known.workers < 1):
        return None
    return known.sandbox, known.workers, known.unsafe_no_isolation


def start(argv: list[str]) -> None:
    """Start opening the sandbox that ``argv`` (a command's arguments) will ask for."""
    if _started or "-h" in argv or "--help" in argv:
        return
    key = _options(argv)
    if key is None:
        return
    box: dict[str, Any] = {}
    # Imported here, before the thread starts: the thread then only spawns the runners and
    # waits for them, instead of competing with the command's own imports for the GIL.
    import codesynth.sandbox.local  # noqa: F401
    from codesynth.sandbox import open_sandbox

    def open_it() -> None:
        try:
            box["sandbox"] = open_sandbox("local", workers=key[1],
                                          unsafe_no_isolation=key[2])
        except Exception:  # noqa: BLE001 - the command opens its own and reports why
            pass

    thread = threading.Thread(target=open_it, name="sandbox-prestart", daemon=True)
    thread.start()
    _started.update(key=key, thread=thread, box=box)


def take(key: tuple[Any, ...]) -> Any:
    """The sandbox started for ``key`` (backend, workers, unsafe), or None."""
    if not _started:
        return None
    _started["thread"].join()
    sandbox = _started["box"].pop("sandbox", None)
    started_for = _started["key"]
    _started.clear()
    if sandbox is not None and started_for != key:
        sandbox.close()
        return None
    return sandbox


def discard() -> None:
    """Close a sandbox that was started but never taken (the command failed first)."""
    take(())  # no command asks for this key: closed
