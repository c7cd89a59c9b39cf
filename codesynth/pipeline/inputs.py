"""Checks on what a value names or holds, beyond its type: URLs, API keys, the places a run
writes to, seed files and benchmark files. Each returns what is wrong (a message without the
key's label) or None; none of them writes anything.

:func:`show` is the one way a value is quoted in a message: a short repr (~200 characters),
whatever its size or nesting (a YAML alias bomb is never walked in full).
"""

from __future__ import annotations

import os
import reprlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from codesynth.errors import UserError

SHOWN = 200  # characters of a value quoted in a message
_repr = reprlib.Repr()
_repr.maxstring, _repr.maxother, _repr.maxlevel = SHOWN, SHOWN, 3
_repr.maxlist = _repr.maxdict = _repr.maxtuple = _repr.maxset = 8
_repr.maxlong = 60

# How the built-in generators read their seeds (plugins: not checked before the run).
TASK_SEEDS = ("seed-tasks", "self-instruct", "evol-instruct")
SNIPPET_SEEDS = ("oss-instruct", "self-align")
# verified records (JSONL, or a folder with one)
RECORD_SEEDS = ("refactor", "optimize", "translate")


def show(value: Any) -> str:
    """``repr(value)``, cut to about :data:`SHOWN` characters, at a bounded cost."""
    text = _repr.repr(value)
    return text if len(text) <= SHOWN else text[:SHOWN - 3] + "..."


def cut(text: object) -> str:
    """``str(text)`` cut to about :data:`SHOWN` characters."""
    value = str(text)
    return value if len(value) <= SHOWN else value[:SHOWN - 3] + "..."


def place_problem(path: Path, directory: bool) -> str | None:
    """Whether ``path`` can be a directory (``directory``) or a file codesynth writes: it is
    one already (writable), or it can be created under its nearest existing ancestor."""
    if "\0" in str(path):
        return "contains a NUL byte"
    shown = cut(path)
    try:
        if path.exists():
            if directory and not path.is_dir():
                return f"{shown} exists and is not a directory"
            if not directory and path.is_dir():
                return f"{shown} is a directory, expected a file path"
            if not directory and not path.is_file():
                return f"{shown} is not a regular file"
            mode = os.W_OK | (os.X_OK if directory else 0)
            return None if os.access(path, mode) else f"{shown} is not writable"
        ancestor = path.absolute().parent
        while not ancestor.exists() and ancestor != ancestor.parent:
            ancestor = ancestor.parent
        if not ancestor.is_dir():
            return f"cannot create {shown}: {cut(ancestor)} is not a directory"
        if not os.access(ancestor, os.W_OK | os.X_OK):
            return f"cannot create {shown}: {cut(ancestor)} is not writable"
    except OSError as exc:
        return f"{shown}: {exc.strerror or exc}"
    return None


def seeds_problem(method: str, path: Path) -> str | None:
    """The seeds of a built-in generator, read now as the generator will read them."""
    from codesynth.jsonl import read_objects

    try:
        if method in TASK_SEEDS:
            from codesynth.generators.base import load_seed_tasks

            load_seed_tasks(path)
        elif method in RECORD_SEEDS:
            from codesynth.generators.sources import load_sources

            load_sources(path)
        elif method == "nl2sql":
            from codesynth.generators.sql_databases import database_files

            database_files(path)
        elif method in SNIPPET_SEEDS:
            root = path / "snippets" if (path / "snippets").is_dir() else path
            if root.is_file() and root.suffix == ".jsonl":
                for _ in read_objects(root):
                    pass
    except UserError as exc:
        return str(exc)
    return None


def benchmark_problems(name: str, path: Path) -> Iterator[str]:
    """A benchmark: ``humaneval`` (installed), or a readable HumanEval- or MBPP-format
    JSONL file (optionally gzipped) whose every row has the fields, typed."""
    from codesynth.jsonl import read_objects
    from codesynth.pipeline.decontam import row_problem

    if name == "humaneval":
        from codesynth.humaneval import default_problems_path

        try:
            default_problems_path()
        except UserError as exc:
            yield str(exc)
        return
    if not path.is_file():
        yield (f"{show(name)} is neither a known benchmark (humaneval) nor an existing "
               "HumanEval- or MBPP-format JSONL file")
        return
    try:
        for line, row in read_objects(path):
            problem = row_problem(row)
            if problem:
                yield f"{path}:{line}: {problem}"
                return
    except UserError as exc:
        yield str(exc)
