"""Warming the runner up for a test style, once, before it forks jobs of that style."""

from __future__ import annotations

import gc
from collections.abc import Callable

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
