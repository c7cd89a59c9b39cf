"""The live view of a run: one row per stage (in, out, top rejection reasons, the model's
requests, rate, elapsed, ETA), redrawn on a timer so that nothing freezes while the model
thinks; when stderr is not a terminal, a plain line per stage every ``interval`` seconds."""

from __future__ import annotations

import collections
import math
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from codesynth.errors import UserError
from codesynth.pipeline import stages

PROGRESS_ENV = "CODESYNTH_PROGRESS_INTERVAL"
PROGRESS_RANGE = (0.1, 86400.0)  # seconds: no flood of lines, and a thread can sleep it


def progress_interval() -> float:
    """Seconds between plain progress lines (stderr not a terminal), for ``run`` and
    ``generate``: ``CODESYNTH_PROGRESS_INTERVAL`` (default 10), from 0.1 to 86400."""
    raw = os.environ.get(PROGRESS_ENV, "").strip()
    try:
        value = float(raw) if raw else 10.0
    except ValueError:
        value = math.nan
    low, high = PROGRESS_RANGE
    if not low <= value <= high:
        raise UserError(f"{PROGRESS_ENV}={raw[:40]!r}: expected a number of seconds from "
                        f"{low:g} to {high:g}")
    return value


@dataclass
class Row:
    """What one stage's row shows, read again at every redraw."""

    stage: str
    total: int | None
    started: float = field(default_factory=time.monotonic)
    counts: stages.Counts = field(default_factory=stages.Counts)
    first: int | None = None  # inputs already done when this run of the stage began
    llm: Any = None  # the stage's LLM client, while it has one
    finished: float | None = None

    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    def rate(self) -> float | None:
        """Inputs handled per second since the stage (re)started: it falls while waiting."""
        done = self.counts.inputs - (self.first or 0)
        return done / self.elapsed() if done > 0 and self.elapsed() > 0 else None

    def eta(self) -> float | None:
        rate = self.rate()
        if rate is None or self.total is None or self.finished is not None:
            return None
        return max(0.0, self.total - self.counts.inputs) / rate

    def stats(self) -> str:
        top = ", ".join(f"{k} {v}" for k, v in self.counts.rejected.most_common(2))
        text = f"out {self.counts.kept}" + (f"; {top}" if top else "")
        usage = getattr(self.llm, "usage", None)
        if usage is not None:
            flight = getattr(self.llm, "in_flight", None)
            text += (f"; requests {usage.requests}"
                     + (f" ({flight} in flight)" if isinstance(flight, int) else "")
                     + f", cached {usage.cache_hits}, tokens {usage.tokens}")
        return text

    def line(self) -> str:
        total = f"/{self.total}" if self.total is not None else ""
        rate, eta = self.rate(), self.eta()
        return (f"{self.stage}: in {self.counts.inputs}{total}, {self.stats()}; "
                f"{f'{rate:.2f}/s' if rate else 'rate -'}, elapsed {_clock(self.elapsed())}"
                + (f", ETA {_clock(eta)}" if eta is not None else ""))


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class _RowColumn(ProgressColumn):
    def __init__(self, view: View, what: str) -> None:
        super().__init__()
        self.view, self.what = view, what

    def render(self, task: Task) -> Text:
        row = self.view.by_task.get(task.id)
        if row is None:
            return Text("")
        if self.what == "stats":
            return Text(row.stats())
        if self.what == "rate":
            rate = row.rate()
            return Text(f"{rate:.2f}/s" if rate else "", style="progress.data.speed")
        eta = row.eta()
        return Text(f"ETA {_clock(eta)}" if eta is not None else "", style="progress.remaining")


class View:
    """One progress row per stage; ``start`` returns the tick a stage calls with its counts."""

    def __init__(self, console: Console, interval: float | None = None) -> None:
        self.console = console
        self.interval = interval if interval is not None else progress_interval()
        self.progress = Progress(TextColumn("[bold]{task.description:<13}"), BarColumn(),
                                 MofNCompleteColumn(), _RowColumn(self, "stats"),
                                 _RowColumn(self, "rate"), TimeElapsedColumn(),
                                 _RowColumn(self, "eta"), console=console,
                                 refresh_per_second=4, disable=not console.is_terminal)
        self.rows: dict[str, TaskID] = {}
        self.by_task: dict[TaskID, Row] = {}
        self.current: Row | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> View:
        self.progress.__enter__()
        if not self.console.is_terminal:
            self._thread = threading.Thread(target=self._log, name="pipeline-progress",
                                            daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.progress.__exit__(None, None, None)

    def _log(self) -> None:
        """Stderr is not a terminal: a plain line for the running stage now and then."""
        while not self._stop.wait(self.interval):
            row = self.current
            if row is not None and row.finished is None:
                self.console.print(row.line(), highlight=False, soft_wrap=True)

    def start(self, stage: str, total: int | None, llm: Any = None) -> stages.Tick:
        task = self.progress.add_task(stage, total=total)
        row = Row(stage, total, llm=llm)
        self.rows[stage], self.by_task[task], self.current = task, row, row

        def tick(counts: stages.Counts) -> None:
            if row.first is None:
                row.first = max(0, counts.inputs - 1)
            row.counts = counts
            self.progress.update(task, completed=counts.inputs)

        return tick

    def watch(self, stage: str, llm: Any) -> None:
        """Show ``llm``'s requests, replies and tokens on ``stage``'s row as they happen."""
        task = self.rows.get(stage)
        if task is not None:
            self.by_task[task].llm = llm

    def done(self, stage: str, counts: dict[str, Any]) -> None:
        task = self.rows.get(stage)
        if task is None:  # completed by an earlier run: a row with its counts
            task = self.progress.add_task(stage, total=counts.get("in", 0))
            self.rows[stage] = task
            self.by_task[task] = Row(stage, counts.get("in", 0))
        row = self.by_task[task]
        row.counts = stages.Counts(counts.get("in", 0), counts.get("out", 0),
                                   collections.Counter(counts.get("rejected", {})))
        row.finished = row.finished or time.monotonic()
        self.progress.update(task, total=row.counts.inputs, completed=row.counts.inputs)
        if not self.console.is_terminal and row is self.current:
            self.console.print(row.line(), highlight=False, soft_wrap=True)
