"""Progress bars and summary tables (rich), on stderr so stdout stays machine-readable."""

from __future__ import annotations

import collections
import time
from collections.abc import Iterable, Iterator
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from codesynth.records import Execution, Status

console = Console(stderr=True)
LOG_EVERY = 10.0  # seconds between progress lines when stderr is not a terminal


class Tally:
    """Counts by status while a run goes on."""

    def __init__(self) -> None:
        self.by_status: collections.Counter[str] = collections.Counter()
        self.started = time.perf_counter()
        self.elapsed = 0.0

    def add(self, execution: Execution) -> None:
        self.by_status[execution.status.value] += 1

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    def stop(self) -> None:
        self.elapsed = time.perf_counter() - self.started

    def as_dict(self) -> dict[str, Any]:
        total = self.total
        return {
            "total": total,
            "by_status": {s.value: self.by_status.get(s.value, 0) for s in Status},
            "pass_rate": (self.by_status["passed"] / total) if total else 0.0,
            "seconds": round(self.elapsed, 3),
            "ms_per_sample": round(1000 * self.elapsed / total, 3) if total else None,
        }


def track(executions: Iterable[tuple[Any, Execution]], total: int, label: str,
          tally: Tally) -> Iterator[tuple[Any, Execution]]:
    """Yield the pairs through, with a live bar when stderr is a terminal, and otherwise (logs,
    CI) a plain line every ``LOG_EVERY`` seconds."""
    if console.is_terminal:
        yield from _live(executions, total, label, tally)
    else:
        next_line = time.perf_counter() + LOG_EVERY
        for item in executions:
            tally.add(item[1])
            now = time.perf_counter()
            if now >= next_line:
                next_line = now + LOG_EVERY
                rate = tally.total / (now - tally.started)
                console.print(Text(f"{label}: {tally.total}/{total} "
                                   f"({100 * tally.total / max(total, 1):.1f}%), {rate:.1f}/s, "
                                   f"{tally.by_status['passed']} passed"), highlight=False)
            yield item
    tally.stop()


def _live(executions: Iterable[tuple[Any, Execution]], total: int, label: str,
          tally: Tally) -> Iterator[tuple[Any, Execution]]:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]:>7} /s"), TextColumn("[green]{task.fields[ok]}"
                                                                     " passed"),
               TimeElapsedColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(label, total=total, rate="-", ok=0)
        for item in executions:
            tally.add(item[1])
            elapsed = time.perf_counter() - tally.started
            rate = tally.total / elapsed if elapsed else 0.0
            progress.update(task, advance=1, ok=tally.by_status["passed"],
                            rate=f"{rate:.1f}" if elapsed else "-")
            yield item


def summary_table(tally: Tally, title: str, extra: dict[str, str] | None = None,
                  caption: str | None = None) -> Table:
    table = Table(title=Text(title), caption=Text(caption) if caption else None, show_edge=True,
                  header_style="bold")
    table.add_column("status")
    table.add_column("count", justify="right")
    table.add_column("share", justify="right")
    total = tally.total or 1
    for status in Status:
        count = tally.by_status.get(status.value, 0)
        if count:
            table.add_row(status.value, str(count), f"{100 * count / total:.1f}%")
    table.add_section()
    table.add_row("total", str(tally.total), f"{tally.elapsed:.1f} s")
    if tally.total:
        table.add_row("ms/sample", f"{1000 * tally.elapsed / tally.total:.2f}", "")
    for key, value in (extra or {}).items():
        table.add_row(key, value, "")
    return table
