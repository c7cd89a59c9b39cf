"""The jobs of one ``run_many`` call, handed out to the pool's worker threads in order."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from codesynth.records import Execution, Job


class Feed:
    """Hands out (sequence, job) pairs to worker threads, never far ahead of the consumer."""

    def __init__(self, jobs: Iterable[Job], window: int) -> None:
        self._jobs = iter(jobs)
        self._window = window
        self._next = 0
        self.consumed = 0
        self.error: BaseException | None = None
        self.exhausted = False
        self.stopped = False
        self.crashed: BaseException | None = None  # a worker thread died: the run stops
        self.results: dict[int, Execution] = {}
        self.cond = threading.Condition()

    def take(self, block: bool) -> tuple[int, Job] | None:
        """The next job; with ``block=False`` None when the window is full (a worker holding
        unanswered jobs must not wait for the consumer, who may be waiting for them)."""
        with self.cond:
            while not self.stopped and self._next - self.consumed >= self._window:
                if not block:
                    return None
                self.cond.wait()
            if self.stopped or self.exhausted:
                return None
            try:
                job = next(self._jobs)
            except StopIteration:
                self.exhausted = True
                self.cond.notify_all()
                return None
            except BaseException as exc:  # noqa: BLE001 - re-raised in the consumer
                self.error, self.exhausted = exc, True
                self.cond.notify_all()
                return None
            seq = self._next
            self._next += 1
            return seq, job

    def deliver(self, seq: int, execution: Execution) -> None:
        with self.cond:
            self.results[seq] = execution
            self.cond.notify_all()

    def total(self) -> int:
        return self._next

    def crash(self, exc: BaseException) -> None:
        with self.cond:
            self.crashed = self.crashed or exc
            self.stopped = True
            self.cond.notify_all()
