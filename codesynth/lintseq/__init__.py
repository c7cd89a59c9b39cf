"""LintSeq: programs as sequences of insertion-only edits, every state linting clean."""

from codesynth.lintseq.core import (
    LintSeqError,
    apply_edit,
    check_program,
    diff_insertions,
    edits,
    lintseq,
    replay,
    sample_states,
    sample_states_many,
    split_lines,
)
from codesynth.lintseq.linters import (
    ERROR_CLASSES,
    LINTERS,
    PYFLAKES_ERRORS,
    RUFF_ERRORS,
    Linter,
    PyflakesLinter,
    RuffLinter,
    linter,
)

__all__ = [
    "ERROR_CLASSES", "LINTERS", "PYFLAKES_ERRORS", "RUFF_ERRORS", "LintSeqError", "Linter",
    "PyflakesLinter", "RuffLinter", "apply_edit", "check_program", "diff_insertions", "edits",
    "linter", "lintseq", "replay", "sample_states", "sample_states_many", "split_lines",
]
