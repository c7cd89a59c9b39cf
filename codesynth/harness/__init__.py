"""Test styles: how a program and its tests become a verdict, inside the sandbox.

Each style is a function ``run(job, evidence)`` that emits ``phase``/``test`` events and
exactly one ``final`` event once its last test returned. It runs in the forked job process,
after the sandbox has dropped privileges.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from codesynth.harness.evidence import Evidence
from codesynth.harness.inprocess import prepare_assert, prepare_humaneval, run_assert, run_humaneval
from codesynth.harness.pytest_style import run_pytest
from codesynth.harness.stdio import run_stdio

Style = Callable[[dict[str, Any], Evidence], None]

STYLES: dict[str, Style] = {
    "assert": run_assert,
    "humaneval": run_humaneval,
    "pytest": run_pytest,
    "stdio": run_stdio,
}


def prepare(job: dict[str, Any]) -> None:
    """Warm the per-style caches in the runner before it forks (compiled tests are shared).

    Very large test files are left to the job, which compiles them under its own limits."""
    if not isinstance(job.get("tests"), str) or len(job["tests"]) > 200_000:
        return
    if job["test_style"] == "assert":
        prepare_assert(job["tests"])
    elif job["test_style"] == "humaneval":
        prepare_humaneval(job["tests"])


# Modules imported by the runner before it forks, so a job never pays for their import.
WARM_MODULES = {
    "pytest": ("pytest", "_pytest.python", "_pytest.assertion.rewrite"),
}

__all__ = ["STYLES", "WARM_MODULES", "Evidence", "Style", "prepare"]
