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
from codesynth.generators.polyglot import (
    LANGUAGES_PARAM,
    NAMES,
    SNIPPET_LANGUAGE,
    Draft,
    answer_prompt,
    check_stdio,
    draft_problem,
    pick,
    split_answer,
    stdio_fields,
)
from codesynth.generators.snippets import Snippet, iter_snippets
from codesynth.llm.extract import extract_code, function_names
from codesynth.records import LANGUAGES
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
STDIO_TEMPLATE = """Take inspiration from the code snippet below to write a new, \
self-contained programming problem and its solution as a {name} program.

Code snippet ({language}):
```{language}
{code}
```

Answer in two sections:
[Problem Description]
A complete problem statement: everything needed to solve it, including what the program \
reads from standard input and what it prints.
[Solution]
{answer}"""
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
    params: ClassVar[tuple[Param, ...]] = (PER_FILE, MAX_REQUESTS, SNIPPET_LANGUAGE,
                                           LANGUAGES_PARAM)

    async def generate(self, ctx: Context) -> AsyncIterator[dict[str, Any]]:
        chosen = ctx.param(SNIPPET_LANGUAGE)
        several = ctx.param(LANGUAGES_PARAM)

        def target(snippet: Snippet) -> str:
            if several:
                return pick(several, snippet.id)
            if chosen != "snippet":
                return str(chosen)
            return snippet.language if snippet.language in LANGUAGES else "python"

        def fallback(snippet: Snippet) -> dict[str, Any]:
            """Why a snippet's program is not in the snippet's language (default only)."""
            if several or chosen != "snippet" or snippet.language in LANGUAGES:
                return {}
            return {"language_fallback": f"{snippet.language} is not a language codesynth "
                                         "can run: the program is in Python"}

        digest = template_hash(TEMPLATE) if chosen == "python" and not several else \
            template_hash(TEMPLATE, STDIO_TEMPLATE)
        limit = ctx.param(MAX_REQUESTS) or 20 * ctx.n
        stream = snippet_stream(seed_root(ctx), ctx.seed, ctx.param(PER_FILE))
        kept = 0

        async def ask(item: tuple[int, Snippet]) -> tuple[Snippet, int, str | None]:
            lap, snippet = item
            language = target(snippet)
            prompt = TEMPLATE.format(language=snippet.language, code=snippet.code.rstrip()) \
                if language == "python" else STDIO_TEMPLATE.format(
                    name=NAMES[language], language=snippet.language, code=snippet.code.rstrip(),
                    answer=answer_prompt(language))
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
            language = target(snippet)
            extra: dict[str, Any] = {}
            if language == "python":
                code = extract_code(sections.get("solution", "") or text)
                problem_with_it = None if code else "no_code"
            else:
                code, cases = split_answer(sections.get("solution", "") or text, language)
                problem_with_it = draft_problem(code, cases)
            if problem_with_it is not None:
                ctx.reject(problem_with_it, snippet=snippet.id)
                continue
            assert code is not None
            if language != "python":
                [execution] = await check_stdio(ctx, [Draft(
                    f"{snippet.id}-{lap}", language, code, cases, {"snippet": snippet.id})])
                if execution is None:
                    continue
                extra = {**stdio_fields(language, cases), "result": execution.to_dict()}
            names = function_names(code) if language == "python" else []
            yield {**record(ctx, self.name, problem, code=code, tests=extra.get("tests"),
                            entry_point=names[0] if names else None, parents=[snippet.id],
                            template=digest, snippet_path=snippet.path,
                            snippet_language=snippet.language, snippet_kind=snippet.kind,
                            snippet_lines=[snippet.start_line, snippet.end_line], lap=lap,
                            **fallback(snippet)),
                   **extra}
            kept += 1
            if kept >= ctx.n:
                return
        ctx.reject("gave_up", requests=limit)
