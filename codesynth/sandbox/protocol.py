"""The sandbox contract: run a job under limits, get an :class:`Execution` back.

A failing, crashing or hostile program is data (an ``Execution`` with a status). Only a broken
sandbox raises: :class:`~codesynth.errors.SandboxUnavailable` when a backend cannot start here,
:class:`~codesynth.errors.InfrastructureError` when it breaks for good mid-run. Transient faults
(a runner that died) are retried once, then reported as ``sandbox_error`` for that job.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol, runtime_checkable

from codesynth.records import Execution, Job, Limits


@runtime_checkable
class Sandbox(Protocol):
    name: str
    workers: int

    def run(self, job: Job, limits: Limits | None = None) -> Execution:
        """Run one job (thread-safe; at most ``workers`` at a time)."""
        ...

    def run_many(self, jobs: Iterable[Job], limits: Limits | None = None
                 ) -> Iterator[Execution]:
        """Run jobs concurrently; yield their executions in input order, streaming."""
        ...

    def close(self) -> None:
        """Stop every process and container this sandbox started."""
        ...

    def __enter__(self) -> Sandbox: ...

    def __exit__(self, *exc: object) -> None: ...
