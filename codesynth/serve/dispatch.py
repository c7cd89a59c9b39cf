"""The server's one warm sandbox, fed from a bounded queue by a few threads.

Admission happens on the event loop, all of a request's jobs or none: a full queue or a token
over its share is :class:`Overloaded` (the server answers 429 with ``Retry-After``). Worker
threads (one per sandbox worker) take jobs in arrival order and call the sandbox's public
``run``; a job whose request went away (the client disconnected) or whose deadline passed
while it waited is dropped, never run. Verdicts come from the execution cache when it holds
them (marked ``cache = "hit"``, as ``verify`` marks them), and identical jobs of one request
run once (the copies marked ``"duplicate"``).
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import math
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from codesynth.exec_cache import ExecutionStore, job_key, runtime_digest
from codesynth.records import Execution, Job, Limits


class Overloaded(Exception):
    """No room for a request's jobs now; ``retry_after`` seconds is the estimate."""

    def __init__(self, reason: str, retry_after: int) -> None:
        super().__init__(reason)
        self.reason, self.retry_after = reason, retry_after


class TooLarge(Exception):
    """A request with more jobs than the queue or a token's share could ever hold."""


class ShuttingDown(Exception):
    """The server is stopping: it finishes the work it has and takes no more."""


class DeadlineExpired(Exception):
    """The job's deadline passed before a worker could start it; it did not run."""


@dataclasses.dataclass(eq=False)
class _Item:
    job: Job
    limits: Limits
    key: str | None
    future: asyncio.Future[Execution]
    deadline: float  # time.monotonic()
    token: str
    cancelled: bool = False


Event = Callable[[str, Any], None]  # what the metrics hear: ("verdict", execution), ...


class Dispatcher:
    def __init__(self, sandbox: Any, queue_size: int, per_token: int,
                 store: ExecutionStore | None = None, on_event: Event | None = None) -> None:
        self.sandbox = sandbox
        self.workers = int(sandbox.workers)
        self.queue_size = queue_size
        self.per_token = per_token
        self.store = store
        self._runtime = runtime_digest(sandbox)
        self._event: Event = on_event or (lambda kind, value: None)
        self._lock = threading.Condition()
        self._queue: collections.deque[_Item] = collections.deque()
        self._by_token: collections.Counter[str] = collections.Counter()  # queued + running
        self.running = 0
        self._closing = False
        self._stopped = False
        self._job_seconds = 0.05  # running mean of one job's wall time, for Retry-After
        self._loop: asyncio.AbstractEventLoop | None = None
        self._threads = [threading.Thread(target=self._work, name=f"serve-worker-{i}",
                                          daemon=True) for i in range(self.workers)]
        for thread in self._threads:
            thread.start()

    # -- the event loop's side ---------------------------------------------------------------

    @property
    def queued(self) -> int:
        return len(self._queue)

    def retry_after(self) -> int:
        backlog = self.queued + self.running
        return max(1, math.ceil(backlog * self._job_seconds / self.workers))

    def submit(self, jobs: Sequence[Job], limits: Limits, token: str, deadline: float
               ) -> list[asyncio.Future[Execution]]:
        """Futures of the executions of ``jobs``, in order. Raises :class:`Overloaded`,
        :class:`TooLarge` or :class:`ShuttingDown` before anything is queued."""
        if self._closing:
            raise ShuttingDown("the server is shutting down")
        loop = self._loop = asyncio.get_running_loop()
        store = self.store
        keys: list[str | None] = [None if store is None else job_key(j, limits, self._runtime)
                                  for j in jobs]
        stored = {} if store is None else store.get_many(sorted({k for k in keys if k}))
        futures: list[asyncio.Future[Execution]] = []
        fresh: list[_Item] = []
        first: dict[str, asyncio.Future[Execution]] = {}
        for job, key in zip(jobs, keys, strict=True):
            future: asyncio.Future[Execution] = loop.create_future()
            if key is not None and key in stored:
                future.set_result(dataclasses.replace(stored[key], cache="hit"))
                self._event("cache_hit", None)
            elif key is not None and key in first:
                future = _copy_of(first[key], loop)
            else:
                if key is not None:
                    first[key] = future
                fresh.append(_Item(job, limits, key, future, deadline, token))
            futures.append(future)
        if len(fresh) > min(self.queue_size, self.per_token):
            raise TooLarge(f"{len(fresh)} jobs to run in one request; the queue holds "
                           f"{self.queue_size}, a token's share is {self.per_token}: send "
                           "smaller batches")
        with self._lock:
            if len(self._queue) + len(fresh) > self.queue_size:
                raise Overloaded(f"the queue is full ({len(self._queue)} of {self.queue_size} "
                                 "jobs waiting)", self.retry_after())
            if self._by_token[token] + len(fresh) > self.per_token:
                raise Overloaded(f"this token has {self._by_token[token]} jobs queued or "
                                 f"running (at most {self.per_token})", self.retry_after())
            self._by_token[token] += len(fresh)
            self._queue.extend(fresh)
            self._lock.notify(len(fresh))
        for item in fresh:
            item.future.add_done_callback(_abandoned(item))
        return futures

    def purge(self) -> None:
        """Take the jobs of requests that went away out of the queue now: they stop counting
        against the queue and their token's share at once, not when a worker reaches them."""
        with self._lock:  # on the loop's thread: the futures' state is ours to read
            for item in self._queue:
                item.cancelled = item.cancelled or item.future.cancelled()
            if not any(item.cancelled for item in self._queue):
                return
            kept: collections.deque[_Item] = collections.deque()
            for item in self._queue:
                if item.cancelled:
                    self._by_token[item.token] -= 1
                    self._event("cancelled", None)
                else:
                    kept.append(item)
            self._queue = kept

    async def drain(self, timeout: float) -> bool:
        """Stop taking work and wait (at most ``timeout``) until none is left."""
        self._closing = True
        end = time.monotonic() + timeout
        while (self.queued or self.running) and time.monotonic() < end:
            await asyncio.sleep(0.02)
        return not (self.queued or self.running)

    def close(self, join_timeout: float = 5.0) -> None:
        with self._lock:
            self._closing = self._stopped = True
            self._lock.notify_all()
        end = time.monotonic() + join_timeout
        for thread in self._threads:
            thread.join(max(0.0, end - time.monotonic()))
        try:
            self.sandbox.close()
        finally:
            if self.store is not None:
                self.store.close()

    # -- the worker threads ------------------------------------------------------------------

    def _take(self) -> _Item | None:
        with self._lock:
            while True:
                while not self._queue and not self._stopped:
                    self._lock.wait()
                if self._stopped:  # after drain: what is left has no one waiting for it
                    return None
                item = self._queue.popleft()
                if item.cancelled:
                    self._by_token[item.token] -= 1
                    self._event("cancelled", None)
                    continue
                if time.monotonic() > item.deadline:
                    self._by_token[item.token] -= 1
                    self._event("deadline", None)
                    self._deliver(item, None)
                    continue
                self.running += 1
                return item

    def _work(self) -> None:
        while (item := self._take()) is not None:
            start = time.monotonic()
            try:
                execution = self.sandbox.run(item.job, item.limits)
            except Exception as exc:  # noqa: BLE001 - a broken sandbox is this job's status
                execution = Execution.infrastructure_fault(
                    f"the sandbox failed: {exc}", item.limits, getattr(self.sandbox, "name", ""))
            elapsed = time.monotonic() - start
            self._job_seconds += (elapsed - self._job_seconds) * 0.1
            if self.store is not None and item.key is not None:
                try:
                    self.store.put_many([(item.key, execution)])
                except Exception:  # noqa: BLE001 - a cache that cannot write is only slower
                    self._event("cache_error", None)
            with self._lock:
                self.running -= 1
                self._by_token[item.token] -= 1
            self._event("verdict", (execution, elapsed))
            self._deliver(item, execution)

    def _deliver(self, item: _Item, execution: Execution | None) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(_settle, item.future, execution)
        except RuntimeError:  # the loop closed meanwhile: nobody waits for it
            pass


def _abandoned(item: _Item) -> Callable[[asyncio.Future[Execution]], None]:
    def note(future: asyncio.Future[Execution]) -> None:
        if future.cancelled():  # the request went away: the job is dropped unless running
            item.cancelled = True

    return note


def _settle(future: asyncio.Future[Execution], execution: Execution | None) -> None:
    if future.done():
        return
    if execution is None:
        future.set_exception(DeadlineExpired())
    else:
        future.set_result(execution)


def _copy_of(original: asyncio.Future[Execution], loop: asyncio.AbstractEventLoop
             ) -> asyncio.Future[Execution]:
    """A future that settles as ``original`` does, with its execution marked duplicate."""
    copy: asyncio.Future[Execution] = loop.create_future()

    def follow(done: asyncio.Future[Execution]) -> None:
        if copy.done():
            return
        if done.cancelled():
            copy.cancel()
        elif done.exception() is not None:
            copy.set_exception(done.exception())  # type: ignore[arg-type]
        else:
            copy.set_result(dataclasses.replace(done.result(), cache="duplicate"))

    original.add_done_callback(follow)
    return copy
