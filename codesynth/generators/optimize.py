"""``optimize``: faster variants of verified programs (AlphaDev's goal, with the model as the
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
ALPHA = Param("alpha", float, 0.05, "significance level of the one-sided test", minimum=1e-6,
              maximum=0.5)
LOOP = "_cs_code = compile({tests!r}, 'tests.py', 'exec')\n" \
       "for _cs_round in range({loops}):\n    exec(_cs_code, globals())\n"


def timed_job(job_id: str, code: str, tests: str, loops: int) -> Job:
    return Job(id=job_id, code=code, tests=LOOP.format(tests=tests, loops=loops))


@generators.register("optimize")
class Optimize:
    name = "optimize"
    params: ClassVar[tuple[Param, ...]] = (SAMPLES, REPEATS, TARGET, MIN_SPEEDUP, ALPHA,
                                           INPUTS)

    async def generate(self, ctx: Context) -> AsyncIterator[dict[str, Any]]:
        """Programs are asked about and checked ``concurrency`` at a time; the timing runs
        one variant at a time, so that measurements never compete with each other."""
        sources = load_sources(ctx.seeds)
        kept = 0
        batch = max(1, ctx.llm.config.concurrency // ctx.param(SAMPLES))
        async for base, correct in in_order(sources, lambda s: self._correct(ctx, s), batch):
            loops: int | None = None
            for code, index, verdict in correct:
                if loops is None:
                    loops = await self._calibrate(ctx, base)
                record = await self._faster(ctx, base, code, index, verdict, loops)
                if record is not None:
                    yield record
                    kept += 1
                    if kept >= ctx.n:
                        return

    async def _correct(self, ctx: Context, source: Source
                       ) -> tuple[Baseline | None, list[tuple[str, int, Verdict]]]:
        """The model's variants of one program that pass its tests and agree with it."""
        if source.job.test_style != "assert":
            ctx.reject("timing_needs_assert_tests", source=source.job.id)
            return None, []
        base = await baseline(ctx, source, ctx.param(INPUTS), self.name)
        if base is None or ctx.stopped:
            return None, []
        replies = await asyncio.gather(*(ctx.ask(FASTER.format(
            entry=source.entry, code=source.job.code.rstrip()), sample=i)
            for i in range(ctx.param(SAMPLES))))
        runnable: list[tuple[str, int]] = []
        for index, reply in enumerate(replies):
            if reply is None:
                continue
            code = reply_code(reply)
            reason = screen(base, code)
            if reason is None and code is not None and any(code == c for c, _ in runnable):
                reason = "duplicate_variant"
            if reason is not None:
                ctx.reject(reason, source=source.job.id, sample=index)
                continue
            assert code is not None
            runnable.append((code, index))
        verdicts = await check(ctx, base, [code for code, _ in runnable])
        correct = []
        for (code, index), verdict in zip(runnable, verdicts, strict=True):
            if verdict.reason is not None:
                ctx.reject(verdict.reason, source=source.job.id, sample=index,
                           **verdict.detail)
            else:
                correct.append((code, index, verdict))
        return base, correct

    async def _faster(self, ctx: Context, base: Baseline | None, code: str, index: int,
                      verdict: Verdict, loops: int) -> dict[str, Any] | None:
        assert base is not None
        source_id = base.source.job.id
        timing = await self._time(ctx, base, code, loops)
        if timing.get("reason"):
            ctx.reject(timing["reason"], source=source_id, sample=index)
            return None
        faster = timing["p_value"] < ctx.param(ALPHA) and \
            timing["speedup"] >= ctx.param(MIN_SPEEDUP) and timing["speedup_ci95"][0] > 1
        if not faster:
            ctx.reject("not_faster", source=source_id, sample=index,
                       speedup=timing["speedup"], p_value=round(timing["p_value"], 4))
            return None
        how = {"transforms": ["model"], "model": True, "sample": index,
               "template_hash": template_hash(FASTER)}
        return variant_record(ctx, self.name, base, verdict, how, speedup=timing["speedup"],
                              timing=timing)

    async def _calibrate(self, ctx: Context, base: Baseline | None) -> int:
        """Loops of the tests that take about ``target_seconds`` of CPU in one job."""
        assert base is not None
        job = base.source.job
        probes = [timed_job(f"{job.id}~cal{n}", job.code, job.tests, n) for n in (0, 20)]
        empty, twenty = await run_jobs(ctx, probes)
        per_loop = max((twenty.cpu_time - empty.cpu_time) / 20, 1e-6)
        return max(1, min(100_000, math.ceil(ctx.param(TARGET) / per_loop)))

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
        results: list[Execution] = await run_jobs(ctx, jobs, one_at_a_time=True)
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
