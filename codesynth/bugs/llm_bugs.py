"""The LLM strategy: ask the model for one realistic mistake of a named kind, keeping the
program's functions and signatures; the reply's code is extracted robustly and checked
before it is executed like any other candidate bug."""

from __future__ import annotations

import ast
import asyncio
from typing import Any

from codesynth.bugs.pairs import Bug
from codesynth.generators.base import template_hash
from codesynth.llm import LLM, LLMError
from codesynth.llm.extract import extract_code
from codesynth.records import Job

KINDS = {
    "novice": "a mistake a beginner would make",
    "off_by_one": "an off-by-one error in a loop bound, an index or a range",
    "missed_edge_case": "a missed edge case (empty input, zero, negative numbers, duplicates)",
    "wrong_api": "a wrong use of a standard library function or method",
    "wrong_condition": "a wrong condition in a branch or a loop",
    "wrong_variable": "the use of a wrong variable",
}
PROMPT = """Here is a correct Python program:

```python
{code}
```

Rewrite it with exactly one realistic bug: {kind}. Keep every function name and signature \
unchanged, do not add comments about the bug, and answer with the complete program in one \
```python block.
"""
TEMPLATE = template_hash(PROMPT, *KINDS.values())


def signatures(code: str) -> dict[str, str] | None:
    """Top-level function signatures (name -> arguments), or None if it does not parse."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return None
    return {node.name: ast.dump(node.args) for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}


def check(original: str, candidate: str | None, entry_point: str | None) -> str | None:
    """Why a rewrite is not a usable candidate bug, or None."""
    if candidate is None:
        return "no_code"
    before, after = signatures(original), signatures(candidate)
    if after is None:
        return "unparsable"
    if ast.dump(ast.parse(original)) == ast.dump(ast.parse(candidate)):
        return "unchanged"
    if before is not None and any(after.get(name) != args for name, args in before.items()
                                  if entry_point is None or name == entry_point):
        return "signature_changed"
    return None


async def llm_bugs(llm: LLM, items: list[tuple[dict[str, Any], Job]], per_sample: int,
                   rng_for: Any, rejected: Any) -> list[Bug]:
    """``per_sample`` LLM bugs per original (kinds drawn with each original's own rng)."""

    async def one(source: dict[str, Any], job: Job, kind: str, sample: int) -> Bug | None:
        prompt = PROMPT.format(code=job.code.rstrip(), kind=KINDS[kind])
        try:
            reply = await llm.ask([{"role": "user", "content": prompt}], sample=sample)
        except LLMError:
            rejected["request_failed"] += 1
            return None
        code = extract_code(reply.text)
        reason = check(job.code, code, job.entry_point)
        if reason:
            rejected[reason] += 1
            return None
        assert code is not None
        return Bug(source, job, code, kind, f"LLM-made bug: {KINDS[kind]}", "llm",
                   {"model": llm.model, "template_hash": TEMPLATE, "request": reply.key,
                    "sample": sample})

    calls = []
    for source, job in items:
        rng = rng_for(job.id, "llm")
        kinds = [rng.choice(sorted(KINDS)) for _ in range(per_sample)]
        calls += [one(source, job, kind, sample) for sample, kind in enumerate(kinds)]
    return [bug for bug in await asyncio.gather(*calls) if bug is not None]
