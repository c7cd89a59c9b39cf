"""Test styles: how a program and its tests become a verdict, inside the sandbox.

Each style is a function ``run(job, evidence)`` that emits ``phase``/``test`` events and
exactly one ``final`` event once its last test returned. It runs in the forked job process,
after the sandbox has dropped privileges.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from codesynth.harness.evidence import Evidence
from codesynth.harness.inprocess import prepare_job, run_assert, run_humaneval
from codesynth.harness.pytest_style import run_pytest
from codesynth.harness.stdio import run_stdio

Style = Callable[[dict[str, Any], Evidence], None]

STYLES: dict[str, Style] = {
    "assert": run_assert,
    "humaneval": run_humaneval,
    "pytest": run_pytest,
    "stdio": run_stdio,
}


# The styles whose tests run in the program's own interpreter: compiled and warmed up by the
# runner before it forks.
IN_PROCESS = ("assert", "humaneval")


def prepare(job: dict[str, Any]) -> None:
    """Before the runner forks: compile the tests (cached: shared by every job that has them)
    and the program, so that the job finds them ready (see ``inprocess.prepare_job``).

    Very large test files are left to the job, which compiles them under its own limits."""
    if job["test_style"] not in IN_PROCESS or not isinstance(job.get("tests"), str) \
            or len(job["tests"]) > 200_000:
        return
    prepare_job(job)


def warm_up(style: str, evidence_fd: int, rounds: int = 12) -> None:
    """Run the harness of ``style`` in the runner itself on a passing and a failing toy job,
    ``rounds`` times: the interpreter specializes the harness's code there, once, instead of
    in every job (each job would write those pages: one copy-on-write fault each)."""
    if style not in IN_PROCESS:
        return
    import os
    import sys

    key = os.urandom(32)
    for _ in range(rounds):
        for answer in ("1", "2"):
            toy = dict(_TOY[style], code=f"def f():\n    return {answer}\n")
            prepare(toy)
            STYLES[style](toy, Evidence(evidence_fd, key))
    sys.modules.pop("solution", None)


_TOY = {
    "assert": {"test_style": "assert", "tests": "x = f()\nassert x == 1\nassert f() + x == 2\n"},
    "humaneval": {"test_style": "humaneval", "entry_point": "f",
                  "tests": "def check(candidate):\n    assert candidate() == 1\n"},
}


# Modules imported by the runner before it forks, so a job never pays for their import.
WARM_MODULES = {
    "pytest": ("pytest", "_pytest.python", "_pytest.assertion.rewrite"),
}

__all__ = ["IN_PROCESS", "STYLES", "WARM_MODULES", "Evidence", "Style", "prepare", "warm_up"]
