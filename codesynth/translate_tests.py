"""HumanEval's Python tests as tests for any language (MultiPL-E's test translation).

A HumanEval problem's ``check(candidate)`` plus a typed stub of its signature (taken from
the prompt: ``def has_close_elements(numbers: List[float], threshold: float) -> bool: ...``)
is a ``humaneval``-style test that runs against a program in any supported language: the
judge parses the equality assertions into calls (``harness/calls``), a per-language driver
makes the calls with the stub's types, and the expected values stay in the judge.
``translate`` says which problems translate and why the others do not (loops, helper
functions, property checks: MultiPL-E leaves those out as well).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from codesynth.harness.calls import Untranslatable, parse


@dataclass(frozen=True)
class Translated:
    task_id: str
    entry_point: str
    tests: str | None  # the stub and the check, or None
    calls: int
    reason: str = ""  # why not, when ``tests`` is None


def stub(prompt: str, entry_point: str) -> str:
    """The typed signature of ``entry_point`` in ``prompt`` as a stub (``...`` body)."""
    tree = ast.parse(prompt)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == entry_point:
            args = ", ".join(f"{a.arg}: {ast.unparse(a.annotation)}" if a.annotation else a.arg
                             for a in node.args.args)
            returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
            return f"def {entry_point}({args}){returns}: ...\n"
    raise Untranslatable(None, f"the prompt defines no {entry_point}")


def translate_problem(row: dict[str, Any]) -> Translated:
    task_id, entry = str(row.get("task_id")), str(row.get("entry_point"))
    try:
        tests = stub(row["prompt"], entry) + "\n" + row["test"]
        plan = parse(tests, entry, humaneval=True)
    except (Untranslatable, SyntaxError, KeyError, ValueError) as exc:
        return Translated(task_id, entry, None, 0, str(exc)[:300])
    return Translated(task_id, entry, tests, len(plan.calls))


def translate(rows: Iterable[dict[str, Any]]) -> list[Translated]:
    return [translate_problem(row) for row in rows]
