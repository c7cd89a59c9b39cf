"""``optimize``: faster variants of verified programs (AlphaDev's goal, with the model and
deterministic CPython speed-ups (:mod:`.speedups`, each alone and all chained) as the
search). A variant is kept when it passes the original's tests, agrees with the original on
generated inputs, and is statistically faster: both run the tests ``loops`` times per
sandbox job, ``repeats`` jobs each, interleaved; the sandbox's CPU time of each job is the
sample; kept when the exact one-sided Mann-Whitney U p-value is below ``alpha``, the median
speed-up at least ``min_speedup`` and the bootstrap interval's low end above 1. The trace
carries every measurement, the noise bounds (quartiles, interval) and the speed-up.

Seeds: verified records (as for ``refactor``); the tests must be ``assert`` style (they are
the timed workload).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from typing import Any, ClassVar

from codesynth.generators.base import Context, Param, in_order, template_hash
from codesynth.generators.sources import Source, load_sources
from codesynth.generators.speedups import SPEEDUPS, chain
from codesynth.generators.timing import compare
from codesynth.generators.variants import (
    INPUTS,
    Baseline,
    Verdict,
    baseline,
    check,
    reply_code,
    run_jobs,
    screen,
    variant_record,
)
from codesynth.records import Execution, Job
from codesynth.registry import generators

FASTER = """Make the Python program below run faster (a better algorithm or data structure, \
less repeated work) while returning exactly the same results for every input. Keep the \
function `{entry}` with the same name and parameters. Answer with the complete program in \
one ```python block.

Example. Slow:
```python
def total(xs):
    result = 0
    for x in xs:
        result = result + x
    return result
```
Faster:
```python
def total(xs):
    return sum(xs)
```

Now this program:
```python
{code}
```
"""
SAMPLES = Param("samples", int, 2, "faster variants asked of the model per program",
                minimum=1, maximum=32)
REPEATS = Param("repeats", int, 7, "timed jobs per program and per variant", minimum=3,
                maximum=100)
TARGET = Param("target_seconds", float, 0.05, "CPU seconds of work per timed job (the "
               "tests are looped to reach it)", minimum=0.001, maximum=10)
MIN_SPEEDUP = Param("min_speedup", float, 1.1, "median speed-up to keep a variant",
                    minimum=1.0)
SPEEDUP_NAMES = Param("transforms", str, "all", "deterministic speed-ups: all, none, or a "
                      "comma-separated list of " + ", ".join(SPEEDUPS))
ALPHA = Param("alpha", float, 0.05, "significance level of the one-sided test", minimum=1e-6,
              maximum=0.5)
# The tests run ``loops`` times inside the program's own process, after its code: a call
# from the judge's side crosses a process boundary (tens of microseconds), which would time
# the crossing instead of the program. Their statements become the body of a ``for`` loop
# in the syntax tree (no text is re-indented, so string literals stay as written). This is
# a measurement, not a verdict: each variant timed has passed the tests and agreed with
# the original in the judge first. A variant can still cheat this clock by tampering with
# the interpreter (it shares the process); a kept record's ``timing`` is evidence of speed
# as far as that goes.
LOOP = """
import ast as _cs_ast
_cs_tree = _cs_ast.parse({tests!r}, "tests.py")
_cs_tree.body = [_cs_ast.For(target=_cs_ast.Name("_cs_round", ctx=_cs_ast.Store()),
                             iter=_cs_ast.parse("range({loops})", mode="eval").body,
                             body=_cs_tree.body or [_cs_ast.Pass()], orelse=[])]
exec(compile(_cs_ast.fix_missing_locations(_cs_tree), "tests.py", "exec"), globals())
"""


def timed_job(job_id: str, code: str, tests: str, loops: int) -> Job:
    return Job(id=job_id, code=code.rstrip() + "\n\n" + LOOP.format(tests=tests, loops=loops),
               tests="assert True\n")


def speedup_names(value: str) -> list[str]:
    if value == "all":
        return list(SPEEDUPS)
    if value == "none":
        return []
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in SPEEDUPS]
    if unknown:
        from codesynth.errors import UserError

        raise UserError(f"params.transforms: unknown speed-up(s) {', '.join(unknown)} "
                        f"(known: {', '.join(SPEEDUPS)})")
    return names


@generators.register("optimize")
class Optimize:
    name = "optimize"
    params: ClassVar[tuple[Param, ...]] = (SAMPLES, REPEATS, TARGET, MIN_SPEEDUP, ALPHA,
                                           INPUTS, SPEEDUP_NAMES)

    async def generate(self, ctx: Context) -> AsyncIterator[dict[str, Any]]:
        """Programs are asked about and checked ``concurrency`` at a time; the timing runs
        one variant at a time, so that measurements never compete with each other."""
        names = speedup_names(ctx.param(SPEEDUP_NAMES))
        sources = load_sources(ctx.seeds)
        kept = 0
        batch = max(1, ctx.llm.config.concurrency // max(1, ctx.param(SAMPLES)))
        async for base, correct in in_order(sources, lambda s: self._correct(ctx, s, names),
                                            batch):
            loops: int | None = None
            for verdict, how in correct:
                if loops is None:
                    loops = await self._calibrate(ctx, base)
                record = await self._faster(ctx, base, verdict, how, loops)
                if record is not None:
                    yield record
                    kept += 1
                    if kept >= ctx.n:
                        return

    async def _correct(self, ctx: Context, source: Source, names: list[str]
                       ) -> tuple[Baseline | None, list[tuple[Verdict, dict[str, Any]]]]:
        """The variants of one program (the speed-ups', the model's) that pass its tests
        and agree with it."""
        if source.job.test_style != "assert":
            ctx.reject("timing_needs_assert_tests", source=source.job.id)
            return None, []
        base = await baseline(ctx, source, ctx.param(INPUTS), self.name)
        if base is None or ctx.stopped:
            return None, []
        code, rng = source.job.code, ctx.rng(self.name, source.job.id)
        made: list[tuple[str | None, dict[str, Any]]] = []
        for name in names:  # each speed-up alone, then all of them in a row
            variant = SPEEDUPS[name](code, source.entry, rng)
            if variant is not None:
                made.append((variant, {"transforms": [name], "model": False}))
        chained, applied = chain(code, names, source.entry, rng)
        if len(applied) > 1:
            made.append((chained, {"transforms": applied, "model": False}))
        replies = await asyncio.gather(*(ctx.ask(FASTER.format(
            entry=source.entry, code=source.job.code.rstrip()), sample=i)
            for i in range(ctx.param(SAMPLES))))
        made += [(reply_code(reply), {"transforms": ["model"], "model": True, "sample": i,
                                      "template_hash": template_hash(FASTER)})
                 for i, reply in enumerate(replies) if reply is not None]
        runnable: list[tuple[str, dict[str, Any]]] = []
        for variant, how in made:
            reason = screen(base, variant)
            if reason is None and any(variant == c for c, _ in runnable):
                reason = "duplicate_variant"
            if reason is not None:
                ctx.reject(reason, source=source.job.id, transforms=how["transforms"],
                           sample=how.get("sample"))
                continue
            assert variant is not None
            runnable.append((variant, how))
        verdicts = await check(ctx, base, [c for c, _ in runnable])
        correct = []
        for (_, how), verdict in zip(runnable, verdicts, strict=True):
            if verdict.reason is not None:
                ctx.reject(verdict.reason, source=source.job.id, transforms=how["transforms"],
                           sample=how.get("sample"), **verdict.detail)
            else:
                correct.append((verdict, how))
        return base, correct

    async def _faster(self, ctx: Context, base: Baseline | None, verdict: Verdict,
                      how: dict[str, Any], loops: int) -> dict[str, Any] | None:
        assert base is not None
        source_id = base.source.job.id
        where = {"source": source_id, "transforms": how["transforms"],
                 "sample": how.get("sample")}
        timing = await self._time(ctx, base, verdict.code, loops)
        if timing.get("reason"):
            ctx.reject(timing["reason"], **where)
            return None
        faster = timing["p_value"] < ctx.param(ALPHA) and \
            timing["speedup"] >= ctx.param(MIN_SPEEDUP) and timing["speedup_ci95"][0] > 1
        if not faster:
            ctx.reject("not_faster", **where, speedup=timing["speedup"],
                       p_value=round(timing["p_value"], 4))
            return None
        return variant_record(ctx, self.name, base, verdict, how, speedup=timing["speedup"],
                              timing=timing)

    async def _calibrate(self, ctx: Context, base: Baseline | None) -> int:
        """Loops of the tests that take about ``target_seconds`` of CPU in one job: the
        loops are multiplied by 10 until the work (CPU time above an empty job's) is at
        least 10 ms, so that a fast workload is not extrapolated from noise."""
        assert base is not None
        job = base.source.job
        target = ctx.param(TARGET)
        loops, per_loop = 20, 0.0
        while True:
            empty, looped = await run_jobs(ctx, [
                timed_job(f"{job.id}~cal0", job.code, job.tests, 0),
                timed_job(f"{job.id}~cal{loops}", job.code, job.tests, loops)],
                measure=True)
            work = looped.cpu_time - empty.cpu_time
            per_loop = max(work / loops, 1e-7)
            if work >= min(0.01, target) or loops >= 100_000 or not looped.passed:
                break
            loops *= 10
        return max(1, min(100_000, math.ceil(target / per_loop)))

    async def _time(self, ctx: Context, base: Baseline, code: str,
                    loops: int) -> dict[str, Any]:
        """Interleaved timed jobs: empty (overhead), original, variant, ``repeats`` times.
        Run one at a time, so that the two programs never compete for a core."""
        job = base.source.job
        jobs = []
        for r in range(ctx.param(REPEATS)):
            jobs += [timed_job(f"{job.id}~t{r}e", job.code, job.tests, 0),
                     timed_job(f"{job.id}~t{r}o", job.code, job.tests, loops),
                     timed_job(f"{job.id}~t{r}v", code, job.tests, loops)]
        results: list[Execution] = await run_jobs(ctx, jobs, one_at_a_time=True,
                                                 measure=True)
        if not all(e.passed for e in results):
            bad = next(e for e in results if not e.passed)
            return {"reason": f"timing_{bad.status.value}"}
        import statistics

        overhead = statistics.median(e.cpu_time for e in results[0::3])
        timing = compare([e.cpu_time for e in results[1::3]],
                         [e.cpu_time for e in results[2::3]], overhead,
                         ctx.rng(self.name, job.id, "bootstrap"))
        return {**timing, "loops": loops, "repeats": ctx.param(REPEATS),
                "clock": "sandbox cpu_time per job"}
