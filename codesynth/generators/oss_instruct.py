"""``oss-instruct`` (Magicoder): a seed snippet cut from real source code (tree-sitter:
functions, classes or runs of lines, in several languages) inspires a new problem and its
solution.

Parameters (``--param``): see ``OSSInstruct.params``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, ClassVar

from codesynth.generators.base import (
    MAX_REQUESTS,
    PER_FILE,
    Context,
    Param,
    in_order,
    record,
    template_hash,
)
from codesynth.generators.snippets import Snippet, iter_snippets
from codesynth.llm.extract import extract_code, function_names
from codesynth.registry import generators

TEMPLATE = """Take inspiration from the code snippet below to write a new, self-contained \
programming problem and its solution in Python.

Code snippet ({language}):
```{language}
{code}
```

Answer in two sections:
[Problem Description]
A complete problem statement: everything needed to solve it, including the name and \
signature of the function to write.
[Solution]
A correct solution in one ```python block.
"""
_SECTION = re.compile(r"\[\s*(problem description|solution)\s*\]:?", re.IGNORECASE)


def parse_sections(text: str) -> dict[str, str]:
    parts = _SECTION.split(text)
    sections: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=False):
        sections.setdefault(name.lower().split()[0], body.strip())
    return sections


def snippet_stream(root: Path, seed: int, per_file: int) -> Iterator[tuple[int, Snippet]]:
    """Snippets from the seed corpus, again with a new seed each pass (for large n)."""
    for lap in itertools.count():
        found = False
        for snippet in iter_snippets(root, seed=seed + lap, per_file=per_file):
            found = True
            yield lap, snippet
        if not found:
            return


def seed_root(ctx: Context) -> Path:
    return ctx.seeds / "snippets" if (ctx.seeds / "snippets").is_dir() else ctx.seeds


@generators.register("oss-instruct")
class OSSInstruct:
    name = "oss-instruct"
    params: ClassVar[tuple[Param, ...]] = (PER_FILE, MAX_REQUESTS)

    async def generate(self, ctx: Context) -> AsyncIterator[dict[str, Any]]:
        digest = template_hash(TEMPLATE)
        limit = ctx.param(MAX_REQUESTS) or 20 * ctx.n
        stream = snippet_stream(seed_root(ctx), ctx.seed, ctx.param(PER_FILE))
        kept = 0

        async def ask(item: tuple[int, Snippet]) -> tuple[Snippet, int, str | None]:
            lap, snippet = item
            prompt = TEMPLATE.format(language=snippet.language, code=snippet.code.rstrip())
            return snippet, lap, await ctx.ask(prompt, sample=lap)

        items = itertools.islice(stream, limit)
        async for snippet, lap, text in in_order(items, ask, ctx.llm.config.concurrency):
            if text is None:
                continue
            sections = parse_sections(text)
            problem = sections.get("problem", "").strip()
            if not problem:
                ctx.reject("no_problem", snippet=snippet.id)
                continue
            code = extract_code(sections.get("solution", "") or text)
            if code is None:
                ctx.reject("no_code", snippet=snippet.id)
                continue
            names = function_names(code)
            yield record(ctx, self.name, problem, code=code,
                         entry_point=names[0] if names else None, parents=[snippet.id],
                         template=digest, snippet_path=snippet.path,
                         snippet_language=snippet.language, snippet_kind=snippet.kind,
                         snippet_lines=[snippet.start_line, snippet.end_line], lap=lap)
            kept += 1
            if kept >= ctx.n:
                return
        ctx.reject("gave_up", requests=limit)
