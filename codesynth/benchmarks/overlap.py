"""Scoring that starts while sampling still runs (``eval BENCH --model``).

Sampling writes a problem's samples as soon as all of them are answered; each one is also
handed here, in file order, and a scorer thread runs its jobs in the sandbox through the same
single ``execute_pairs`` stream the sequential path uses (the same jobs, ids, order and
batches, hence the same verdicts and execution-cache marks). Finished rows go to a spool file
on disk, not to memory. Once the samples file is complete, ``score`` checks it and opens the
results file as it always does (its fingerprint needs the complete samples file), then
writes the spooled rows in order: the results file, its resume rules and pass@k are those of
the sequential path. What is held in memory: the samples not yet scored (their text) and
the sandbox's in-flight window.

Used only for a fresh results file: when one is being resumed, scoring runs as before.
"""

from __future__ import annotations

import json
import queue
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from codesynth.benchmarks.base import Benchmark, Problems
from codesynth.execute import execute_pairs
from codesynth.jsonl import json_line
from codesynth.records import Job, Limits, Status

_END = object()
Pair = tuple[tuple[dict[str, Any], int, int, str], Job]


@dataclass(frozen=True)
class Scored:
    """A spooled row's status, as the progress tally counts it (a sample's worst)."""

    status: Status


class Overlap:
    def __init__(self, bench: Benchmark, problems: Problems, samples_path: str,
                 sandbox: Any, limits: Limits) -> None:
        self.bench, self.problems, self.path = bench, problems, samples_path
        self.sandbox, self.limits = sandbox, limits
        self._queue: queue.Queue[Any] = queue.Queue()
        self._spool = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115
        self._error: BaseException | None = None
        self._lines = 0
        self._ended = False
        self._carry: list[Pair] = []
        self._thread = threading.Thread(target=self._score, name="codesynth-overlap",
                                        daemon=True)
        self._thread.start()

    def put(self, record: dict[str, Any]) -> None:
        """A sample just written to the samples file (called in file order)."""
        self._lines += 1
        self._queue.put((self._lines, record))

    def close_feed(self) -> None:
        self._queue.put(_END)

    def _expand(self, item: Any) -> list[Pair]:
        line, record = item
        problem = self.bench.check_sample(record, self.path, line, self.problems)
        jobs = self.bench.jobs(problem, record, f"{record['task_id']}#{line}")
        return [((record, index, len(jobs), problem.task_id), job)
                for index, job in enumerate(jobs)]

    def _batch(self, size: int | None) -> list[Pair]:
        """The next jobs to run: ``size`` of them (fewer at the end), or, without ``size``,
        whatever has arrived (at least one, waited for). The sandbox's ``run_many`` only
        ever gets a finished list: it never waits on a sampler from inside its feed."""
        while not self._ended and (not self._carry or (size and len(self._carry) < size)):
            item = self._queue.get()
            if item is _END:
                self._ended = True
                break
            self._carry.extend(self._expand(item))
            while size is None and not self._queue.empty():
                more = self._queue.get()
                if more is _END:
                    self._ended = True
                    break
                self._carry.extend(self._expand(more))
        cut = size or len(self._carry)
        batch, self._carry = self._carry[:cut], self._carry[cut:]
        return batch

    def _executions(self) -> Iterator[tuple[Any, Any]]:
        """Every job's execution, in order, batch after batch. Behind the execution cache,
        batches are its chunks exactly (``CHUNK`` jobs), as in the sequential path, so that
        what it marks (``hit``, ``duplicate``) is the same."""
        from codesynth.exec_cache import CHUNK, CachedSandbox

        size = CHUNK if isinstance(self.sandbox, CachedSandbox) else None
        while batch := self._batch(size):
            yield from execute_pairs(self.sandbox, batch, self.limits)

    def _score(self) -> None:
        from codesynth.benchmarks.scoring import _whole

        try:
            for (sample, _, _, task), executions in _whole(self._executions()):
                row = {**sample, **self.bench.row(sample, list(executions))}
                self._spool.write(json_line({"task": task, "status": executions.status.value,
                                             "row": row}))
        except BaseException as exc:  # noqa: BLE001 - handed to the thread that waits
            self._error = exc
            while not self._ended:  # let the feed finish without anyone blocking
                self._ended = self._queue.get() is _END

    def rows(self) -> Iterator[tuple[tuple[str, dict[str, Any]], Scored]]:
        """Every row in sample order, once the feed is closed and the scorer is done:
        ``((task, row), Scored)``, the shape the progress tally takes."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        self._spool.seek(0)
        for line in self._spool:
            entry = json.loads(line)
            yield (entry["task"], entry["row"]), Scored(Status(entry["status"]))

    def abandon(self) -> None:
        """Sampling failed: stop feeding, wait for the scorer, drop the spool."""
        self.close_feed()
        self._thread.join()
        self._spool.close()

    def close(self) -> None:
        self._spool.close()
