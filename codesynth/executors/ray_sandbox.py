"""``--executor ray``: a :class:`~codesynth.sandbox.protocol.Sandbox` whose jobs run on a Ray
cluster, one long-lived actor per node, each with a warm sandbox pool sized to its node's CPUs.

The driver (this process) cuts the input into batches (Ray costs ~1 ms a call, more than a
job here: never one call per job), keeps each actor two batches deep, and yields executions
in input order with a bounded window, as a local sandbox does. Outputs are written by the
driver only, so a resumed run keeps the resume rules of the command (verify's ``.partial``,
the pipeline's stage files). A batch whose actor or node dies is run again on another actor
(:mod:`._ray_batches`); nothing is lost, and nothing is written twice.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any

from codesynth.errors import SandboxUnavailable, UserError
from codesynth.executors._ray_batches import START_DEADLINE, Scheduler
from codesynth.records import Execution, Job, Limits

SLOTS = 2  # batches in flight per actor: one runs while the next one is on its way
JOBS_PER_WORKER = 16  # a batch: this many jobs per worker of the actor's pool


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise UserError("--executor ray needs Ray: pip install 'codesynth[ray]'") from None
    return ray


def connect(address: str | None) -> bool:
    """Join the cluster at ``address`` (None: ``RAY_ADDRESS``, else a Ray on this machine);
    True when this call connected (and so must disconnect)."""
    ray = _ray()
    if ray.is_initialized():
        return False
    from codesynth.sandbox._process import PACKAGE_ROOT

    # The actors import the driver's codesynth where the nodes share its path (one machine,
    # a shared file system, the same image); elsewhere their own install, checked equal.
    path = os.pathsep.join(p for p in (PACKAGE_ROOT, os.environ.get("PYTHONPATH")) if p)
    try:
        ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False,
                 include_dashboard=False if address is None else None,
                 runtime_env={"env_vars": {"PYTHONPATH": path,
                                           "CODESYNTH_EXEC_CACHE": "off"}})
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise SandboxUnavailable(f"cannot join the Ray cluster at {address or 'auto'}: "
                                 f"{exc}") from None
    _errors_to_stderr()
    return True


def _errors_to_stderr() -> None:
    """Ray prints the cluster's error messages (a node marked dead...) on the driver's
    stdout, where ``--json`` summaries go: they go to stderr instead."""
    try:
        from ray._private import worker
    except ImportError:  # another Ray layout: its messages stay where Ray puts them
        return
    printer = getattr(worker, "print_to_stdstream", None)
    if printer is None or getattr(printer, "codesynth", False):
        return

    def to_stderr(data: dict[str, Any], ignore_prefix: bool) -> None:
        printer({**data, "is_err": True}, ignore_prefix=ignore_prefix)

    to_stderr.codesynth = True  # type: ignore[attr-defined]
    worker.print_to_stdstream = to_stderr


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    try:
        return max(1, int(value)) if value else default
    except ValueError:
        raise UserError(f"{name} must be an integer, got {value!r}") from None


class RayExecutor:
    """Found by name (``ray``) through :data:`codesynth.registry.executors`."""

    name = "ray"

    def __init__(self, address: str | None = None) -> None:
        self.address = address

    def open_sandbox(self, backend: str, **options: Any) -> RaySandbox:
        return RaySandbox(backend, address=self.address, **options)


class RaySandbox:
    """A sandbox of ``backend`` on every alive node of the cluster."""

    def __init__(self, backend: str = "local", address: str | None = None,
                 workers: int | None = None, limits: Limits | None = None,
                 jobs_per_worker: int | None = None, **options: Any) -> None:
        from codesynth.exec_cache import _code_digest

        self.backend = backend
        self.limits = limits or Limits()
        self._owns_connection = connect(address)
        self._options = {**options, "limits": self.limits}
        self._node_workers = workers  # None: each node's CPUs
        self._digest = _code_digest()
        self._closed = False
        if jobs_per_worker is None:
            jobs_per_worker = _env_int("CODESYNTH_RAY_JOBS_PER_WORKER", JOBS_PER_WORKER)
        self.scheduler = Scheduler(self._start_actors, SLOTS, jobs_per_worker)
        try:
            self.scheduler.replenish(deadline=START_DEADLINE, required=True)
        except BaseException:
            self.close()
            raise
        first = self.scheduler.first_description()
        self.name: str = first["name"]
        self.isolate = first.get("isolate")
        self.image = first.get("image")
        sys.stderr.write(f"ray executor: {len(self.scheduler.hosts)} node(s), {self.workers} "
                         f"{backend} sandbox worker(s) at {address or 'auto'}\n")

    @property
    def workers(self) -> int:
        return self.scheduler.total_workers()

    @property
    def info(self) -> dict[str, object]:
        first = self.scheduler.first_description()
        return {**first.get("info", {}), "executor": "ray",
                "nodes": len(self.scheduler.hosts), "workers": self.workers}

    def _start_actors(self, nodes: list[dict[str, Any]]) -> list[tuple[str, Any]]:
        """An actor on each of ``nodes`` (not yet waited for): (node id, handle)."""
        ray = _ray()
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        from codesynth.executors._ray_host import SandboxHost

        host = ray.remote(SandboxHost)
        started = []
        for node in nodes:
            workers = self._node_workers or max(1, int(node["Resources"].get("CPU", 1)))
            strategy = NodeAffinitySchedulingStrategy(node_id=node["NodeID"], soft=False)
            actor = host.options(num_cpus=0, max_concurrency=SLOTS + 2, max_restarts=0,
                                 scheduling_strategy=strategy).remote(
                self.backend, {**self._options, "workers": workers}, self._digest)
            started.append((node["NodeID"], actor))
        return started

    def run(self, job: Job, limits: Limits | None = None) -> Execution:
        return next(iter(self.run_many([job], limits)))

    def run_many(self, jobs: Iterable[Job], limits: Limits | None = None
                 ) -> Iterator[Execution]:
        if self._closed:
            raise RuntimeError("sandbox is closed")
        return self.scheduler.run(jobs, limits or self.limits, self.name)

    def __enter__(self) -> RaySandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self.scheduler.close(deadline=30.0)
        finally:
            if self._owns_connection:
                _ray().shutdown()
                time.sleep(0)  # let Ray's own threads see the shutdown
