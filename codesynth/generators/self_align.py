"""``self-align`` (SelfCodeAlign): seed snippet -> programming concepts -> a new instruction
-> several responses, each with its own tests -> executed in the sandbox; only responses
whose tests pass are kept, with their traces.

Parameters (``--param``): see ``SelfAlign.params``.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
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
from codesynth.generators.oss_instruct import seed_root, snippet_stream
from codesynth.generators.polyglot import (
    LANGUAGE,
    LANGUAGES_PARAM,
    NAMES,
    answer_prompt,
    languages_of,
    pick,
    split_answer,
    stdio_fields,
)
from codesynth.generators.snippets import Snippet
from codesynth.llm.extract import extract_code, fenced_blocks, function_names, parses
from codesynth.records import Job
from codesynth.registry import generators

CONCEPTS = """List the programming concepts the code below uses, as one comma-separated line \
(for example: "recursion, string slicing, dictionary lookup").

```{language}
{code}
```
"""
INSTRUCTION = """Write one self-contained Python programming task that exercises these \
concepts: {concepts}.
Category: {category}. Difficulty: {difficulty}.
The task asks for one function and names it. Write only the task.
"""
RESPONSE = """{instruction}

Answer with two ```python blocks: first the complete solution, then 3 to 5 assert statements \
that test it (the tests call the function directly; do not import it).
"""
STDIO_INSTRUCTION = """Write one self-contained programming task for a {name} program that \
exercises these concepts: {concepts}.
Category: {category}. Difficulty: {difficulty}.
The program reads its input from standard input and prints its answer to standard output; \
the task says both formats. Write only the task.
"""
STDIO_RESPONSE = """{instruction}

{answer}"""
SAMPLES = Param("samples", int, 3, "responses (each with its own tests) per instruction",
                minimum=1)
KEEP = Param("keep", str, "one", "one: the first response that passes its tests; all: every "
             "one", choices=("one", "all"))
CATEGORIES = ("function implementation", "data structure", "string manipulation",
              "algorithm", "math", "parsing")
DIFFICULTIES = ("easy", "medium", "hard")


def split_response(text: str) -> tuple[str | None, str | None]:
    """(solution, tests) from a response: the assert-only block is the tests."""
    blocks = [b.code for b in fenced_blocks(text) if b.language in ("python", "")]
    tests = next((b for b in blocks if "assert" in b and "def " not in b), None)
    solution = next((b for b in blocks if b is not tests and "def " in b and parses(b)), None)
    if solution is None:
        solution = extract_code(text)
    if tests is None and solution is not None:
        lines = [ln for ln in solution.splitlines() if ln.startswith("assert ")]
        if lines:
            tests = "\n".join(lines) + "\n"
            solution = "\n".join(ln for ln in solution.splitlines()
                                 if not ln.startswith("assert ")) + "\n"
    return solution, tests


@generators.register("self-align")
class SelfAlign:
    name = "self-align"
    params: ClassVar[tuple[Param, ...]] = (SAMPLES, KEEP, PER_FILE, MAX_REQUESTS, LANGUAGE,
                                           LANGUAGES_PARAM)

    async def generate(self, ctx: Context) -> AsyncIterator[dict[str, Any]]:
        samples, keep_all = ctx.param(SAMPLES), ctx.param(KEEP) == "all"
        languages = languages_of(ctx, LANGUAGE)
        limit = ctx.param(MAX_REQUESTS) or 20 * ctx.n
        digests = {language: template_hash(CONCEPTS, INSTRUCTION, RESPONSE)
                   if language == "python" else
                   template_hash(CONCEPTS, STDIO_INSTRUCTION, STDIO_RESPONSE,
                                 answer_prompt(language)) for language in languages}
        # The concepts come from snippets in the target language, and from Python ones.
        stream = ((lap, s) for lap, s in snippet_stream(seed_root(ctx), ctx.seed,
                                                          ctx.param(PER_FILE))
                  if s.language in ("python", *languages))
        kept = 0
        per_item = 2 + samples
        items = itertools.islice(stream, max(1, limit // per_item))
        async for snippet, lap, instruction, concepts, responses in in_order(
                items, lambda item: self._draft(ctx, item, samples,
                                                pick(languages, item[1].id)),
                ctx.llm.config.concurrency):
            if instruction is None:
                continue
            language = pick(languages, snippet.id)
            digest = digests[language]
            candidates = []
            for index, text in enumerate(responses):
                solution, tests = _split(text, language)
                if solution is None or tests is None:
                    ctx.reject("no_code" if solution is None else "no_tests",
                               snippet=snippet.id, sample=index)
                    continue
                candidates.append((index, solution, tests))
            jobs = [Job(id=f"{snippet.id}-{i}", code=code, tests=tests, language=language,
                        test_style="assert" if language == "python" else "stdio")
                    for i, code, tests in candidates]
            results = await asyncio.to_thread(_run_all, ctx, jobs) if jobs else []
            passed = 0
            for (index, code, tests), execution in zip(candidates, results, strict=True):
                if not execution.passed:
                    ctx.reject(f"tests_{execution.status.value}", snippet=snippet.id,
                               sample=index, language=language,
                               message=(execution.reason or "")[:200])
                    continue
                if passed and not keep_all:
                    continue
                passed += 1
                names = function_names(code) if language == "python" else []
                out = record(ctx, self.name, instruction, code=code, tests=tests,
                             entry_point=names[0] if names else None, parents=[snippet.id],
                             template=digest, concepts=concepts, sample=index,
                             snippet_path=snippet.path, lap=lap)
                if language != "python":
                    out.update(stdio_fields(language, tests))
                yield {**out, "result": execution.to_dict()}
                kept += 1
                if kept >= ctx.n:
                    return
        ctx.reject("gave_up", requests=limit)

    @staticmethod
    async def _draft(ctx: Context, item: tuple[int, Snippet], samples: int, language: str
                     ) -> tuple[Snippet, int, str | None, str, list[str | None]]:
        lap, snippet = item
        concepts = await ctx.ask(CONCEPTS.format(language=snippet.language,
                                                 code=snippet.code.rstrip()), sample=lap)
        if not concepts or not concepts.strip():
            ctx.reject("no_concepts", snippet=snippet.id)
            return snippet, lap, None, "", []
        concepts = " ".join(concepts.strip().splitlines()[0].split())[:300]
        rng = ctx.rng("self-align", snippet.id, lap)
        template = INSTRUCTION if language == "python" else STDIO_INSTRUCTION
        prompt = template.format(concepts=concepts, category=rng.choice(CATEGORIES),
                                 difficulty=rng.choice(DIFFICULTIES),
                                 name=NAMES[language])
        instruction = await ctx.ask(prompt, sample=lap)
        if not instruction or not instruction.strip():
            ctx.reject("no_instruction", snippet=snippet.id)
            return snippet, lap, None, concepts, []
        instruction = instruction.strip()
        response = RESPONSE.format(instruction=instruction) if language == "python" else \
            STDIO_RESPONSE.format(instruction=instruction, answer=answer_prompt(language))
        responses = list(await asyncio.gather(
            *(ctx.ask(response, sample=i) for i in range(samples))))
        return snippet, lap, instruction, concepts, responses


def _split(text: str | None, language: str) -> tuple[str | None, Any]:
    """(program, tests) of a response: Python's assert block, or another language's stdio
    cases (None when there are none)."""
    if language == "python":
        return split_response(text) if text else (None, None)
    code, cases = split_answer(text, language)
    return code, cases or None


def _run_all(ctx: Context, jobs: list[Job]) -> list[Any]:
    return list(ctx.sandbox.run_many(jobs, ctx.limits))
