"""Prometheus metrics of one server (its own registry: two servers in a process never mix)."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

LATENCY_BUCKETS = (0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.2, 0.5, 1.0, 2.5, 5.0, 10.0,
                   30.0, 60.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.queue_depth = Gauge("codesynth_queue_depth", "jobs waiting for a worker",
                                 registry=r)
        self.in_flight = Gauge("codesynth_jobs_in_flight", "jobs running in the sandbox",
                               registry=r)
        self.verdicts = Counter("codesynth_verdicts", "executions finished, by status",
                                ["status"], registry=r)
        self.cache_hits = Counter("codesynth_cache_hits", "verdicts read from the execution "
                                  "cache", registry=r)
        self.dropped = Counter("codesynth_jobs_dropped", "queued jobs never run, by reason "
                               "(cancelled: the client went away; deadline)", ["reason"],
                               registry=r)
        self.requests = Counter("codesynth_requests", "HTTP requests, by endpoint and status "
                                "code", ["endpoint", "code"], registry=r)
        self.rejected = Counter("codesynth_rejected", "requests refused for load (429)",
                                ["reason"], registry=r)
        self.latency = Histogram("codesynth_request_seconds", "request latency, by endpoint",
                                 ["endpoint"], buckets=LATENCY_BUCKETS, registry=r)
        self.job_seconds = Histogram("codesynth_job_seconds", "one job's wall time in the "
                                     "sandbox", buckets=LATENCY_BUCKETS, registry=r)

    def event(self, kind: str, value: Any) -> None:
        """What the dispatcher reports (from its worker threads too)."""
        if kind == "verdict":
            execution, seconds = value
            self.verdicts.labels(execution.status.value).inc()
            self.job_seconds.observe(seconds)
        elif kind == "cache_hit":
            self.cache_hits.inc()
        elif kind in ("cancelled", "deadline"):
            self.dropped.labels(kind).inc()

    def render(self, queued: int, running: int) -> bytes:
        self.queue_depth.set(queued)
        self.in_flight.set(running)
        return generate_latest(self.registry)
