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
from codesynth.generators.polyglot import (
    LANGUAGE,
    LANGUAGES_PARAM,
    NAMES,
    Draft,
    check_stdio,
    draft_problem,
    example,
    languages_of,
    pick,
    split_answer,
    stdio_fields,
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
# Another language: each task is a program reading stdin and printing stdout, with its cases.
STDIO_TEMPLATE = """You are asked to come up with {count} new, diverse programming tasks. Each \
task is one instruction for a {name} program that reads its input from standard input and \
prints the answer to standard output, with a correct solution and 2 to 4 test cases.

Requirements:
1. Vary the kind of task (strings, numbers, lists, parsing...).
2. Each instruction is self-contained, 1 to 3 sentences, and says the input and output format.
3. After each instruction, give the solution in a ```{language} block, then each test case \
as an Input: block and an Output: block.

{examples}
Now write {count} new tasks, numbered from {start}, in the same format.
"""
PROMPT_TASKS = Param("prompt_tasks", int, 3, "seed tasks shown in each request", minimum=1)
TASKS_PER_REQUEST = Param("tasks_per_request", int, 5, "new tasks asked for in each request",
                          minimum=1)
SIMILARITY = Param("similarity", float, 0.7, "a task whose ROUGE-L against any task kept so "
                   "far (seeds included) exceeds this is rejected", minimum=0.0, maximum=1.0)
_ITEM = re.compile(r"^\s*(\d+)\s*[.)]\s*(?:Instruction\s*:)?\s*", re.MULTILINE)


def _numbered(text: str) -> list[tuple[str, str]]:
    """Numbered items in a reply: (instruction, the item's whole text), items with an
    instruction only."""
    heads = list(_ITEM.finditer(text))
    items = []
    for index, head in enumerate(heads):
        end = heads[index + 1].start() if index + 1 < len(heads) else len(text)
        body = text[head.end():end]
        instruction = re.split(r"\n\s*(?:Solution\s*:|```)", body, maxsplit=1)[0]
        instruction = " ".join(instruction.split())
        if instruction:
            items.append((instruction, body))
    return items


def parse_tasks(text: str) -> list[tuple[str, str | None]]:
    """Numbered items in a reply: (instruction, solution code or None)."""
    return [(instruction, extract_code(body)) for instruction, body in _numbered(text)]


def parse_items(text: str) -> list[tuple[str, str]]:
    """Numbered items in a reply: (instruction, the rest of the item: code and cases)."""
    return [(instruction, body[len(body.split("\n", 1)[0]):])
            for instruction, body in _numbered(text)]


def _stdio_prompt(language: str, chosen: list[dict[str, Any]], count: int) -> str:
    """Seed tasks written in ``language`` with their cases are shown as they are; the worked
    example comes first, so there is always one in the right form."""
    from codesynth.generators.polyglot import EXAMPLE_CASES, EXAMPLE_TASK, EXAMPLES, cases_text

    shown = [(EXAMPLE_TASK, EXAMPLES[language], cases_text(EXAMPLE_CASES))]
    for task in chosen:
        if task.get("language") == language and task.get("test_style") == "stdio" \
                and isinstance(task.get("tests"), list) and task.get("code"):
            shown.append((task["instruction"], task["code"], cases_text(
                [(c["input"], c["output"]) for c in task["tests"]
                 if isinstance(c, dict) and isinstance(c.get("input"), str)
                 and isinstance(c.get("output"), str)])))
    examples = "".join(f"{i + 1}. Instruction: {instruction}\nSolution:\n```{language}\n"
                       f"{code}```\n{cases}\n" for i, (instruction, code, cases)
                       in enumerate(shown))
    return STDIO_TEMPLATE.format(count=count, name=NAMES[language], language=language,
                                 examples=examples, start=len(shown) + 1)


@generators.register("self-instruct")
class SelfInstruct:
    name = "self-instruct"
    params: ClassVar[tuple[Param, ...]] = (PROMPT_TASKS, TASKS_PER_REQUEST, SIMILARITY,
                                           MAX_REQUESTS, LANGUAGE, LANGUAGES_PARAM)

    async def generate(self, ctx: Context) -> AsyncIterator[dict[str, Any]]:
        languages = languages_of(ctx, LANGUAGE)
        seeds = load_seed_tasks(ctx.seeds)
        shown, count = ctx.param(PROMPT_TASKS), ctx.param(TASKS_PER_REQUEST)
        await load_similarity()
        pool = SimilarityPool(ctx.param(SIMILARITY))
        for task in seeds:
            pool.add(task["instruction"])
        digests = {language: template_hash(TEMPLATE, EXAMPLE) if language == "python" else
                   template_hash(STDIO_TEMPLATE, example(language)) for language in languages}
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
                language = pick(languages, index)
                if language != "python":
                    return index, chosen, await ctx.ask(_stdio_prompt(language, chosen, count),
                                                        sample=index)
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
                language = pick(languages, index)
                digest = digests[language]
                if language != "python":
                    async for out in self._stdio(ctx, language, text, pool, chosen, index,
                                                 digest):
                        yield out
                        kept += 1
                        if kept >= ctx.n:
                            return
                    continue
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

    async def _stdio(self, ctx: Context, language: str, text: str, pool: SimilarityPool,
                     chosen: list[dict[str, Any]], index: int, digest: str
                     ) -> AsyncIterator[dict[str, Any]]:
        """The reply's tasks in ``language``: filtered, then run on their own cases; only
        those that pass are yielded (with their trace)."""
        drafts, instructions = [], []
        for number, (instruction, body) in enumerate(parse_items(text)):
            reason = self._filter(instruction, pool)
            code, cases = split_answer(body, language)
            reason = reason or draft_problem(code, cases)
            if reason:
                ctx.reject(reason, instruction=instruction[:200], language=language)
                continue
            assert code is not None
            pool.add(instruction)
            drafts.append(Draft(f"self-instruct-{index}-{number}", language, code, cases,
                                {"instruction": instruction[:200]}))
            instructions.append(instruction)
        verdicts = await check_stdio(ctx, drafts)
        for draft, instruction, execution in zip(drafts, instructions, verdicts, strict=True):
            if execution is None:
                continue
            out = record(ctx, self.name, instruction, code=draft.code,
                         tests=draft.cases, language=language,
                         parents=[t["id"] for t in chosen], template=digest, request=index)
            yield {**out, **stdio_fields(language, draft.cases), "result": execution.to_dict()}

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
