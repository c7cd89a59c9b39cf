"""Several OpenAI-compatible endpoints (e.g. one vLLM server per GPU node) shared by every
generator, under one limit on requests in flight and requests per second.

:class:`EndpointPool` hands out *leases*: each request attempt takes one (the least-loaded
endpoint of this process, and a permit of the limiter) and gives it back when it ends. The
limiter is :class:`LocalLimiter` in one process, or the cluster-wide Ray actor of
:mod:`codesynth.executors._ray_limiter` (every driver of the cluster asks the same one). A
permit is a lease with a deadline: a driver that dies holding permits loses them to expiry,
never to the cluster for good.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import time
from dataclasses import dataclass
from typing import Any, Protocol


class Limiter(Protocol):
    async def acquire(self) -> int: ...

    async def release(self, lease: int) -> None: ...


class Permits:
    """The bookkeeping of a limiter: leases in flight (with deadlines) and the pace."""

    def __init__(self, concurrency: int, rate: float | None, lease_seconds: float) -> None:
        if concurrency < 1 or (rate is not None and rate <= 0) or lease_seconds <= 0:
            raise ValueError("concurrency >= 1, rate > 0 and lease_seconds > 0 are required")
        self.concurrency = concurrency
        self.rate = rate
        self.lease_seconds = lease_seconds
        self.leases: dict[int, float] = {}  # lease -> its deadline (monotonic)
        self._ids = itertools.count(1)
        self._next_start = 0.0  # the earliest the next lease may start (the rate)
        self.granted = self.expired = self.peak = 0

    def try_take(self) -> int | float:
        """A lease (an int), or how many seconds to wait before trying again (a float)."""
        now = time.monotonic()
        for lease, deadline in list(self.leases.items()):
            if deadline < now:  # its holder died or hung: the permit comes back
                del self.leases[lease]
                self.expired += 1
        if len(self.leases) >= self.concurrency:
            return 0.005
        if self.rate is not None and now < self._next_start:
            return self._next_start - now
        if self.rate is not None:
            self._next_start = max(now, self._next_start) + 1.0 / self.rate
        lease = next(self._ids)
        self.leases[lease] = now + self.lease_seconds
        self.granted += 1
        self.peak = max(self.peak, len(self.leases))
        return lease

    def give_back(self, lease: int) -> None:
        self.leases.pop(lease, None)

    def stats(self) -> dict[str, int]:
        return {"in_flight": len(self.leases), "granted": self.granted,
                "expired": self.expired, "peak": self.peak}


class LocalLimiter:
    """The limit within this process."""

    def __init__(self, concurrency: int, rate: float | None, lease_seconds: float) -> None:
        self.permits = Permits(concurrency, rate, lease_seconds)

    async def acquire(self) -> int:
        while True:
            got = self.permits.try_take()
            if isinstance(got, int):
                return got
            await asyncio.sleep(got)

    async def release(self, lease: int) -> None:
        self.permits.give_back(lease)


@dataclass
class Lease:
    url: str
    permit: int | None


class EndpointPool:
    """More endpoints besides each client's own ``base_url``, shared by this process's
    requests (least-loaded first, ties in turn), under ``limiter``."""

    def __init__(self, urls: list[str], limiter: Limiter | None = None,
                 wait: float = 600.0) -> None:
        self.urls = list(dict.fromkeys(urls))
        self.limiter = limiter
        self.wait = wait  # seconds a request may wait for a permit before it fails
        self.in_flight: collections.Counter[str] = collections.Counter()
        self.sent: collections.Counter[str] = collections.Counter()
        self._turn = itertools.count()

    async def acquire(self, primary: str) -> Lease:
        permit = None
        if self.limiter is not None:
            async with asyncio.timeout(self.wait):
                permit = await self.limiter.acquire()
        urls = list(dict.fromkeys([primary, *self.urls]))
        start = next(self._turn) % len(urls)
        order = urls[start:] + urls[:start]
        url = min(order, key=lambda u: self.in_flight[u])
        self.in_flight[url] += 1
        self.sent[url] += 1
        return Lease(url, permit)

    async def release(self, lease: Lease) -> None:
        self.in_flight[lease.url] -= 1
        if self.limiter is not None and lease.permit is not None:
            await self.limiter.release(lease.permit)


def pool_for(urls: list[str], concurrency: int | None, rate: float | None,
             lease_seconds: float, cluster: Any = None) -> EndpointPool:
    """The pool for ``urls``; its limiter cluster-wide when ``cluster`` (a Ray executor's
    connection) is given, else within this process (None when nothing is limited)."""
    limiter: Limiter | None = None
    if cluster is not None and (concurrency or rate):
        from codesynth.executors._ray_limiter import cluster_limiter

        limiter = cluster_limiter(concurrency or 1_000_000, rate, lease_seconds)
    elif concurrency or rate:
        limiter = LocalLimiter(concurrency or 1_000_000, rate, lease_seconds)
    return EndpointPool(urls, limiter)
