"""Test styles: how a program and its tests become a verdict.

Each style is a function ``run(job, evidence, session)`` that runs in the judge process of
a job (see ``judge``): it emits ``phase``/``test`` events and exactly one ``final`` event
once its last test returned. The program runs in another process, the judged one
(``judged``), reached through ``session`` (``remote``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from codesynth.harness.evidence import Evidence
from codesynth.harness.inprocess import run_assert, run_humaneval
from codesynth.harness.pytest_style import run_pytest
from codesynth.harness.stdio import run_stdio

Style = Callable[[dict[str, Any], Evidence, Any], None]

def _by_language(python: Style) -> Style:
    """Python's own style, or, for another language, its calls run by a driver."""
    def run(job: dict[str, Any], evidence: Evidence, session: Any) -> None:
        if job.get("language", "python") == "python":
            python(job, evidence, session)
        else:
            from codesynth.harness.compiled_tests import run_compiled_assert

            run_compiled_assert(job, evidence, session)
    return run


def _native(job: dict[str, Any], evidence: Evidence, session: Any) -> None:
    from codesynth.harness.compiled_tests import run_native

    run_native(job, evidence, session)


STYLES: dict[str, Style] = {
    "assert": _by_language(run_assert),
    "humaneval": _by_language(run_humaneval),
    "pytest": run_pytest,
    "stdio": run_stdio,
    "native": _native,
}

# Modules the zygote imports before it makes jobs of a style, so a job never pays for them.
WARM_MODULES = {
    "pytest": ("pytest", "_pytest.python", "_pytest.assertion.rewrite"),
    # the judge's side of every job in another language (each style imports it per job):
    # warmed by the runner at its first such job (~17 ms less per job, measured on C++)
    # (with every language's driver module, which the forms import lazily: rust.py alone
    # was ~2 ms of bytecode compiling in every Rust job's judge)
    "compiled": ("codesynth.harness.compiled_tests", "codesynth.harness.drivers.native",
                 "codesynth.harness.drivers.frameworks", "codesynth.java_source",
                 *(f"codesynth.harness.drivers.{name}" for name in (
                     "cpp", "go", "java", "javascript", "rust", "native_go", "native_js",
                     "crates"))),
}

__all__ = ["STYLES", "WARM_MODULES", "Evidence", "Style"]
