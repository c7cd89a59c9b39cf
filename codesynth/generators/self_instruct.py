"""``self-instruct`` (Code Alpaca style): seed tasks in a few-shot prompt ask the model for
new coding tasks; each candidate passes the length, format and blacklist filters and must not
be too similar (ROUGE-L > 0.7) to any task kept so far, seeds included.

Parameters (``--param``): see ``SelfInstruct.params``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any, ClassVar

from codesynth.generators.base import (
    MAX_REQUESTS,
    Context,
    Param,
    in_order,
    load_seed_tasks,
    record,
    template_hash,
)
from codesynth.generators.filters import (
    SimilarityPool,
    bad_start,
    blacklisted,
    length_ok,
    load_similarity,
)
from codesynth.llm.extract import extract_code, function_names
from codesynth.registry import generators

TEMPLATE = """You are asked to come up with {count} new, diverse programming tasks. Each task \
is one instruction for a Python function, with a correct solution.

Requirements:
1. Vary the verbs and the kind of task (strings, lists, math, parsing, data structures...).
2. Each instruction is self-contained, 1 to 3 sentences, and names the function to write.
3. Do not ask for anything a program cannot do alone (no images, files, or network).
4. After each instruction, give the solution in a ```python block.

{examples}
Now write {count} new tasks, numbered from {start}, in the same format.
"""
EXAMPLE = "{number}. Instruction: {instruction}\nSolution:\n```python\n{code}```\n"
PROMPT_TASKS = Param("prompt_tasks", int, 3, "seed tasks shown in each request", minimum=1)
TASKS_PER_REQUEST = Param("tasks_per_request", int, 5, "new tasks asked for in each request",
                          minimum=1)
SIMILARITY = Param("similarity", float, 0.7, "a task whose ROUGE-L against any task kept so "
                   "far (seeds included) exceeds this is rejected", minimum=0.0, maximum=1.0)
_ITEM = re.compile(r"^\s*(\d+)\s*[.)]\s*(?:Instruction\s*:)?\s*", re.MULTILINE)


def parse_tasks(text: str) -> list[tuple[str, str | None]]:
    """Numbered items in a reply: (instruction, solution code or None)."""
    heads = list(_ITEM.finditer(text))
    items = []
    for index, head in enumerate(heads):
        end = heads[index + 1].start() if index + 1 < len(heads) else len(text)
        body = text[head.end():end]
        instruction = re.split(r"\n\s*(?:Solution\s*:|```)", body, maxsplit=1)[0]
        instruction = " ".join(instruction.split())
        if instruction:
            items.append((instruction, extract_code(body)))
    return items


@generators.register("self-instruct")
class SelfInstruct:
    name = "self-instruct"
    params: ClassVar[tuple[Param, ...]] = (PROMPT_TASKS, TASKS_PER_REQUEST, SIMILARITY,
                                           MAX_REQUESTS)

    async def generate(self, ctx: Context) -> AsyncIterator[dict[str, Any]]:
        seeds = load_seed_tasks(ctx.seeds)
        shown, count = ctx.param(PROMPT_TASKS), ctx.param(TASKS_PER_REQUEST)
        await load_similarity()
        pool = SimilarityPool(ctx.param(SIMILARITY))
        for task in seeds:
            pool.add(task["instruction"])
        digest = template_hash(TEMPLATE, EXAMPLE)
        kept, request = 0, 0
        limit = ctx.param(MAX_REQUESTS) or 20 * ctx.n
        while kept < ctx.n:
            if request >= limit:
                ctx.reject("gave_up", requests=request)
                return
            batch = list(range(request, request + ctx.llm.config.concurrency))
            request += len(batch)

            async def ask(index: int) -> tuple[int, list[dict[str, Any]], str | None]:
                chosen = ctx.rng("self-instruct", index).sample(seeds, min(shown, len(seeds)))
                examples = "".join(EXAMPLE.format(number=i + 1, instruction=t["instruction"],
                                                  code=t.get("code") or "...\n")
                                   for i, t in enumerate(chosen))
                prompt = TEMPLATE.format(count=count, examples=examples, start=len(chosen) + 1)
                return index, chosen, await ctx.ask(prompt, sample=index)

            async for index, chosen, text in in_order(batch, ask, len(batch)):
                if text is None:
                    continue
                items = parse_tasks(text)
                if not items:
                    ctx.reject("no_tasks", request=index)
                for instruction, code in items:
                    reason = self._filter(instruction, pool)
                    if reason:
                        ctx.reject(reason, instruction=instruction[:200])
                        continue
                    pool.add(instruction)
                    names = function_names(code) if code else []
                    yield record(ctx, self.name, instruction, code=code,
                                 entry_point=names[0] if names else None,
                                 parents=[t["id"] for t in chosen], template=digest,
                                 request=index)
                    kept += 1
                    if kept >= ctx.n:
                        return

    @staticmethod
    def _filter(instruction: str, pool: SimilarityPool) -> str | None:
        if not length_ok(instruction):
            return "length"
        if bad_start(instruction):
            return "format"
        if blacklisted(instruction):
            return "blacklist"
        if pool.too_similar(instruction):
            return "similar"
        return None
