"""The cluster-wide limit on model requests: one named Ray actor that every driver of the
cluster asks for a permit before each request attempt (the same :class:`Permits` as in one
process). It outlives a driver (``detached``), so permits of a driver that died come back
when their leases expire; a limit of other values is another actor (its name says which).
"""

from __future__ import annotations

from typing import Any

from codesynth.llm.endpoints import LocalLimiter

NAMESPACE = "codesynth"


class ModelLimiter(LocalLimiter):
    """As a Ray actor (async): thousands of waiting requests cost it nothing but coroutines.
    The process-local limiter's permits, plus their figures for the drivers."""

    async def stats(self) -> dict[str, int]:
        return self.permits.stats()


class ClusterLimiter:
    """The driver's handle: awaits the actor's answers (Ray refs are awaitable)."""

    def __init__(self, actor: Any) -> None:
        self.actor = actor

    async def acquire(self) -> int:
        return int(await self.actor.acquire.remote())

    async def release(self, lease: int) -> None:
        await self.actor.release.remote(lease)

    def stats(self) -> dict[str, int]:
        import ray

        return dict(ray.get(self.actor.stats.remote(), timeout=30))


def limiter_name(concurrency: int, rate: float | None) -> str:
    return f"codesynth-model-limiter-c{concurrency}-r{rate if rate else 'none'}"


def cluster_limiter(concurrency: int, rate: float | None, lease_seconds: float
                    ) -> ClusterLimiter:
    """The cluster's limiter for these values: created by the first driver that asks."""
    import ray

    actor = ray.remote(ModelLimiter).options(
        name=limiter_name(concurrency, rate), namespace=NAMESPACE, lifetime="detached",
        get_if_exists=True, num_cpus=0, max_concurrency=100_000,
    ).remote(concurrency, rate, lease_seconds)
    return ClusterLimiter(actor)
