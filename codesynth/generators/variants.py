"""What the generators that rewrite a verified program share (``refactor``, ``optimize``):
the original's behaviour on generated inputs, observed in the sandbox, and the check of a
variant against it: the original tests pass and every generated input gives the same."""

from __future__ import annotations

import asyncio
import difflib
from dataclasses import dataclass, field
from typing import Any

from codesynth.generators.base import Context, Param
from codesynth.generators.differential import (
    agreement_job,
    disagreement,
    generated_inputs,
    observed,
    probe_job,
)
from codesynth.generators.sources import Source
from codesynth.llm.extract import extract_code, fenced_blocks, function_names, parses
from codesynth.records import Execution, Job, content_id

INPUTS = Param("inputs", int, 24, "generated inputs the variant must agree on (differential "
               "testing)", minimum=1, maximum=500)


@dataclass
class Baseline:
    """The original, run: its inputs and what each gave."""

    source: Source
    inputs: list[str]
    expected: list[str]
    result: Execution


@dataclass
class Verdict:
    code: str
    reason: str | None  # None: kept
    detail: dict[str, Any] = field(default_factory=dict)
    tests: Execution | None = None
    agreement: Execution | None = None


async def run_jobs(ctx: Context, jobs: list[Job], one_at_a_time: bool = False,
                   measure: bool = False) -> list[Execution]:
    """The jobs' executions, in order, from a worker thread. The sandbox is opened here, in
    the event loop's thread: programs checked concurrently must not open one each. With
    ``measure`` (timing), the execution cache is bypassed: a measurement read back from it
    would be the same number every time."""
    from codesynth.exec_cache import CachedSandbox

    box = ctx.sandbox
    if measure and isinstance(box, CachedSandbox):
        box = box.sandbox
    if one_at_a_time:
        return await asyncio.to_thread(lambda: [box.run(j, ctx.limits) for j in jobs])
    return await asyncio.to_thread(lambda: list(box.run_many(jobs, ctx.limits)))


async def baseline(ctx: Context, source: Source, count: int, scope: str) -> Baseline | None:
    """The original's run on its tests and generated inputs; None (rejected) when it fails
    its tests or no input can be made or observed."""
    job = source.job
    if source.entry is None:
        ctx.reject("no_entry_point", source=job.id)
        return None
    inputs = generated_inputs(job.code, job.tests, source.entry,
                              ctx.rng(scope, job.id, "inputs"), count)
    if not inputs:
        ctx.reject("no_differential_inputs", source=job.id)
        return None
    tests, probe = await run_jobs(ctx, [
        job, probe_job(f"{job.id}~probe", job.code, source.entry, inputs)])
    if not tests.passed:
        ctx.reject(f"source_{tests.status.value}", source=job.id)
        return None
    expected = observed(probe)
    if expected is None or all(e == "slow" for e in expected):
        ctx.reject("no_differential_inputs", source=job.id, status=probe.status.value)
        return None
    return Baseline(source, inputs, expected, tests)


def same_program(a: str, b: str) -> bool:
    """The same text, but for trailing spaces and blank lines at the ends."""
    def lines(code: str) -> list[str]:
        return [line.rstrip() for line in code.strip().splitlines()]

    return lines(a) == lines(b)


def screen(base: Baseline, code: str | None) -> str | None:
    """Why a variant is not even worth running, or None."""
    if code is None:
        return "no_code"
    if not parses(code):
        return "unparseable"
    if base.source.entry not in function_names(code):
        return "no_entry_point"
    if same_program(code, base.source.job.code):
        return "unchanged"
    return None


async def check(ctx: Context, base: Baseline, codes: list[str]) -> list[Verdict]:
    """Each variant on the original tests and the generated inputs (two jobs each)."""
    job, entry = base.source.job, base.source.entry
    assert entry is not None
    jobs = []
    for index, code in enumerate(codes):
        jobs.append(Job(id=f"{job.id}~v{index}", code=code, tests=job.tests,
                        test_style=job.test_style, entry_point=job.entry_point))
        jobs.append(agreement_job(f"{job.id}~v{index}~agree", code, entry, base.inputs,
                                  base.expected))
    results = await run_jobs(ctx, jobs) if jobs else []
    verdicts = []
    for index, code in enumerate(codes):
        tests, agree = results[2 * index], results[2 * index + 1]
        if not tests.passed:
            verdicts.append(Verdict(code, f"tests_{tests.status.value}",
                                    {"status": tests.status.value,
                                     "trace": tests.reason[:300]}, tests, agree))
        elif not agree.passed:
            verdicts.append(Verdict(code, "differs_on_generated_inputs", disagreement(agree),
                                    tests, agree))
        else:
            verdicts.append(Verdict(code, None, {}, tests, agree))
    return verdicts


def diff(original: str, variant: str) -> str:
    return "".join(difflib.unified_diff(original.splitlines(keepends=True),
                                        variant.splitlines(keepends=True),
                                        fromfile="original.py", tofile="variant.py"))


def variant_record(ctx: Context, method: str, base: Baseline, verdict: Verdict,
                   how: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A kept variant: the verify format (so that it can be verified again) plus where it
    comes from, how it was made, its diff and both traces."""
    from codesynth.records import Origin

    source = base.source
    assert verdict.tests is not None and verdict.agreement is not None
    origin = Origin(method=method, model=ctx.llm.model if how.get("model") else None,
                    parent_ids=(source.job.id,), seed=ctx.seed, params=how)
    agreed = sum(t.outcome == "passed" for t in verdict.agreement.tests)
    return {"id": content_id(method, source.job.id, verdict.code),
            "instruction": source.record.get("instruction"), "language": "python",
            "code": verdict.code, "tests": source.job.tests,
            "test_style": source.job.test_style, "entry_point": source.job.entry_point,
            "source_id": source.job.id, "source_code": source.job.code,
            "diff": diff(source.job.code, verdict.code), **how,
            "differential": {"inputs": len(base.inputs), "agreed": agreed,
                             "status": verdict.agreement.status.value},
            **extra, "result": verdict.tests.to_dict(), "origin": origin.to_dict()}


def reply_code(reply: str | None) -> str | None:
    """The program in a reply; a fenced block that does not parse is returned as it is (so
    that it is rejected as ``unparseable``, not as ``no_code``)."""
    if not reply:
        return None
    code = extract_code(reply)
    if code is None:
        blocks = [b.code for b in fenced_blocks(reply) if b.language in ("python", "")]
        code = blocks[0] if blocks else None
    return code
