"""``codesynth eval BENCH -n N [--model M]``: sample the model, then score what it wrote.

Everything that can be checked is checked before the model starts: the settings, the
problems and the prompts (MBPP's 3-shot prompt needs tasks 2-4), the output paths."""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path
from typing import Any

from rich.text import Text

from codesynth.benchmarks.base import Benchmark
from codesynth.cli._display import LOG_EVERY, console
from codesynth.cli._llm_args import endpoint
from codesynth.errors import UserError

MAX_N = 100_000


def _config(args: argparse.Namespace) -> Any:
    from codesynth.llm import LLMConfig

    return LLMConfig.load(args.config, base_url=args.base_url, model=args.model,
                          mode=args.mode, concurrency=args.concurrency,
                          temperature=args.temperature, top_p=args.top_p,
                          max_tokens=args.max_tokens, seed=args.seed,
                          budget_requests=args.budget_requests,
                          budget_tokens=args.budget_tokens, cache=args.cache)


class _Progress:
    """Replies received out of the total: a live bar on a terminal, else a line now and then."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.done = label, total, 0
        self.started = self.last = time.monotonic()
        self.bar: Any = None
        if console.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

            self.bar = Progress("[bold]{task.description}", BarColumn(), MofNCompleteColumn(),
                                TimeElapsedColumn(), console=console)
            self.row = self.bar.add_task(label, total=total)
            self.bar.start()

    def __call__(self, count: int) -> None:
        self.done += count
        if self.bar is not None:
            self.bar.update(self.row, completed=self.done)
            return
        now = time.monotonic()
        if now - self.last >= LOG_EVERY:
            self.last = now
            console.print(Text(f"{self.label}: {self.done}/{self.total} replies, "
                               f"{self.done / (now - self.started):.1f}/s"), highlight=False)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def sample_then_score(args: argparse.Namespace, bench: Benchmark) -> int:
    from codesynth.benchmarks.sampling import request_of, sample
    from codesynth.benchmarks.scoring import parse_ks, results_path, score
    from codesynth.cli._sandbox_args import limits_from
    from codesynth.jsonl import ResumableJSONLWriter
    from codesynth.llm import LLM, BudgetExhausted

    n = 1 if args.n is None else args.n
    if not 1 <= n <= MAX_N:
        raise UserError(f"-n: expected 1 to {MAX_N:,} samples per problem, got {n}")
    if args.sanitize:
        raise UserError("--sanitize applies to a samples file; sampling takes the program "
                        "out of chat answers itself")
    config = _config(args)
    problems, source = bench.load(args.problems, args.dataset, args.split)
    ids = bench.sampling_ids(problems)
    request_of(bench, problems[ids[0]], problems, config.mode)  # a prompt it cannot make
    samples_out = Path(args.samples_out or f"{bench.name}_samples.jsonl")
    if samples_out.is_dir() or not samples_out.parent.is_dir():
        raise UserError(f"--samples-out {samples_out}: not a file in an existing directory")
    args.samples = str(samples_out)
    parse_ks(args.k)  # what scoring would refuse, refused before the model starts
    limits = limits_from(args)
    results = ResumableJSONLWriter(results_path(args), restart=args.restart)  # checks the path
    progress = _Progress(f"{bench.name}: sampling", len(ids) * n)
    # Scoring starts as samples arrive, unless a results file is being resumed.
    ahead = None if (results.partial.exists() and not args.restart) or \
        getattr(args, "no_overlap", False) else _overlap(args, bench, problems, samples_out,
                                                          limits)

    async def run(base_url: str) -> Any:
        llm = LLM(config, base_url)
        try:
            result = await sample(bench, problems, ids, llm, n, config.mode, str(samples_out),
                                  progress, ahead.put if ahead is not None else None)
        finally:
            await llm.close()
        return llm, result

    try:
        with endpoint(config) as base_url:
            llm, result = asyncio.run(run(base_url))
    except BaseException as exc:
        if ahead is not None:
            ahead.abandon()
            ahead.sandbox.close()
        if isinstance(exc, BudgetExhausted):
            raise BudgetExhausted(f"{exc}; the samples file was not written. Raise the budget "
                                  "and run the same command again: the answers received "
                                  "come from the cache") from None
        raise
    finally:
        progress.stop()
    if ahead is not None:
        ahead.close_feed()
    usage = llm.usage.to_dict()
    console.print(Text(f"{bench.name}: {result.samples} samples of {result.problems} problems "
                       f"in {samples_out} ({usage['requests']} requests, {usage['cache_hits']} "
                       f"from cache, {usage['tokens']} tokens, {result.seconds:.1f} s)"),
                  highlight=False)
    run_info = {
        "model": llm.model, "server_models": result.server_models,
        "endpoint": "embedded" if config.base_url is None else config.base_url,
        "sampling": {"n": n, "mode": config.mode, "temperature": config.temperature,
                     "top_p": config.top_p, "max_tokens": config.max_tokens,
                     "seed": config.seed,
                     "stop": list(bench.stop) if config.mode == "completion" else None},
        "sampled_problems": len(ids), "sampling_seconds": round(result.seconds, 3),
        "llm": usage, "requests_file": f"{samples_out}.requests.jsonl",
    }
    return score(args, bench, run_info, loaded=(problems, source), ahead=ahead)


def _overlap(args: argparse.Namespace, bench: Benchmark, problems: Any, samples_out: Path,
             limits: Any) -> Any:
    from codesynth.benchmarks.overlap import Overlap
    from codesynth.cli._quality_args import with_cache
    from codesynth.cli._sandbox_args import sandbox_from

    return Overlap(bench, problems, str(samples_out), with_cache(sandbox_from(args, limits),
                                                                  args), limits)
