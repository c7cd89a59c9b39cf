"""A pool of runners: bounded concurrency, ordered streaming, replacement of dead runners.

``run_many`` pipelines: each runner always has its next job queued on its stdin, so it forks
the next job the moment the previous one is reported and never waits for the host.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, Self

from codesynth.records import Execution, Job, Limits, scrub
from codesynth.sandbox._feed import Feed
from codesynth.sandbox._process import RunnerDied

# Seconds the host waits beyond the job's own wall limit before it declares a runner hung.
HOST_GRACE = 15.0
PIPELINE_DEPTH = 2  # jobs queued per runner
ATTEMPTS = 2  # a job is retried once on a fresh runner, never dropped
WINDOW_PER_WORKER = 64


class Runner(Protocol):
    """A runner as the pool sees it: a process (local) or a container (docker)."""

    info: dict[str, Any]

    def alive(self) -> bool: ...

    def send(self, message: dict[str, Any]) -> None: ...

    def receive(self, timeout: float) -> dict[str, Any]: ...

    def finish_input(self) -> None: ...

    def close(self) -> None: ...

    def kill(self) -> None: ...


class _Entry:
    __slots__ = ("seq", "message", "attempts", "sent")

    def __init__(self, seq: int, message: dict[str, Any]) -> None:
        self.seq, self.message, self.attempts, self.sent = seq, message, 0, False


class RunnerPool:
    def __init__(self, backend: str, workers: int,
                 start: Callable[[int], Runner]) -> None:
        if workers < 1:
            raise ValueError("workers must be >= 1")
        self.backend = backend
        self.workers = workers
        self._start = start
        self._runners: list[Runner | None] = [None] * workers
        self._free: queue.Queue[int] = queue.Queue()
        self._closed = False
        self.info: dict[str, Any] = {}
        for index in range(workers):
            self._free.put(index)

    def start_all(self) -> None:
        """Start every runner now (in parallel); raises if the backend cannot run here."""
        with ThreadPoolExecutor(self.workers) as executor:
            for future in [executor.submit(self._runner, i) for i in range(self.workers)]:
                future.result()

    def _runner(self, index: int) -> Runner:
        runner = self._runners[index]
        if runner is None or not runner.alive():
            if runner is not None:
                runner.kill()
            runner = self._start(index)
            self._runners[index] = runner
            self.info = runner.info
        return runner

    def _discard(self, index: int) -> None:
        runner = self._runners[index]
        if runner is not None:
            runner.kill()
        self._runners[index] = None

    def _execution(self, reply: dict[str, Any], limits: Limits) -> Execution:
        """The record of a reply; a reply that makes no record is that job's sandbox_error
        (never an exception in a worker thread: that would stop the whole run)."""
        try:
            return Execution.from_dict({**scrub(reply), "limits": limits,
                                        "backend": self.backend})
        except Exception as exc:  # noqa: BLE001 - any malformed field
            return Execution.infrastructure_fault(f"malformed reply from the runner: {exc!r}",
                                                  limits, self.backend)

    def _fault(self, failure: Exception | None, limits: Limits) -> Execution:
        return Execution.infrastructure_fault(f"runner failed {ATTEMPTS} times: {failure}",
                                              limits, self.backend)

    def run(self, job: Job, limits: Limits) -> Execution:
        if self._closed:
            raise RuntimeError("sandbox is closed")
        index = self._free.get()
        try:
            message = {"job": job.to_dict(), "limits": limits.to_dict()}
            failure: Exception | None = None
            for _attempt in range(ATTEMPTS):
                if self._closed:  # never a new runner after close (it would outlive it)
                    raise RuntimeError("the sandbox was closed while its job was running")
                try:
                    runner = self._runner(index)
                    runner.send(message)
                    reply = runner.receive(limits.wall_backstop + HOST_GRACE)
                    if reply.pop("runner_tainted", None):
                        self._discard(index)  # the verdict stands; the next job gets a new one
                    return self._execution(reply, limits)
                except RunnerDied as exc:
                    failure = exc
                    self._discard(index)
                except OSError:
                    if self._closed:  # its pipes were closed under it
                        raise RuntimeError("the sandbox was closed while its job was "
                                           "running") from None
                    raise
            return self._fault(failure, limits)
        finally:
            self._free.put(index)

    def _drive(self, feed: Feed, limits: Limits) -> None:
        try:
            self._keep_fed(feed, limits)
        except BaseException as exc:  # noqa: BLE001 - a bug here must end the run, not hang it
            closed = RuntimeError("the sandbox was closed while its jobs were running")
            feed.crash(closed if self._closed else exc)  # closed: Ctrl-C, not a broken pipe

    def _keep_fed(self, feed: Feed, limits: Limits) -> None:
        """One worker thread: borrow a free runner and keep its pipeline full.

        The runner is handed back whenever this thread would wait for the consumer, so other
        callers (``run``, another ``run_many``) are never locked out, and never share a pipe.
        """
        limits_dict = limits.to_dict()
        pending: list[_Entry] = []  # in the order the runner answers them
        index: int | None = None
        runner: Runner | None = None  # checked alive when taken; while held, a dead one
        try:                          # shows as RunnerDied on the next send or receive
            while True:
                while len(pending) < PIPELINE_DEPTH:
                    if not pending and index is not None:
                        self._free.put(index)  # nothing in flight: lend the runner out
                        index = runner = None
                    item = feed.take(block=not pending)
                    if item is None:
                        break
                    pending.append(_Entry(item[0], {"job": item[1].to_dict(),
                                                    "limits": limits_dict}))
                if not pending:
                    if feed.exhausted or feed.stopped:
                        return
                    continue
                if index is None:
                    index = self._free.get()
                try:
                    if runner is None:
                        runner = self._runner(index)
                    for entry in pending:
                        if not entry.sent:
                            runner.send(entry.message)
                            entry.sent = True
                    reply = runner.receive(limits.wall_backstop * len(pending) + HOST_GRACE)
                except RunnerDied as exc:
                    self._discard(index)
                    runner = None
                    head = pending[0]
                    head.attempts += 1  # the job that was running when the runner died
                    if head.attempts >= ATTEMPTS:
                        feed.deliver(head.seq, self._fault(exc, limits))
                        pending.pop(0)
                    for entry in pending:
                        entry.sent = False
                    continue
                if reply.pop("runner_tainted", None):
                    self._discard(index)  # the verdict stands; the others go to a new runner
                    runner = None
                    for entry in pending[1:]:
                        entry.sent = False
                feed.deliver(pending.pop(0).seq, self._execution(reply, limits))
        finally:
            if index is not None:
                self._free.put(index)

    def run_many(self, jobs: Iterable[Job], limits: Limits) -> Iterator[Execution]:
        if self._closed:
            raise RuntimeError("sandbox is closed")
        # Results leave in input order: one slow job must not stall the other workers, so
        # the window of jobs in flight or waiting to be consumed is generous (still bounded).
        feed = Feed(jobs, window=WINDOW_PER_WORKER * self.workers)
        threads = [threading.Thread(target=self._drive, args=(feed, limits), daemon=True,
                                    name=f"{self.backend}-{i}") for i in range(self.workers)]
        for thread in threads:
            thread.start()
        try:
            while True:
                with feed.cond:
                    while feed.consumed not in feed.results and feed.crashed is None and not (
                            feed.exhausted and feed.consumed >= feed.total()):
                        feed.cond.wait()
                    if feed.crashed is not None:
                        raise feed.crashed
                    if feed.consumed not in feed.results:
                        break
                    execution = feed.results.pop(feed.consumed)
                    feed.consumed += 1
                    feed.cond.notify_all()
                yield execution
            if feed.error is not None:
                raise feed.error
        finally:
            with feed.cond:
                feed.stopped = True
                feed.cond.notify_all()
            for thread in threads:
                thread.join()

    def close(self) -> None:
        self._closed = True
        live = [r for r in self._runners if r is not None]
        for runner in live:  # end of input for all first: they shut down in parallel
            runner.finish_input()
        for runner in live:
            runner.close()
        self._runners = [None] * self.workers


class PooledSandbox:
    """What every backend built on a :class:`RunnerPool` shares: running jobs through the
    pool under the sandbox's default limits, and closing on leaving a ``with`` block."""

    _pool: RunnerPool
    limits: Limits

    def run(self, job: Job, limits: Limits | None = None) -> Execution:
        return self._pool.run(job, limits or self.limits)

    def run_many(self, jobs: Iterable[Job], limits: Limits | None = None
                 ) -> Iterator[Execution]:
        return self._pool.run_many(jobs, limits or self.limits)

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
