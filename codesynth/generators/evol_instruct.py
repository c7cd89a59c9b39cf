"""``evol-instruct`` (WizardCoder's code evolution): each instruction is rewritten, round after
round, by one of five methods picked at random; the evolved instruction gets a response; the
elimination rules drop failed evolutions. Every record keeps its lineage.

Parameters (``--param``): see ``EvolInstruct.params``.
"""

from __future__ import annotations

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
    copies_the_prompt,
    load_similarity,
    only_filler,
    sorry,
)
from codesynth.generators.polyglot import (
    LANGUAGE,
    LANGUAGES_PARAM,
    NAMES,
    Draft,
    answer_prompt,
    check_stdio,
    draft_problem,
    languages_of,
    pick,
    split_answer,
    stdio_fields,
)
from codesynth.llm.extract import extract_code, function_names
from codesynth.registry import generators

ROUNDS = Param("rounds", int, 3, "rounds of evolution", minimum=1)
SIMILARITY = Param("similarity", float, 0.9, "an evolved task whose ROUGE-L against its parent "
                   "exceeds this has no information gain and is rejected", minimum=0.0,
                   maximum=1.0)

# The five code-evolution methods of WizardCoder, in our words.
METHODS = {
    "constraints": "Add new constraints and requirements to the original problem, adding "
                   "approximately 10 additional words.",
    "less_common": "Replace a commonly used requirement in the programming task with a less "
                   "common and more specific one.",
    "reasoning": "If the original problem can be solved with only a few logical steps, add "
                 "more reasoning steps.",
    "erroneous_code": "Provide a piece of erroneous code as a reference to increase "
                      "misdirection.",
    "complexity": "Propose higher time or space complexity requirements, but do not do so "
                  "frequently.",
}
EVOLVE = """Make the following programming task a bit harder.

Use this method:
{method}

Write only the new task, with no heading and no solution.

Task:
{instruction}
"""
ANSWER = """Solve the following programming task in Python. Give the complete solution in one \
```python block.

{instruction}
"""
STDIO_ANSWER = """Solve the following programming task with a {name} program.

{instruction}

{answer}"""


@generators.register("evol-instruct")
class EvolInstruct:
    name = "evol-instruct"
    params: ClassVar[tuple[Param, ...]] = (ROUNDS, SIMILARITY, MAX_REQUESTS, LANGUAGE,
                                           LANGUAGES_PARAM)

    async def generate(self, ctx: Context) -> AsyncIterator[dict[str, Any]]:
        rounds, threshold = ctx.param(ROUNDS), ctx.param(SIMILARITY)
        languages = languages_of(ctx, LANGUAGE)
        limit = ctx.param(MAX_REQUESTS) or 20 * ctx.n
        digests = {language: template_hash(EVOLVE, ANSWER, *METHODS.values())
                   if language == "python" else
                   template_hash(EVOLVE, STDIO_ANSWER, answer_prompt(language),
                                 *METHODS.values()) for language in languages}
        await load_similarity()
        generation = [(t["id"], t["instruction"]) for t in load_seed_tasks(ctx.seeds)]
        kept, requests = 0, 0
        for round_ in range(1, rounds + 1):
            survivors: list[tuple[str, str]] = []

            async def evolve(item: tuple[str, str], round_: int = round_
                             ) -> tuple[str, str, str, str | None, str | None]:
                parent, instruction = item
                language = pick(languages, parent)
                method = ctx.rng("evol", parent, round_).choice(sorted(METHODS))
                prompt = EVOLVE.format(method=METHODS[method], instruction=instruction)
                evolved = await ctx.ask(prompt, sample=round_)
                answer = None
                if evolved and evolved.strip():
                    answer = await ctx.ask(ANSWER.format(instruction=evolved.strip())
                                           if language == "python" else STDIO_ANSWER.format(
                        name=NAMES[language], instruction=evolved.strip(),
                        answer=answer_prompt(language)))
                return parent, instruction, method, evolved, answer

            async for parent, instruction, method, evolved, answer in in_order(
                    generation, evolve, ctx.llm.config.concurrency):
                requests += 2
                language = pick(languages, parent)
                digest = digests[language]
                reason = _eliminate(instruction, evolved, answer, threshold)
                if reason:
                    ctx.reject(reason, parent=parent, round=round_, method=method)
                    continue
                assert evolved is not None and answer is not None
                extra: dict[str, Any] = {}
                if language == "python":
                    code = extract_code(answer)
                    problem = None if code else "no_code"
                else:
                    code, cases = split_answer(answer, language)
                    problem = draft_problem(code, cases)
                if problem is not None:
                    ctx.reject(problem, parent=parent, round=round_, method=method)
                    continue
                assert code is not None
                if language != "python":
                    detail = {"parent": parent, "round": round_, "method": method}
                    [execution] = await check_stdio(
                        ctx, [Draft(f"{parent}-{round_}", language, code, cases, detail)])
                    if execution is None:
                        continue
                    extra = {**stdio_fields(language, cases), "result": execution.to_dict()}
                evolved = evolved.strip()
                names = function_names(code) if language == "python" else []
                out = record(ctx, self.name, evolved, code=code,
                             tests=extra.get("tests"),
                             entry_point=names[0] if names else None, parents=[parent],
                             round_=round_, template=digest, evolution=method)
                out.update(extra)
                survivors.append((out["id"], evolved))
                yield out
                kept += 1
                if kept >= ctx.n:
                    return
            if not survivors or requests >= limit:
                ctx.reject("gave_up", round=round_, requests=requests)
                return
            generation = survivors


def _eliminate(original: str, evolved: str | None, answer: str | None,
               threshold: float) -> str | None:
    """WizardLM's elimination rules; the equality check is ROUGE-L here, not a model call."""
    if evolved is None or not evolved.strip():
        return "empty_evolution"
    if copies_the_prompt(evolved):
        return "copied_prompt"
    pool = SimilarityPool(threshold)
    pool.add(original)
    if pool.too_similar(evolved):
        return "no_information_gain"
    if answer is None or not answer.strip():
        return "empty_response"
    if sorry(answer):
        return "sorry"
    if only_filler(answer):
        return "filler_response"
    return None
