"""A pool of runners: bounded concurrency, ordered streaming, replacement of dead runners."""

from __future__ import annotations

import collections
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from codesynth.records import Execution, Job, Limits
from codesynth.sandbox._process import RunnerDied, RunnerProcess

# Seconds the host waits beyond the job's own wall limit before it declares a runner hung.
HOST_GRACE = 15.0


class RunnerPool:
    def __init__(self, backend: str, workers: int,
                 start: Callable[[int], RunnerProcess]) -> None:
        if workers < 1:
            raise ValueError("workers must be >= 1")
        self.backend = backend
        self.workers = workers
        self._start = start
        self._runners: list[RunnerProcess | None] = [None] * workers
        self._free: queue.Queue[int] = queue.Queue()
        self._lock = threading.Lock()
        self._closed = False
        self.info: dict[str, Any] = {}
        for index in range(workers):
            self._free.put(index)

    def start_all(self) -> None:
        """Start every runner now (in parallel); raises if the backend cannot run here."""
        with ThreadPoolExecutor(self.workers) as executor:
            for future in [executor.submit(self._runner, i) for i in range(self.workers)]:
                future.result()

    def _runner(self, index: int) -> RunnerProcess:
        runner = self._runners[index]
        if runner is None or not runner.alive():
            if runner is not None:
                runner.kill()
            runner = self._start(index)
            self._runners[index] = runner
            self.info = runner.info
        return runner

    def run(self, job: Job, limits: Limits) -> Execution:
        if self._closed:
            raise RuntimeError("sandbox is closed")
        index = self._free.get()
        try:
            return self._run_on(index, job, limits)
        finally:
            self._free.put(index)

    def _run_on(self, index: int, job: Job, limits: Limits) -> Execution:
        message = {"job": job.to_dict(), "limits": limits.to_dict()}
        failure: Exception | None = None
        for _attempt in range(2):  # a job is retried once on a fresh runner, never dropped
            try:
                reply = self._runner(index).request(message, limits.timeout + HOST_GRACE)
            except RunnerDied as exc:
                failure = exc
                runner = self._runners[index]
                if runner is not None:
                    runner.kill()
                self._runners[index] = None
                continue
            return Execution.from_dict({**reply, "limits": limits.to_dict(),
                                        "backend": self.backend})
        return Execution.infrastructure_fault(f"runner failed twice: {failure}", limits,
                                              self.backend)

    def run_many(self, jobs: Iterable[Job], limits: Limits) -> Iterator[Execution]:
        window: collections.deque[Future[Execution]] = collections.deque()
        with ThreadPoolExecutor(self.workers, thread_name_prefix=self.backend) as executor:
            for job in jobs:
                window.append(executor.submit(self.run, job, limits))
                if len(window) >= 2 * self.workers:
                    yield window.popleft().result()
            while window:
                yield window.popleft().result()

    def close(self) -> None:
        self._closed = True
        for index, runner in enumerate(self._runners):
            if runner is not None:
                runner.close()
                self._runners[index] = None
