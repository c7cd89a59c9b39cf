"""The driver's side of the Ray executor: actors per node, batches in flight, order kept.

Every job belongs to exactly one *piece* (a batch, or a part of one) until its execution is
back on the driver; executions leave in input order, so what the driver writes is what a
local run writes. A piece whose actor fails (the actor or its node died, its sandbox broke,
it passed its deadline) goes back to the queue for another actor: its jobs are neither lost
(they run again) nor duplicated (the failed actor's answer never arrives, and the driver
writes). A piece that keeps failing is halved until the one job that brings its actors down
stands alone; after ``ATTEMPTS`` failures that job's record says ``sandbox_error``, and the
run goes on.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from codesynth.errors import InfrastructureError, SandboxUnavailable
from codesynth.records import Execution, Job, Limits

log = logging.getLogger(__name__)

START_DEADLINE = 120.0  # seconds for a node's actor to start its sandbox
ATTEMPTS = 3  # actors a lone job may bring down before its record says sandbox_error
STARTS_PER_NODE = 3  # actors started on one node, at most, in one run
NO_HOST_DEADLINE = 120.0  # seconds without any actor before the run stops (exit 3)
POLL = 0.5  # seconds a wait for results lasts at most (then deadlines are checked)
LOOK = 5.0  # seconds between looks for new nodes (or nodes without an actor) while jobs run
HOST_GRACE = 60.0  # seconds a piece may take beyond its jobs' limits


@dataclass
class Piece:
    seq: int  # the batch it belongs to
    offset: int  # its first job's index in that batch
    jobs: list[Job]
    failures: int = 0


@dataclass
class Host:
    node: str
    actor: Any
    description: dict[str, Any]
    inflight: int = 0


class Scheduler:
    def __init__(self, start: Callable[[list[dict[str, Any]]], list[tuple[str, Any]]],
                 slots: int, jobs_per_worker: int) -> None:
        self._start = start
        self.slots = slots
        self.jobs_per_worker = max(1, jobs_per_worker)
        self.hosts: dict[str, Host] = {}
        # describe ref -> (node, actor, when it must have answered)
        self._starting: dict[Any, tuple[str, Any, float]] = {}
        self.start_deadline = START_DEADLINE
        self._lock = threading.RLock()  # generators call run_many from several threads
        self._starts: collections.Counter[str] = collections.Counter()
        self._errors: list[str] = []
        self._described: dict[str, Any] = {}
        self._looked = 0.0

    # --- actors -------------------------------------------------------------------------
    def _spawn(self) -> None:
        """Start an actor on every alive node with CPUs that has none (new or recovered)."""
        import ray

        self._looked = time.monotonic()
        busy = set(self.hosts) | {node for node, _, _ in self._starting.values()}
        nodes = [n for n in ray.nodes() if n.get("Alive") and n["NodeID"] not in busy
                 and n.get("Resources", {}).get("CPU", 0) > 0
                 and self._starts[n["NodeID"]] < STARTS_PER_NODE]
        for node, actor in self._start(nodes):
            self._starts[node] += 1
            until = time.monotonic() + self.start_deadline
            self._starting[actor.describe.remote()] = (node, actor, until)

    def _poll_starting(self, timeout: float) -> None:
        import ray

        if not self._starting:
            return
        ready, _ = ray.wait(list(self._starting), num_returns=len(self._starting),
                            timeout=timeout)
        now = time.monotonic()
        for ref, (node, actor, until) in list(self._starting.items()):
            if ref not in ready and now > until:  # e.g. pinned to a node that just died
                del self._starting[ref]
                self._errors.append(f"node {node[:8]}: its actor did not start in "
                                    f"{self.start_deadline:g} s")
                ray.kill(actor, no_restart=True)
        for ref in ready:
            node, actor, _ = self._starting.pop(ref)
            try:
                description = ray.get(ref)
            except ray.exceptions.RayError as exc:
                self._errors.append(f"node {node[:8]}: {_cause(exc)}")
                log.warning("ray executor: no sandbox on node %s: %s", node[:8], _cause(exc))
                ray.kill(actor, no_restart=True)
                continue
            self.hosts[node] = Host(node, actor, description)
            self._described = self._described or description

    def replenish(self, deadline: float, required: bool = False) -> None:
        """Start actors where there are none, and wait for them up to ``deadline`` seconds."""
        self._spawn()
        end = time.monotonic() + deadline
        while self._starting and time.monotonic() < end:
            self._poll_starting(min(1.0, max(0.0, end - time.monotonic())))
        if required and not self.hosts:
            why = "; ".join(self._errors[-3:]) or "no alive node with CPUs answered"
            raise SandboxUnavailable(f"the Ray executor started no sandbox: {why}")

    def first_description(self) -> dict[str, Any]:
        return dict(self._described)

    def total_workers(self) -> int:
        return sum(int(h.description["workers"]) for h in self.hosts.values()) or 1

    def _drop(self, host: Host) -> None:
        import ray

        if self.hosts.get(host.node) is host:
            del self.hosts[host.node]
        try:
            ray.kill(host.actor, no_restart=True)
        except Exception as exc:  # noqa: BLE001 - it is gone either way
            log.debug("ray executor: kill: %s", exc)

    # --- jobs ---------------------------------------------------------------------------
    def run(self, jobs: Iterable[Job], limits: Limits, backend: str) -> Iterator[Execution]:
        import ray

        source = iter(jobs)
        exhausted = False
        queue: collections.deque[Piece] = collections.deque()  # to run again, oldest first
        inflight: dict[Any, tuple[Piece, Host, float]] = {}
        parts: dict[int, list[Execution | None]] = {}  # batch -> its executions so far
        created = emitted = 0
        no_host_since: float | None = None

        def cut(size: int) -> Piece | None:
            nonlocal exhausted, created
            batch = []
            for job in source:
                batch.append(job)
                if len(batch) >= size:
                    break
            else:
                exhausted = True
            if not batch:
                return None
            piece = Piece(created, 0, batch)
            parts[created] = [None] * len(batch)
            created += 1
            return piece

        def deadline(piece: Piece, host: Host) -> float:
            workers = max(1, int(host.description["workers"]))
            rounds = -(-len(piece.jobs) * self.slots // workers) + 1
            return time.monotonic() + rounds * limits.wall_backstop + HOST_GRACE

        def failed(piece: Piece, host: Host, why: str) -> None:
            log.warning("ray executor: batch %d lost on node %s (%s): it runs again",
                        piece.seq, host.node[:8], why)
            for ref, (other, owner, _) in list(inflight.items()):
                if owner is host:  # the actor is dropped: its other pieces run elsewhere
                    del inflight[ref]
                    retry(other, why)
            retry(piece, why)
            self._drop(host)

        def retry(piece: Piece, why: str) -> None:
            piece.failures += 1
            if len(piece.jobs) == 1 and piece.failures >= ATTEMPTS:
                fault = Execution.infrastructure_fault(
                    f"the sandbox's node failed {ATTEMPTS} times on this job ({why})",
                    limits, backend)
                store(piece, [fault])
            elif len(piece.jobs) > 1 and piece.failures >= 2:
                half = len(piece.jobs) // 2
                queue.appendleft(Piece(piece.seq, piece.offset + half, piece.jobs[half:],
                                       piece.failures))
                queue.appendleft(Piece(piece.seq, piece.offset, piece.jobs[:half],
                                       piece.failures))
            else:
                queue.appendleft(piece)

        def store(piece: Piece, executions: list[Execution]) -> None:
            slot = parts[piece.seq]
            slot[piece.offset:piece.offset + len(executions)] = executions

        def step() -> tuple[list[Execution], list[Any]]:
            """Under the lock: feed the actors, take the batches ready in order, look after
            the cluster. Returns the executions to yield and the refs to wait for."""
            nonlocal emitted, no_host_since
            # Feed every actor up to its slots: retried pieces first, then new batches, at
            # most a window of batches ahead of the oldest one not yet yielded.
            window = 2 * self.slots * max(1, len(self.hosts)) + 2
            for host in sorted(self.hosts.values(), key=lambda h: h.inflight):
                while host.inflight < self.slots:
                    piece = queue.popleft() if queue else None
                    if piece is None and not exhausted and created - emitted < window:
                        piece = cut(self.jobs_per_worker * int(host.description["workers"]))
                    if piece is None:
                        break
                    ref = host.actor.run_batch.remote(piece.jobs, limits)
                    inflight[ref] = (piece, host, deadline(piece, host))
                    host.inflight += 1
            out: list[Execution] = []
            while emitted in parts and None not in parts[emitted]:
                out += parts.pop(emitted)  # type: ignore[arg-type]
                emitted += 1
            if out:
                return out, []
            if time.monotonic() - self._looked > LOOK or not self.hosts:
                self._spawn()
            self._poll_starting(0)
            if not self.hosts and not self._starting:
                no_host_since = no_host_since or time.monotonic()
                if time.monotonic() - no_host_since > NO_HOST_DEADLINE:
                    raise InfrastructureError(
                        "the Ray cluster has no node left that can run jobs ("
                        + ("; ".join(self._errors[-3:]) or "none alive") + ")")
            else:
                no_host_since = None
            return out, list(inflight)

        def collect(ready: list[Any]) -> None:
            """Under the lock: store what came back; fail what died or passed its deadline."""
            for ref in ready:
                if ref not in inflight:
                    continue  # its host failed meanwhile: already queued again
                piece, host, _ = inflight.pop(ref)
                host.inflight -= 1
                try:
                    executions = ray.get(ref, timeout=HOST_GRACE)
                except (ray.exceptions.RayError, ray.exceptions.GetTimeoutError) as exc:
                    failed(piece, host, _cause(exc))
                    continue
                if len(executions) != len(piece.jobs):
                    failed(piece, host, f"{len(executions)} executions for "
                                        f"{len(piece.jobs)} jobs")
                    continue
                store(piece, executions)
            now = time.monotonic()
            for ref, (piece, host, until) in list(inflight.items()):
                if now > until and ref in inflight:
                    del inflight[ref]
                    host.inflight -= 1
                    failed(piece, host, "it passed its deadline")

        while True:
            with self._lock:
                out, waiting = step()
            if out:
                yield from out  # outside the lock: the consumer may call run_many too
                continue
            if exhausted and not inflight and not queue and emitted == created:
                return
            if not waiting:
                time.sleep(POLL)  # no actor yet: starting, or none left (the deadline above)
                continue
            ready, _ = ray.wait(waiting, num_returns=1, timeout=POLL)
            with self._lock:
                collect(ready)

    def close(self, deadline: float) -> None:
        import ray

        hosts = list(self.hosts.values())
        try:
            refs = [h.actor.close.remote() for h in hosts]
            ray.wait(refs, num_returns=len(refs), timeout=deadline)
        except Exception as exc:  # noqa: BLE001 - closing: the actors are killed next
            log.debug("ray executor: close: %s", exc)
        for host in hosts:
            self._drop(host)
        for _, actor, _ in self._starting.values():
            ray.kill(actor, no_restart=True)
        self._starting.clear()


def _cause(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[-1] if text else ''}"[:300]
