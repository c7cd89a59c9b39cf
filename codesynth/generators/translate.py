"""``translate`` (TransCoder / MultiPL-T): verified programs rewritten by the model in another
language, kept only when the translation passes the source's own tests in the sandbox.

Sources: verified records (``codesynth verify`` output, a pipeline's ``verified.jsonl``)
whose tests are ``stdio`` cases, which do not depend on the language. Each source is run
again beside its translations (a source that does not pass its cases is ``source_failed``:
its cases say nothing). Records whose tests are in another form (``assert``, ``humaneval``,
``pytest``) are skipped with the reason ``tests_not_stdio`` (running their assertions in the
target language, as ``harness/calls.py`` does, is not wired in here yet). Records keep the
source's id, its language and the target.

Parameters (``--param``): see ``Translate.params``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, ClassVar

from codesynth.generators.base import Context, Param, in_order, template_hash
from codesynth.generators.polyglot import EXAMPLES, NAMES, stdio_job
from codesynth.generators.sources import Source, load_sources
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
        sources = []
        for source in load_sources(ctx.seeds):
            language = source.job.language
            if source.job.test_style != "stdio":
                ctx.reject("tests_not_stdio", source=source.job.id,
                           test_style=source.job.test_style)
            elif language == target:
                ctx.reject("same_language", source=source.job.id, language=language)
            else:
                sources.append(source)
        kept = 0
        async for records in in_order(sources, lambda s: self._translate(ctx, s, target),
                                      max(1, ctx.llm.config.concurrency)):
            for record in records:
                yield record
                kept += 1
                if kept >= ctx.n:
                    return

    async def _translate(self, ctx: Context, source: Source,
                         target: str) -> list[dict[str, Any]]:
        job, language = source.job, source.job.language
        prompt = TRANSLATE.format(source_name=NAMES[language], target_name=NAMES[target],
                                  source=language, target=target,
                                  example_source=EXAMPLES[language],
                                  example_target=EXAMPLES[target], code=job.code.rstrip())
        samples = ctx.param(SAMPLES)
        replies = await asyncio.gather(*(ctx.ask(prompt, sample=i) for i in range(samples)))
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
        jobs = [stdio_job(job.id, language, job.code, job.tests)] + [
            stdio_job(f"{job.id}~{target}{sample}", target, code, job.tests)
            for sample, code in drafts]
        results = await asyncio.to_thread(lambda: list(ctx.sandbox.run_many(jobs, ctx.limits)))
        if not results[0].passed:
            ctx.reject("source_failed", source=job.id, status=results[0].status.value,
                       message=results[0].reason[:200])
            return []
        records = []
        digest = template_hash(TRANSLATE, EXAMPLES[language], EXAMPLES[target])
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
                "language": target, "code": code, "tests": job.tests, "test_style": "stdio",
                "entry_point": None, "source_id": job.id, "source_language": language,
                "target_language": target, "source_code": job.code,
                "origin": origin.to_dict(), "result": execution.to_dict()})
        return records[:ctx.param(PER_SOURCE)]
