"""Model-proposed edge cases: inputs a model thinks a solution may get wrong, added to the
generated probe inputs of test strength and augmentation (origin ``model``).

One request per task. The reply must list argument tuples, one per line, as Python literals;
a line that is not a literal of the function's arity is dropped (counted), never run as code.
A request that fails leaves the task with the random inputs alone.
"""

from __future__ import annotations

import ast
import asyncio
from collections.abc import Sequence
from typing import Any

from codesynth.behaviour import call_examples, entry_function, literal

PROMPT = """Task: {instruction}

A solution defines `{name}({params})`. List up to {count} edge-case inputs that a wrong \
solution is likely to mishandle (empty values, boundaries, duplicates, negatives...). Write one \
input per line as a Python tuple of the arguments, e.g. `{example}`, in one ```python block. \
No other text.
"""


def arity(code: str, name: str) -> tuple[int, str] | None:
    """The number of positional parameters of ``name`` and their names, joined."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            names = [a.arg for a in node.args.args]
            return len(names), ", ".join(names)
    return None


def parse_inputs(text: str, size: int, limit: int) -> tuple[list[tuple[Any, ...]], int]:
    """The argument tuples of a reply (at most ``limit``), and how many lines were dropped."""
    from codesynth.llm.extract import fenced_blocks

    sources = [b.code for b in fenced_blocks(text)] or [text]
    lines = [line.strip().rstrip(",") for source in sources for line in source.splitlines()]
    found: list[tuple[Any, ...]] = []
    dropped = 0
    for line in lines:
        if not line or line.startswith("#"):
            continue
        try:
            value = ast.literal_eval(line)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            dropped += 1
            continue
        # A tuple is the arguments (of the wrong arity: dropped); a bare value, the only one.
        args = value if isinstance(value, tuple) else (value,)
        if len(args) != size or not literal(args) or args in found:
            dropped += 1
            continue
        found.append(args)
    return found[:limit], dropped


async def propose(llm: Any, tasks: Sequence[dict[str, Any]], count: int = 8
                  ) -> dict[str, list[tuple[Any, ...]]]:
    """Edge-case inputs per task id; each task: ``id``, ``instruction``, ``code`` (a program
    defining the function), ``tests``, ``test_style``, ``entry_point``."""
    from codesynth.llm import LLMError

    async def one(task: dict[str, Any]) -> tuple[str, list[tuple[Any, ...]]]:
        name = entry_function(task["code"], task.get("entry_point"))
        shape = arity(task["code"], name) if name else None
        if name is None or shape is None or shape[0] == 0:
            return task["id"], []
        examples = call_examples(task.get("tests"), task.get("test_style", "assert"), name)
        example = repr(examples[0]) if examples else "(" + ", ".join(["..."] * shape[0]) + ")"
        prompt = PROMPT.format(instruction=task.get("instruction") or "(none)", name=name,
                               params=shape[1], count=count, example=example)
        try:
            reply = await llm.ask([{"role": "user", "content": prompt}])
        except LLMError:
            return task["id"], []
        return task["id"], parse_inputs(reply.text, shape[0], count)[0]

    return dict(await asyncio.gather(*(one(t) for t in tasks)))
