"""The runner's side of Java's warm compiler (``_javac_service``, ``harness/java_warm``):
started on the local backend only, held to each job's limits."""

from __future__ import annotations

import os
from typing import Any

from codesynth.harness.java_warm import BUILD
from codesynth.harness.java_warm import attach as attach_warm_build
from codesynth.sandbox._cgroup import JobCgroup
from codesynth.sandbox._javac_service import (
    START_THREADS,
    Confinement,
    JavacService,
    service_id,
)


class WarmJava:
    def __init__(self, config: dict[str, Any], runner: Any) -> None:
        # Not in a container: the JVM would share the one memory cgroup (and its charged
        # pages) with the jobs, whose limit is the container's.
        self.runner = runner
        self.service: JavacService | None = None
        if config.get("java_warm", True) and config.get("mode") != "container":
            self.service = JavacService(confine=self.confinement)

    def confinement(self) -> Confinement | None:
        """How the JVM is confined (see ``Confinement``): where the runner is root outside a
        user namespace (the local backend as root); else it runs as the runner does."""
        runner = self.runner
        if not runner.isolate or os.getuid() != 0 or runner.userns:
            return None
        ids = service_id(runner.uid)
        return Confinement(ids, ids, runner.seccomp)

    def threads(self) -> int:
        """The JVM's threads: they live in the worker's pids cgroup, not the job's."""
        return self.service.threads() if self.service else 0

    def before(self, job: dict[str, Any], limits: dict[str, Any], cgroup: Any
               ) -> tuple[dict[str, Any], dict[str, Any], float]:
        """``job`` with its warm build, the limits left for it, and the build's CPU (the
        job's, as its own javac's would be: taken off its CPU budget)."""
        if self.service is None or job.get("language") != "java":
            return job, limits, 0.0
        if isinstance(cgroup, JobCgroup) and not self.service.threads():
            # the JVM starts in the worker's pids cgroup: room for its threads
            cgroup.apply(int(limits["memory_mb"]), int(limits["max_processes"]) + START_THREADS)
        job, cpu = attach_warm_build(job, self.service, limits)
        if cpu:
            limits = {**limits, "cpu_time": max(0.01, float(
                limits.get("cpu_time") or limits["timeout"]) - cpu)}
        return job, limits, cpu

    @staticmethod
    def used(events: list[dict[str, Any]]) -> bool:
        """Whether the judge built with the warm build (its signed ``build`` event)."""
        return any(e.get("e") == "build" and e.get("how") == BUILD for e in events)

    @staticmethod
    def finish(reply: dict[str, Any], job: dict[str, Any], cpu: float) -> None:
        """The reply of a job that had a warm build: says so, with the build's CPU."""
        if reply.pop("_warm", False) and "warm_build" in job:
            reply["build"] = BUILD
            reply["cpu_time"] = round(float(reply.get("cpu_time") or 0) + cpu, 6)
