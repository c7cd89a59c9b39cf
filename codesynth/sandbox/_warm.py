"""Warming the runner up for a test style, once, before it forks jobs of that style."""

from __future__ import annotations

import functools
import gc
import marshal
from collections.abc import Callable
from typing import Any

from codesynth.harness import WARM_MODULES
from codesynth.sandbox import _linux as L
from codesynth.sandbox._jobspace import rmtree
from codesynth.sandbox._rootfs import RUNNER_SCRATCH


def warm_style(style: str, make_scratch: Callable[[str], str] | None) -> None:
    """Import (and exercise) what ``style`` needs. ``make_scratch``: how to get a writable
    directory for the runner's own use (removed afterwards); None: mount the runner's own
    tmpfs (its root is read-only)."""
    for module in WARM_MODULES.get(style, ()):
        __import__(module)
    if style == "pytest":
        from codesynth.harness.pytest_style import warm_up as warm_pytest

        if make_scratch is not None:
            workdir = make_scratch("codesynth-warm-")
        else:
            L.mount("tmpfs", RUNNER_SCRATCH, "tmpfs", L.MS_NOSUID | L.MS_NODEV,
                    "mode=0700,size=8m")
            workdir = RUNNER_SCRATCH
        try:
            warm_pytest(workdir)
        except Exception:  # noqa: BLE001 - only a speed-up; jobs report real problems
            pass
        finally:
            if workdir != RUNNER_SCRATCH:
                rmtree(workdir)
    gc.collect()  # the warm-up's garbage (toy modules are cycles), not frozen with the rest
    gc.freeze()


@functools.lru_cache(maxsize=256)
def _compiled(style: str, tests: str) -> bytes:
    from codesynth.harness.inprocess import prepare_assert

    try:
        if style == "assert":
            return marshal.dumps((prepare_assert(tests), None))
        return marshal.dumps(_humaneval(tests))
    except Exception:  # noqa: BLE001 - too deep, too large: the judge compiles and reports
        return b""


def _humaneval(tests: str) -> tuple[Any, Any]:
    """The tests compiled and the calls they will make when known in advance
    (``harness._plan``), from one parse."""
    import ast

    from codesynth.harness._plan import humaneval_plan
    from codesynth.harness.inprocess import prepare_humaneval

    try:
        tree = ast.parse(tests, "tests.py")
        plan = humaneval_plan(tree)  # first: compiling rewrites the asserts in the tree
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return prepare_humaneval(tests), None
    return prepare_humaneval(tests, tree), plan


def compiled_tests(style: str, tests: object) -> bytes:
    """The tests of an ``assert`` or ``humaneval`` job compiled here, once per distinct text,
    for the judge, with the calls they will make when known (``marshal`` of both: the
    runner's own data, never the program's); b"" for the other styles (the judge then does
    it itself)."""
    if style not in ("assert", "humaneval") or not isinstance(tests, str):
        return b""
    return _compiled(style, tests)
