"""``translate`` (TransCoder / MultiPL-T): verified programs rewritten by the model in another
language, kept only when the translation passes the source's own tests in the sandbox.

Sources: verified records (``codesynth verify`` output, a pipeline's ``verified.jsonl``).
Their tests come along unchanged: ``stdio`` cases do not depend on the language, and
equality assertions (``assert``, ``humaneval``) run in the target through the judge's calls
and a per-language driver (``translate_asserts``: the model is given the declaration the
driver needs). Each source is run again beside its translations (a source that does not pass
its tests is ``source_failed``: they say nothing). Tests that do not translate (``pytest``,
``native``, assertions that are not equalities on literals, literals the target cannot
express) are counted rejections (``tests_untranslatable``, ``tests_unrenderable``) with the
line and why. Records keep the source's id, its language and the target.

Parameters (``--param``): see ``Translate.params``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, ClassVar

from codesynth.generators.base import Context, Param, in_order, template_hash
from codesynth.generators.polyglot import EXAMPLES, NAMES, stdio_job
from codesynth.generators.sources import Source, load_sources
from codesynth.generators.translate_asserts import (
    TRANSLATE_FUNCTION,
    Prepared,
    Skip,
    history,
    prepare,
    prompt,
    target_job,
)
from codesynth.llm.extract import extract_code
from codesynth.records import LANGUAGES, Origin, content_id
from codesynth.registry import generators

TRANSLATE = """Translate the {source_name} program below into {target_name} with the same \
behaviour: it reads the same standard input and prints exactly the same standard output. \
Answer with the complete {target_name} program in one ```{target} block.

Example:
```{source}
{example_source}```
in {target_name}:
```{target}
{example_target}```

Program:
```{source}
{code}
```
"""
TARGET = Param("target", str, "javascript", "the language to translate into",
               choices=LANGUAGES)
SAMPLES = Param("samples", int, 1, "translations asked of the model per source program",
                minimum=1, maximum=32)
PER_SOURCE = Param("per_source", int, 1, "translations kept per source program at most",
                   minimum=1)


@generators.register("translate")
class Translate:
    name = "translate"
    params: ClassVar[tuple[Param, ...]] = (TARGET, SAMPLES, PER_SOURCE)

    async def generate(self, ctx: Context) -> AsyncIterator[dict[str, Any]]:
        target = ctx.param(TARGET)
        sources: list[tuple[Source, Prepared | None]] = []
        for source in load_sources(ctx.seeds):
            language = source.job.language
            if language == target:
                ctx.reject("same_language", source=source.job.id, language=language)
            elif source.job.test_style == "stdio":
                sources.append((source, None))
            else:
                try:
                    sources.append((source, prepare(source.job, target)))
                except Skip as skip:
                    ctx.reject(skip.reason, source=source.job.id,
                               test_style=source.job.test_style, why=skip.why)
        kept = 0
        async for records in in_order(sources, lambda s: self._translate(ctx, *s, target),
                                      max(1, ctx.llm.config.concurrency)):
            for record in records:
                yield record
                kept += 1
                if kept >= ctx.n:
                    return

    async def _translate(self, ctx: Context, source: Source, prepared: Prepared | None,
                         target: str) -> list[dict[str, Any]]:
        job, language = source.job, source.job.language
        if prepared is None:
            text = TRANSLATE.format(source_name=NAMES[language], target_name=NAMES[target],
                                    source=language, target=target,
                                    example_source=EXAMPLES[language],
                                    example_target=EXAMPLES[target], code=job.code.rstrip())
            digest = template_hash(TRANSLATE, EXAMPLES[language], EXAMPLES[target])
            turns = []
        else:
            text, turns = prompt(job, target, prepared), history(language, target)
            digest = template_hash(TRANSLATE_FUNCTION, *(t["content"] for t in turns))
        samples = ctx.param(SAMPLES)
        replies = await asyncio.gather(*(ctx.ask(text, sample=i, history=turns)
                                         for i in range(samples)))
        drafts: list[tuple[int, str]] = []
        for sample, reply in enumerate(replies):
            if reply is None:
                continue  # a failed request: rejected as such already
            code = extract_code(reply, target)
            if code is None:
                ctx.reject("no_code", source=job.id, target=target, sample=sample)
            elif any(code == other for _, other in drafts):
                ctx.reject("duplicate_translation", source=job.id, sample=sample)
            else:
                drafts.append((sample, code))
        if not drafts:
            return []
        # The source runs again with its translations: cases it does not pass prove nothing.
        if prepared is None:
            jobs = [stdio_job(job.id, language, job.code, job.tests)] + [
                stdio_job(f"{job.id}~{target}{sample}", target, code, job.tests)
                for sample, code in drafts]
        else:
            jobs = [job] + [target_job(f"{job.id}~{target}{sample}", job, target, code,
                                       prepared) for sample, code in drafts]
        results = await asyncio.to_thread(lambda: list(ctx.sandbox.run_many(jobs, ctx.limits)))
        if not results[0].passed:
            ctx.reject("source_failed", source=job.id, status=results[0].status.value,
                       message=results[0].reason[:200])
            return []
        records = []
        for (sample, code), execution in zip(drafts, results[1:], strict=True):
            if not execution.passed:
                ctx.reject(f"tests_{execution.status.value}", source=job.id, target=target,
                           sample=sample, message=execution.reason[:200])
                continue
            origin = Origin(method=self.name, model=ctx.llm.model, template_hash=digest,
                            parent_ids=(job.id,), seed=ctx.seed,
                            params={"target": target, "sample": sample})
            records.append({
                "id": content_id(self.name, job.id, target, code),
                "instruction": source.record.get("instruction") or "",
                "language": target, "code": code,
                "tests": job.tests if prepared is None else prepared.tests,
                "test_style": job.test_style, "entry_point": job.entry_point,
                "source_id": job.id, "source_language": language,
                "target_language": target, "source_code": job.code,
                **({"source_origin": source.record["origin"]}
                   if isinstance(source.record.get("origin"), dict) else {}),
                "origin": origin.to_dict(), "result": execution.to_dict()})
        return records[:ctx.param(PER_SOURCE)]
