"""The running part of ``codesynth generate``: the loop that writes records and rejections as
they come, the progress display on a timer, and what every exit leaves behind.

Progress: with stderr a terminal, a live row refreshed every ``LIVE_REFRESH`` seconds;
otherwise a plain line every ``CODESYNTH_PROGRESS_INTERVAL`` seconds (default 10), even when
nothing was kept. Both read the client's counters (requests, in flight, replies, cache hits,
tokens) and the rejections by reason, so they move with every request, reply and rejection.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from codesynth.cli._display import console
from codesynth.cli._sandbox_args import sandbox_from
from codesynth.errors import UserError
from codesynth.jsonl import json_line
from codesynth.pipeline.view import progress_interval

LIVE_REFRESH = 0.5  # seconds between refreshes of the live row


def resume(path: Path) -> set[str]:
    """Ids already in a JSONL file of ours; a torn last line (a killed run) is cut off."""
    if not path.exists():
        return set()
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        data = data[:data.rfind(b"\n") + 1]
        with path.open("r+b") as handle:
            handle.truncate(len(data))
    ids = set()
    for number, line in enumerate(data.split(b"\n"), 1):
        if line.strip():
            try:
                ids.add(json.loads(line.decode("utf-8"))["id"])
            except (ValueError, KeyError, TypeError):  # not UTF-8, not JSON, no id
                raise UserError(f"{path}:{number}: not a codesynth record; refusing to "
                                "append to it") from None
    return ids


def write_line(handle: IO[str], item: dict[str, Any], sync: bool = True) -> None:
    handle.write(json_line(item))
    handle.flush()
    if sync:
        os.fsync(handle.fileno())


def budget_message(config: Any, usage: Any) -> str:
    """Why a budget stopped the run, with the number of requests actually sent."""
    count = usage.requests  # sent, answered or not
    if config.budget_requests is not None and count >= config.budget_requests:
        what = f"request budget of {config.budget_requests}"
    else:
        what = f"token budget of {config.budget_tokens} ({usage.tokens} token(s) used)"
    if count == 0:
        return f"stopped before sending any request: the {what} allows none"
    return f"stopped: {count} request(s) sent, the {what} is reached"


@dataclass
class Tally:
    kept: int = 0  # records the generator gave (already in the output or new)
    new: int = 0  # of which written by this run


class Display:
    """The progress, refreshed by a timer task while the loop waits for the model."""

    def __init__(self, label: str, target: int, ctx: Any, llm: Any, tally: Tally,
                 interval: float) -> None:
        self.label, self.target, self.ctx, self.llm, self.tally = label, target, ctx, llm, tally
        self.live = console.is_terminal
        self.period = LIVE_REFRESH if self.live else interval
        self.bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                            MofNCompleteColumn(), TextColumn("{task.fields[stats]}"),
                            TimeElapsedColumn(), console=console, disable=not self.live)
        self.row = self.bar.add_task(label, total=target, stats="")
        self._timer: asyncio.Task[None] | None = None

    def stats(self) -> str:
        usage = self.llm.usage
        parts = [f"{usage.requests} req"]
        in_flight = getattr(self.llm, "in_flight", None)
        if in_flight is not None:
            parts.append(f"{in_flight} in flight")
        replies = getattr(usage, "replies", None)
        if replies is not None:
            parts.append(f"{replies} replies")
        parts.append(f"{usage.cache_hits} cached")
        if usage.failures:
            parts.append(f"{usage.failures} failed")
        parts.append(f"{usage.tokens} tok")
        top = ", ".join(f"{k} {v}" for k, v in self.ctx.rejected.most_common(3))
        return ", ".join(parts) + (f"; rejected: {top}" if top else "")

    def update(self) -> None:
        self.bar.update(self.row, completed=self.tally.kept, stats=self.stats())

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.period)
            if self.live:
                self.update()
            else:
                console.print(Text(f"{self.label}: {self.tally.kept}/{self.target} kept; "
                                   f"{self.stats()}"), highlight=False, soft_wrap=True)

    def __enter__(self) -> Display:
        self.update()
        self.bar.start()
        self._timer = asyncio.get_running_loop().create_task(self._tick())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self.update()
        self.bar.stop()


async def generate(args: argparse.Namespace, generator: Any, params: dict[str, Any],
                   config: Any, base_url: str, seeds: Path, output: Path, done: set[str],
                   limits: Any) -> dict[str, Any]:
    """Run the generator, appending new records to ``output`` and rejections to its log.

    ``done`` holds the ids in ``output`` and grows with each record written, so that the
    caller can say what the file holds after any exit (Ctrl-C, a dead server)."""
    from codesynth.generators.base import Context
    from codesynth.llm import LLM, BudgetExhausted

    interval = progress_interval()
    rejected_path = output.with_name(output.name + ".rejected.jsonl")
    logged = resume(rejected_path)
    llm = LLM(config, base_url)
    log = rejected_path.open("a", encoding="utf-8")

    def log_rejection(rejection: dict[str, Any]) -> None:
        if rejection["id"] not in logged:  # the same rejection on a resume: written once
            logged.add(rejection["id"])
            write_line(log, rejection, sync=False)

    ctx = Context(llm=llm, seeds=seeds, n=args.n, seed=args.seed, params=params,
                  sandbox_factory=lambda: sandbox_from(args, limits), limits=limits,
                  on_reject=log_rejection)
    tally = Tally()
    stopped = None
    started = time.monotonic()
    try:
        with output.open("a", encoding="utf-8") as out, \
                Display(args.method, args.n, ctx, llm, tally, interval) as display:
            await llm.resolve_model()  # a dead or unreachable server: ModelUnavailable
            async for item in generator.generate(ctx):
                tally.kept += 1
                if item["id"] not in done:
                    write_line(out, item)
                    done.add(item["id"])
                    tally.new += 1
                display.update()
        if ctx.stopped:  # a budget: the requests in flight were finished and used
            raise BudgetExhausted(ctx.stopped)
    except BudgetExhausted:
        stopped = budget_message(config, llm.usage)
        console.print(Text(stopped, style="yellow"), highlight=False)
    finally:
        log.flush()
        os.fsync(log.fileno())
        log.close()
        ctx.close()
        await llm.close()
    return {"method": args.method, "output": str(output), "kept": tally.kept, "new": tally.new,
            "target": args.n, "stopped": stopped, "model": llm.model,
            "rejected": dict(ctx.rejected), "rejected_total": sum(ctx.rejected.values()),
            "llm": llm.usage.to_dict(), "seconds": round(time.monotonic() - started, 2),
            "rejections_log": str(rejected_path), "requests_sent": llm.usage.requests}
