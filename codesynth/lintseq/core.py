"""LintSeq (Piterbarg, Pinto, Fergus 2024): a program as a sequence of insertion-only edits.

Backward sampling: from a program that lints clean, delete a line chosen uniformly at random
together with its children (the following lines indented deeper: the block it opens, blank and
comment lines inside it included); then, while the linter reports errors, delete every line with
an error (with its children) and lint again. Each clean result is the next, smaller state, down
to the empty program. Reversed, consecutive states differ by insertions only: each step is one
unified diff with zero context lines and no file headers. Replaying the edits from "" rebuilds
the program byte for byte.

Lines are split at "\\n" only and keep their endings ("\\r\\n" stays inside the line); a program
with a lone "\\r" (an old Mac line break) is refused, since joining its lines could merge two.
"""

from __future__ import annotations

import ast
import random
import re
import warnings
from collections.abc import Generator, Sequence

from codesynth.lintseq.linters import Linter

NO_NEWLINE = "\\ No newline at end of file\n"
_HUNK = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")

# A sampler yields programs to lint, receives their error lines, returns the states.
Sampler = Generator[str, list[int], list[str]]


class LintSeqError(ValueError):
    """The input program cannot be decomposed; ``reason`` is a short key for reports."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def split_lines(code: str) -> list[str]:
    """Lines with their endings; "".join(split_lines(code)) == code."""
    parts = code.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _transparent(line: str) -> bool:
    """Blank and comment-only lines: they neither open nor close a block."""
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def _indent(line: str) -> int:
    expanded = line.expandtabs(8)
    return len(expanded) - len(expanded.lstrip())


def _block_end(lines: Sequence[str], alive: Sequence[int], position: int) -> int:
    """The end (exclusive, in ``alive``) of the line at ``position`` and its children."""
    line = lines[alive[position]]
    end = position + 1
    if _transparent(line):
        return end
    base = _indent(line)
    for scan in range(position + 1, len(alive)):
        text = lines[alive[scan]]
        if _transparent(text):
            continue
        if _indent(text) <= base:
            break
        end = scan + 1
    return end


def _delete(lines: Sequence[str], alive: list[int], positions: set[int]) -> list[int]:
    """``alive`` without the lines at ``positions`` and their children."""
    doomed: set[int] = set()
    for position in positions:
        doomed.update(range(position, _block_end(lines, alive, position)))
    return [index for position, index in enumerate(alive) if position not in doomed]


def check_program(code: str) -> None:
    """Raise :class:`LintSeqError` when ``code`` cannot be decomposed (before any linting)."""
    if "\r" in code.replace("\r\n", ""):
        raise LintSeqError("lone_cr", "the program has a lone '\\r' line break (unsupported)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(code)
    except (SyntaxError, ValueError) as exc:  # ValueError: null bytes, lone surrogates
        detail = exc.args[0] if exc.args else str(exc)
        if isinstance(exc, SyntaxError) and exc.lineno:
            detail = f"{detail} (line {exc.lineno})"
        raise LintSeqError("syntax_error", f"the program does not parse: {detail}") from None


def sampler(code: str, rng: random.Random) -> Sampler:
    """The backward sampling as a coroutine: it yields each program to lint and expects the
    linter's error lines back (``send``); it returns the states, from ``code`` down to ""."""
    check_program(code)
    lines = split_lines(code)
    if lines:
        errors = yield code
        if errors:
            raise LintSeqError("lint_errors", f"the program does not lint clean: error(s) "
                                              f"on line(s) {', '.join(map(str, errors[:5]))}")
    alive = list(range(len(lines)))
    states = [code]
    while alive:
        alive = _delete(lines, alive, {rng.randrange(len(alive))})
        while alive:
            errors = yield "".join(lines[i] for i in alive)
            if not errors:
                break
            # a line past either end (e.g. "unexpected EOF") means the nearest line
            alive = _delete(lines, alive, {min(max(e, 1), len(alive)) - 1 for e in errors})
        states.append("".join(lines[i] for i in alive))
    return states


def sample_states(code: str, rng: random.Random, linter: Linter) -> list[str]:
    """The clean states of one backward pass: ``code`` first, "" last."""
    run = sampler(code, rng)
    try:
        program = next(run)
        while True:
            program = run.send(linter.error_lines(program))
    except StopIteration as stop:
        states: list[str] = stop.value
        return states


def sample_states_many(items: Sequence[tuple[str, random.Random]], linter: Linter
                       ) -> list[list[str] | LintSeqError]:
    """:func:`sample_states` for many programs in lockstep: each round lints every pending
    program in one :meth:`Linter.error_lines_many` call (identical programs once). A program
    that cannot be decomposed gets its :class:`LintSeqError` instead of states."""
    results: list[list[str] | LintSeqError | None] = [None] * len(items)
    runs: dict[int, Sampler] = {}
    pending: dict[int, str] = {}

    def advance(index: int, errors: list[int] | None) -> None:
        try:
            run = runs[index]
            pending[index] = next(run) if errors is None else run.send(errors)
        except StopIteration as stop:
            results[index] = stop.value
        except LintSeqError as exc:
            results[index] = exc

    for index, (code, rng) in enumerate(items):
        runs[index] = sampler(code, rng)
        advance(index, None)
    while pending:
        batch, pending = pending, {}
        unique = list(dict.fromkeys(batch.values()))
        answers = dict(zip(unique, linter.error_lines_many(unique), strict=True))
        for index, program in batch.items():
            advance(index, answers[program])
    done = [result for result in results if result is not None]
    assert len(done) == len(items)
    return done


def _hunk_header(old_at: int, old_count: int, new_at: int, new_count: int) -> str:
    """GNU/difflib style: "start" alone for one line; "after,0" for an empty range."""

    def span(start: int, count: int) -> str:
        if count == 1:
            return str(start + 1)
        return f"{start},0" if count == 0 else f"{start + 1},{count}"

    return f"@@ -{span(old_at, old_count)} +{span(new_at, new_count)} @@\n"


def diff_insertions(old: str, new: str) -> str:
    """The insertion-only, zero-context unified diff (no file headers) from ``old`` to ``new``.
    ``old``'s lines must be a subsequence of ``new``'s: each is matched to the earliest line of
    ``new`` that fits, everything else is inserted."""
    old_lines, new_lines = split_lines(old), split_lines(new)
    out: list[str] = []
    matched = 0
    position = 0
    while position < len(new_lines):
        if matched < len(old_lines) and old_lines[matched] == new_lines[position]:
            matched += 1
            position += 1
            continue
        start = position
        while position < len(new_lines) and not (
                matched < len(old_lines) and old_lines[matched] == new_lines[position]):
            position += 1
        out.append(_hunk_header(matched, 0, start, position - start))
        for line in new_lines[start:position]:
            out.append("+" + line if line.endswith("\n") else f"+{line}\n{NO_NEWLINE}")
    if matched < len(old_lines):
        raise ValueError(f"not an insertion: line {matched + 1} of the old program "
                         f"({old_lines[matched]!r}) is not kept in order in the new one")
    return "".join(out)


def edits(states: list[str]) -> list[str]:
    """Backward states (program ... "") -> forward edits ("" -> ... -> program), one per step."""
    forward = states[::-1]
    return [diff_insertions(old, new) for old, new in zip(forward, forward[1:], strict=False)]


def apply_edit(code: str, edit: str) -> str:
    """Apply one zero-context unified diff (``@@`` hunks of ``+``/``-`` lines) to ``code``."""
    old = split_lines(code)
    out: list[str] = []
    cursor = 0  # old lines before it are already copied or removed
    hunk: list[int] | None = None  # remaining old and new lines of the current hunk
    last: str | None = None  # "+" or "-": the kind of the previous content line
    for row in split_lines(edit):
        if hunk is None and row.startswith(("--- ", "+++ ")):
            continue  # tolerate file headers before the first hunk
        if row.startswith("\\"):  # "\ No newline at end of file": the line before has none
            if last == "+" and out and out[-1].endswith("\n"):
                out[-1] = out[-1][:-1]
            continue
        if row.startswith("@@"):
            if hunk and any(hunk):
                raise ValueError(f"a hunk before {row.strip()!r} is shorter than its header")
            match = _HUNK.match(row)
            if not match:
                raise ValueError(f"malformed hunk header {row.strip()!r}")
            start, count = int(match[1]), 1 if match[2] is None else int(match[2])
            begin = start if count == 0 else start - 1
            if begin < cursor or begin > len(old):
                raise ValueError(f"hunk {row.strip()!r} out of order or past the end")
            out.extend(old[cursor:begin])
            cursor = begin
            new_count = 1 if match[4] is None else int(match[4])
            hunk = [count, new_count]
            continue
        kind, text = row[:1], row[1:]
        if hunk is None or kind not in "+-" or not kind:
            raise ValueError(f"unexpected line in a zero-context diff: {row!r}")
        if kind == "+":
            hunk[1] -= 1
            out.append(text)
        else:
            if cursor >= len(old) or old[cursor].rstrip("\n") != text.rstrip("\n"):
                raise ValueError(f"deleted line {text!r} does not match the program")
            hunk[0] -= 1
            cursor += 1
        if min(hunk) < 0:
            raise ValueError("a hunk is longer than its header says")
        last = kind
    if hunk and any(hunk):
        raise ValueError("the last hunk is shorter than its header")
    return "".join(out + old[cursor:])


def replay(steps: list[str]) -> str:
    """Apply the edits in order, starting from the empty program."""
    code = ""
    for edit in steps:
        code = apply_edit(code, edit)
    return code


def lintseq(code: str, rng: random.Random, linter: Linter) -> list[str]:
    """One LintSeq sample of ``code``: the insertion-only edits that build it from nothing."""
    return edits(sample_states(code, rng, linter))
