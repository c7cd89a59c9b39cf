"""The ``local`` backend: runners inside Linux namespaces on this machine.

Each worker is a runner process that unshares its PID, network, mount, IPC and UTS namespaces
(plus a user namespace when not root), sees only a read-only runtime, and forks one job at a
time under the worker's cgroups, sweeping the namespace clean after each. Where the kernel refuses
(macOS, a locked-down container) the backend refuses too, unless the caller opts out of
isolation with ``unsafe_no_isolation=True``.
"""

from __future__ import annotations

import functools
import itertools
import os
import sys

from codesynth.errors import SandboxUnavailable
from codesynth.harness.java_warm import enabled as java_warm_enabled
from codesynth.records import Limits
from codesynth.registry import sandboxes
from codesynth.sandbox import _cgroup
from codesynth.sandbox._process import PACKAGE_ROOT, RunnerDied, RunnerProcess
from codesynth.sandbox.pool import PooledSandbox, RunnerPool

_INSTANCES = itertools.count()
UNAVAILABLE_HINT = ("use --sandbox docker, or pass --unsafe-no-isolation to run WITHOUT any "
                    "isolation (only for code you trust)")


def uid_block() -> tuple[int, int]:
    """(instance number, first of 256 uids) for a new sandbox in this process.

    Every sandbox instance, of any backend, gets uids of its own: RLIMIT_NPROC counts per
    uid, so two sandboxes must never share one. Distinct processes get distinct blocks."""
    instance = next(_INSTANCES)
    return instance, 200_000 + ((os.getpid() * 64 + instance) % 1_000_000) * 256


@sandboxes.register("local")
class LocalSandbox(PooledSandbox):
    name = "local"

    def __init__(self, workers: int | None = None, limits: Limits | None = None,
                 unsafe_no_isolation: bool = False) -> None:
        self.workers = workers or max(1, len(os.sched_getaffinity(0)))
        self.limits = limits or Limits()
        self.isolate = not unsafe_no_isolation
        if self.isolate and not sys.platform.startswith("linux"):
            raise SandboxUnavailable(
                f"the local sandbox needs Linux namespaces (this is {sys.platform}); "
                + UNAVAILABLE_HINT)
        self._cgroups: list[dict[str, str] | None] = [None] * self.workers
        if self.isolate and os.getuid() == 0:
            _cgroup.remove_stale()
        # Every instance gets its own cgroups and uids: two sandboxes in one process must
        # not share process or memory budgets (RLIMIT_NPROC counts per uid).
        self._instance, self._uid_base = uid_block()
        self._pool = RunnerPool(self.name, self.workers, self._start_runner)
        try:
            self._pool.start_all()
        except RunnerDied as exc:
            self.close()
            raise SandboxUnavailable(
                f"the local sandbox cannot isolate programs here ({exc}); "
                + UNAVAILABLE_HINT) from exc

    def _start_runner(self, index: int) -> RunnerProcess:
        cgroups = None
        if self.isolate and os.getuid() == 0:
            if self._cgroups[index] is None:
                self._cgroups[index] = _cgroup.create(f"{os.getpid()}-{self._instance}-{index}")
            cgroups = self._cgroups[index]
        uid = self._uid_base + (index % 256)
        config = {"isolate": self.isolate, "uid": uid, "gid": uid, "cgroups": cgroups,
                  "paths": _runtime_paths(), "java_warm": java_warm_enabled()}
        return RunnerProcess(RunnerProcess.local_command(config))

    @property
    def info(self) -> dict[str, object]:
        return self._pool.info

    def close(self) -> None:
        self._pool.close()
        for paths in self._cgroups:
            _cgroup.remove(paths)
        self._cgroups = [None] * self.workers


@functools.cache
def _pch() -> str | None:
    from codesynth.languages import prepare_pch

    return prepare_pch()


def _runtime_paths() -> list[str]:
    """What the runner must import from: site-packages and the codesynth package itself."""
    import sysconfig

    paths = {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    paths.add(os.path.join(PACKAGE_ROOT, "codesynth"))
    pch = _pch()  # C++'s precompiled header, made once per machine (read-only)
    if pch is not None:
        paths.add(pch)
    return sorted(paths)
