"""``refactor``: functionally identical variants of verified programs (renamed locals, an
extracted helper, loop <-> comprehension, formatting and comments), from deterministic
libcst transforms and from the model. A variant is kept only when it passes the original's
tests in the sandbox **and** agrees with the original on generated inputs (differential
testing, :mod:`.differential`). Records keep the source id, the transforms and the diff.

Seeds: a JSONL file of verified records (``codesynth verify`` output, a pipeline's
``verified.jsonl``), or a folder holding ``verified.jsonl``.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any, ClassVar

from codesynth.generators.base import Context, Param, in_order, template_hash
from codesynth.generators.rewrites import TRANSFORMS, apply_chain
from codesynth.generators.sources import Source, load_sources
from codesynth.generators.variants import (
    INPUTS,
    Baseline,
    baseline,
    check,
    reply_code,
    screen,
    variant_record,
)
from codesynth.registry import generators

REWRITE = """Rewrite the Python program below into a functionally identical program: \
{style}. Keep the function `{entry}` with the same name, parameters and behaviour on every \
input. Answer with the complete program in one ```python block.

```python
{code}
```
"""
STYLES = ("rename the local variables to clearer names",
          "move part of the work into a small helper function",
          "turn loops that build lists into comprehensions, or the reverse",
          "add short comments and a docstring that explain the code",
          "restructure the control flow without changing what it computes")
MODEL_SAMPLES = Param("model_samples", int, 2, "variants asked of the model per program (0: "
                      "the deterministic transforms only)", minimum=0, maximum=32)
DETERMINISTIC = Param("transforms", str, "all", "deterministic transforms: all, none, or a "
                      "comma-separated list of " + ", ".join(TRANSFORMS))
PER_SOURCE = Param("per_source", int, 8, "variants kept per program at most", minimum=1)


def transform_names(value: str) -> list[str]:
    if value == "all":
        return list(TRANSFORMS)
    if value == "none":
        return []
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in TRANSFORMS]
    if unknown:
        from codesynth.errors import UserError

        raise UserError(f"params.transforms: unknown transform(s) {', '.join(unknown)} "
                        f"(known: {', '.join(TRANSFORMS)})")
    return names


@generators.register("refactor")
class Refactor:
    name = "refactor"
    params: ClassVar[tuple[Param, ...]] = (MODEL_SAMPLES, DETERMINISTIC, INPUTS, PER_SOURCE)

    async def generate(self, ctx: Context) -> AsyncIterator[dict[str, Any]]:
        names = transform_names(ctx.param(DETERMINISTIC))
        sources = load_sources(ctx.seeds)
        kept = 0
        batch = max(1, ctx.llm.config.concurrency // max(1, ctx.param(MODEL_SAMPLES)))
        async for records in in_order(sources, lambda s: self._variants(ctx, s, names),
                                      batch):
            for record in records:
                yield record
                kept += 1
                if kept >= ctx.n:
                    return

    async def _variants(self, ctx: Context, source: Source,
                        names: list[str]) -> list[dict[str, Any]]:
        base = await baseline(ctx, source, ctx.param(INPUTS), self.name)
        if base is None or ctx.stopped:
            return []
        code, entry = source.job.code, source.entry
        rng = ctx.rng(self.name, source.job.id)
        made: list[tuple[str | None, dict[str, Any]]] = []
        for name in names:  # each transform alone, then all of them in a row
            variant = TRANSFORMS[name](code, entry, rng)
            if variant is not None:
                made.append((variant, {"transforms": [name], "model": False}))
        if len(names) > 1:
            chained, applied = apply_chain(code, rng.sample(names, len(names)), entry, rng)
            if len(applied) > 1:
                made.append((chained, {"transforms": applied, "model": False}))
        made += await self._from_model(ctx, source)
        return await self._judge(ctx, base, made)

    async def _from_model(self, ctx: Context, source: Source
                          ) -> list[tuple[str | None, dict[str, Any]]]:
        import asyncio

        samples = ctx.param(MODEL_SAMPLES)
        offset = ctx.rng(self.name, source.job.id, "styles").randrange(len(STYLES))
        styles = [STYLES[(offset + i) % len(STYLES)] for i in range(samples)]
        replies = await asyncio.gather(*(ctx.ask(REWRITE.format(
            style=style, entry=source.entry, code=source.job.code.rstrip()), sample=i)
            for i, style in enumerate(styles)))
        digest = template_hash(REWRITE)
        return [(reply_code(reply),
                 {"transforms": ["model"], "model": True, "style": style, "sample": i,
                  "template_hash": digest, "answered": reply is not None})
                for i, (style, reply) in enumerate(zip(styles, replies, strict=True))]

    async def _judge(self, ctx: Context, base: Baseline,
                     made: list[tuple[str | None, dict[str, Any]]]) -> list[dict[str, Any]]:
        source_id = base.source.job.id
        seen: set[str] = set()
        runnable: list[tuple[str, dict[str, Any]]] = []
        for code, how in made:
            if not how.pop("answered", True):
                continue  # a failed request: rejected as such already
            reason = screen(base, code)
            if reason is None and code is not None and code in seen:
                reason = "duplicate_variant"
            if reason is not None:
                ctx.reject(reason, source=source_id, transforms=how["transforms"],
                           sample=how.get("sample"))
                continue
            assert code is not None
            seen.add(code)
            runnable.append((code, how))
        verdicts = await check(ctx, base, [code for code, _ in runnable])
        records = []
        for (_code, how), verdict in zip(runnable, verdicts, strict=True):
            if verdict.reason is not None:
                ctx.reject(verdict.reason, source=source_id, transforms=how["transforms"],
                           sample=how.get("sample"), **verdict.detail)
                continue
            records.append(variant_record(ctx, self.name, base, verdict, how))
        return list(itertools.islice(records, ctx.param(PER_SOURCE)))
