"""LintSeq's oracle: real linters that say which lines make a program *broken*.

Only error-class diagnostics count: a syntax error, or a message meaning the program cannot run
as written (a name that is not defined, ``return`` outside a function...). Warnings that deleting
code naturally produces (unused imports and variables, redefinitions, f-strings without
placeholders, format-string mismatches) never count: the paper's oracle only removes errors.
Both linters use the same classes, listed here as pyflakes message classes and ruff codes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

import pyflakes.api
import pyflakes.reporter

# pyflakes message class -> ruff code: the error classes (besides syntax errors, which both
# linters report separately). Absent classes in an older pyflakes simply never occur.
ERROR_CLASSES: dict[str, str] = {
    "UndefinedName": "F821",
    "UndefinedExport": "F822",
    "UndefinedLocal": "F823",
    "DuplicateArgument": "F831",  # recent ruff reports it as invalid-syntax
    "ImportStarNotPermitted": "F406",
    "LateFutureImport": "F404",
    "FutureFeatureNotDefined": "F407",
    "ReturnOutsideFunction": "F706",
    "YieldOutsideFunction": "F704",
    "ContinueOutsideLoop": "F702",
    "BreakOutsideLoop": "F701",
    "DefaultExceptNotLast": "F707",
    "TwoStarredExpressions": "F622",
    "TooManyExpressionsInStarredAssignment": "F621",
    "ForwardAnnotationSyntaxError": "F722",
    "LazyImportStarNotPermitted": "invalid-syntax",  # Python 3.15 lazy imports
    "LazyImportNotAtModuleScope": "invalid-syntax",
}
PYFLAKES_ERRORS = frozenset(ERROR_CLASSES)
# ruff's syntax errors: code "invalid-syntax" (ruff >= 0.12), "E999" or null before that
RUFF_SYNTAX = frozenset({"invalid-syntax", "E999", ""})
RUFF_ERRORS = frozenset(ERROR_CLASSES.values()) | RUFF_SYNTAX
RUFF_BATCH = 2000  # files per ruff process in a batch


class Linter(Protocol):
    """Says which lines of a program carry error-class diagnostics (1-based; [] = clean)."""

    name: str

    def error_lines(self, code: str) -> list[int]: ...

    def error_lines_many(self, codes: list[str]) -> list[list[int]]: ...


def _line_count(code: str) -> int:
    return max(1, code.count("\n") + (0 if code.endswith("\n") else 1))


def _within(lines: Iterable[int], last_line: int) -> list[int]:
    """Sorted, distinct, and on real lines: an error "at" the end of the file (line past the
    last, e.g. an unexpected EOF) belongs to the last line."""
    return sorted({min(max(line, 1), last_line) for line in lines})


class _Collector(pyflakes.reporter.Reporter):
    """A pyflakes reporter that keeps the lines of error-class diagnostics."""

    def __init__(self, last_line: int) -> None:
        self.lines: list[int] = []
        self.last_line = last_line

    def unexpectedError(self, filename: str, msg: str) -> None:
        self.lines.append(self.last_line)  # no location (e.g. undecodable): blame the end

    def syntaxError(self, filename: str, msg: str, lineno: int | None,
                    offset: int | None, text: str | None) -> None:
        self.lines.append(lineno if lineno else self.last_line)

    def flake(self, message: Any) -> None:
        if type(message).__name__ in PYFLAKES_ERRORS:
            self.lines.append(int(message.lineno))


class PyflakesLinter:
    """pyflakes through its Python API, in process (no subprocess, no files)."""

    name = "pyflakes"

    def error_lines(self, code: str) -> list[int]:
        collector = _Collector(_line_count(code))
        with warnings.catch_warnings():  # e.g. invalid escape sequences: not our concern
            warnings.simplefilter("ignore")
            pyflakes.api.check(code, "lintseq.py", collector)
        return _within(collector.lines, collector.last_line)

    def error_lines_many(self, codes: list[str]) -> list[list[int]]:
        return [self.error_lines(code) for code in codes]


def _ruff_binary() -> str:
    found = shutil.which("ruff")
    if found:
        return found
    try:
        from ruff import find_ruff_bin
    except ImportError:
        raise RuntimeError("ruff is not installed (pip install ruff)") from None
    return str(find_ruff_bin())


class RuffLinter:
    """``ruff check --select F`` in a subprocess: one call per program, or one call for a whole
    batch of programs written to a temporary directory (where spawning dominates, this pays)."""

    name = "ruff"

    def __init__(self, executable: str | None = None) -> None:
        self.executable = executable or _ruff_binary()
        # --isolated: no project config; --ignore-noqa: suppression comments hide nothing;
        # the running Python's version decides what parses, as it does for pyflakes.
        self.command = [self.executable, "check", "--isolated", "--no-cache", "--select", "F",
                        "--ignore-noqa", "--output-format", "json", "--target-version",
                        f"py3{sys.version_info.minor}"]

    def _run(self, extra: list[str], stdin: str | None) -> list[dict[str, Any]]:
        done = subprocess.run([*self.command, *extra], capture_output=True, check=False,
                              input=None if stdin is None else stdin.encode("utf-8",
                                                                            "surrogatepass"))
        if done.returncode not in (0, 1):
            raise RuntimeError(f"ruff failed (exit {done.returncode}): "
                               f"{done.stderr.decode(errors='replace').strip()}")
        rows: list[dict[str, Any]] = json.loads(done.stdout or b"[]")
        return rows

    @staticmethod
    def _lines(rows: list[dict[str, Any]], last_line: int) -> list[int]:
        lines = set()
        for row in rows:
            if (row.get("code") or "") in RUFF_ERRORS:
                location = row.get("location") or {}
                lines.add(int(location.get("row") or last_line))
        return _within(lines, last_line)

    def error_lines(self, code: str) -> list[int]:
        rows = self._run(["--stdin-filename", "lintseq.py", "-"], code)
        return self._lines(rows, _line_count(code))

    def error_lines_many(self, codes: list[str]) -> list[list[int]]:
        if len(codes) <= 1:
            return [self.error_lines(code) for code in codes]
        found: list[list[dict[str, Any]]] = [[] for _ in codes]
        with tempfile.TemporaryDirectory(prefix="lintseq-") as tmp:
            for start in range(0, len(codes), RUFF_BATCH):
                paths = []
                for index in range(start, min(start + RUFF_BATCH, len(codes))):
                    path = Path(tmp, f"{index}.py")
                    path.write_bytes(codes[index].encode("utf-8", "surrogatepass"))
                    paths.append(str(path))
                for row in self._run(paths, None):
                    found[int(Path(row["filename"]).stem)].append(row)
        return [self._lines(rows, _line_count(code))
                for rows, code in zip(found, codes, strict=True)]


LINTERS = ("pyflakes", "ruff")


def linter(name: str) -> Linter:
    """A linter by name: ``pyflakes`` (the default oracle) or ``ruff``."""
    if name == "pyflakes":
        return PyflakesLinter()
    if name == "ruff":
        return RuffLinter()
    raise ValueError(f"unknown linter {name!r} (known: {', '.join(LINTERS)})")
