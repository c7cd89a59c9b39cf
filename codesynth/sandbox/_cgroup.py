"""Per-worker cgroups (v1 memory, pids, cpuacct): limits and accounting for a whole tree.

The host creates one cgroup per controller and worker (``create``) and removes them at the end
(``remove``). The runner opens the control files before it hides the host filesystem, keeps
the descriptors (:class:`JobCgroup`) and joins the cgroups itself: every job it forks is born
inside them (a per-job migration would cost ~1 ms of CPU on cgroup v1). The memory cgroup
is the exception: each job moves itself there (~40 us), so the runner's memory is never
charged to it and the limit is the job's budget. What an earlier job left charged there (page
cache of the files it read, kernel objects) is reclaimed before the next job
(``memory.force_empty``) whenever it is more than a little: it must not raise the next job's
limit, nor count against it.
"""

from __future__ import annotations

import contextlib
import os
import time

CONTROLLERS = ("memory", "pids", "cpuacct")
# Used where mounted: a cpu cgroup per worker gives every worker an equal share of the CPU,
# however many processes (or sessions: the kernel's autogroups) one job makes.
OPTIONAL = ("cpu",)
PREFIX = "codesynth-"


def _v1_mounts() -> dict[str, str]:
    mounts: dict[str, str] = {}
    with open("/proc/self/mountinfo") as handle:
        for line in handle:
            left, _, right = line.partition(" - ")
            fields, extra = left.split(), right.split()
            if len(extra) < 3 or extra[0] != "cgroup":
                continue
            for option in extra[2].split(","):
                if option in CONTROLLERS or option in OPTIONAL:
                    mounts[option] = fields[4]
    return mounts


def _current_paths() -> dict[str, str]:
    paths: dict[str, str] = {}
    with open("/proc/self/cgroup") as handle:
        for line in handle:
            _, names, path = line.rstrip("\n").split(":", 2)
            for name in names.split(","):
                paths[name] = path
    return paths


def create(name: str) -> dict[str, str] | None:
    """Create ``codesynth-<name>`` under our cgroup for each controller; None if impossible."""
    mounts, current = _v1_mounts(), _current_paths()
    if any(c not in mounts or c not in current for c in CONTROLLERS):
        return None
    created: dict[str, str] = {}
    try:
        for controller in CONTROLLERS + OPTIONAL:
            if controller not in mounts or controller not in current:
                continue  # an optional one
            path = os.path.join(mounts[controller], current[controller].lstrip("/"),
                                PREFIX + name)
            if controller in OPTIONAL and os.path.exists(path):
                continue  # the same hierarchy as one already made (cpu,cpuacct)
            os.makedirs(path, exist_ok=True)
            created[controller] = path
        swappiness = os.path.join(created["memory"], "memory.swappiness")
        with contextlib.suppress(OSError), open(swappiness, "w") as handle:
            handle.write("0")
    except OSError:
        remove(created)
        return None
    return created


def remove(paths: dict[str, str] | None) -> None:
    for path in (paths or {}).values():
        with contextlib.suppress(OSError):
            os.rmdir(path)


def remove_stale() -> int:
    """Remove empty codesynth cgroups whose owning process is gone (after a crash)."""
    mounts, current = _v1_mounts(), _current_paths()
    removed = 0
    for controller in CONTROLLERS + OPTIONAL:
        if controller not in mounts or controller not in current:
            continue
        parent = os.path.join(mounts[controller], current[controller].lstrip("/"))
        with contextlib.suppress(OSError):
            for entry in os.listdir(parent):
                if not entry.startswith(PREFIX):
                    continue
                owner = entry[len(PREFIX):].split("-")[0]
                if owner.isdigit() and os.path.exists(f"/proc/{owner}"):
                    continue
                with contextlib.suppress(OSError):
                    os.rmdir(os.path.join(parent, entry))
                    removed += 1
    return removed


NEAR_LIMIT = 0.97  # memory at 97 % of the limit or more is "at the limit"


class JobCgroup:
    """Open descriptors on one worker's job cgroups (usable after the host view is gone)."""

    def __init__(self, paths: dict[str, str]) -> None:
        def opened(controller: str, name: str, flags: int) -> int | None:
            try:
                return os.open(os.path.join(paths[controller], name), flags | os.O_CLOEXEC)
            except OSError:
                return None

        procs = [opened(c, "cgroup.procs", os.O_WRONLY) for c in CONTROLLERS]
        self._procs = [fd for fd in procs if fd is not None]
        self._optional = [fd for fd in (opened(c, "cgroup.procs", os.O_WRONLY)
                                        for c in OPTIONAL if c in paths) if fd is not None]
        self._usage = opened("memory", "memory.usage_in_bytes", os.O_RDONLY)
        self._empty = opened("memory", "memory.force_empty", os.O_WRONLY)
        self._mem_limit = opened("memory", "memory.limit_in_bytes", os.O_WRONLY)
        self._memsw_limit = opened("memory", "memory.memsw.limit_in_bytes", os.O_WRONLY)
        self._peak = opened("memory", "memory.max_usage_in_bytes", os.O_RDWR)
        self._oom = opened("memory", "memory.oom_control", os.O_RDONLY)
        self._pids_max = opened("pids", "pids.max", os.O_WRONLY)
        self._cpu = opened("cpuacct", "cpuacct.usage", os.O_RDONLY)
        self._applied: tuple[int, int] | None = None
        if None in (self._mem_limit, self._peak, self._oom, self._pids_max, self._cpu,
                    self._usage) or len(self._procs) != len(CONTROLLERS):
            raise OSError("cgroup control files are not accessible")
        self.baseline = 0

    def join(self) -> None:
        """Move the calling process (the runner) into the pids and cpuacct cgroups; its
        forks stay there. Not into the memory cgroup: what the runner allocates (evidence,
        replies) must never count against the job, nor a job's memory (its tmpfs files, say)
        leave the runner without any. Each job joins that one itself (``memory_procs``).

        The first move waits for an RCU grace period on cgroup v1 (~20 ms here): the runner
        does it in a thread while it builds its filesystem view (see ``Runner.enter``)."""
        for fd in self._procs[1:] + self._optional:
            os.write(fd, b"0")
            os.close(fd)
        self._procs, self._optional = self._procs[:1], []

    @property
    def memory_procs(self) -> int:
        """The memory cgroup's ``cgroup.procs``, open for writing: a job writes "0" to it."""
        return self._procs[0]

    @staticmethod
    def protect() -> None:
        """The OOM killer picks the job, never the runner (its forks set their own)."""
        with contextlib.suppress(OSError), open("/proc/self/oom_score_adj", "w") as handle:
            handle.write("-1000")

    @staticmethod
    def _write(fd: int | None, value: int | str) -> None:
        if fd is not None:
            os.pwrite(fd, str(value).encode(), 0)

    @staticmethod
    def _read(fd: int | None) -> str:
        return os.pread(fd, 4096, 0).decode() if fd is not None else ""

    def _reclaim(self) -> int:
        """What is charged with no job in the cgroup, reclaimed first when it is more than
        ``RESIDUE`` (the page cache an earlier job brought in is the usual case)."""
        usage = int(self._read(self._usage) or 0)
        if usage > self.RESIDUE and self._empty is not None:
            try:
                os.write(self._empty, b"0")
            except OSError:
                pass  # reclaimed what it could; the rest is what it is
            usage = int(self._read(self._usage) or 0)
        return usage

    RESIDUE = 2 << 20  # bytes left charged after a job, below which nothing is reclaimed

    def apply(self, memory_mb: int, max_processes: int) -> None:
        """Limit the next job to ``memory_mb`` of its own (whatever earlier jobs did) and its
        cgroup to ``max_processes`` tasks (the caller counts its own)."""
        usage = self._reclaim()
        if self._applied and self._applied[0] == memory_mb and \
                abs(usage - self.baseline) < (1 << 20) and \
                self._applied[1] == max_processes:
            return
        self.baseline = usage
        memory = memory_mb * 1024 * 1024 + usage
        # memsw must stay >= the memory limit: one of the two orders always works.
        for order in ((self._mem_limit, self._memsw_limit), (self._memsw_limit, self._mem_limit)):
            try:
                for fd in order:
                    self._write(fd, memory)
                break
            except OSError:
                continue
        self._write(self._mem_limit, memory)
        # + the runner, the zygote, the judge and the next job's two processes, made ahead
        self._write(self._pids_max, max_processes + 5)
        self._applied = (memory_mb, max_processes)

    def snapshot(self) -> tuple[int, int]:
        """(OOM kills so far, CPU nanoseconds so far)."""
        kills = 0
        for line in self._read(self._oom).splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                kills = int(value)
        return kills, int(self._read(self._cpu) or 0)

    def reset_peak(self) -> None:
        self._write(self._peak, 0)

    def near_limit(self) -> bool:
        """The job's memory is at its limit now (read while it still runs)."""
        if self._applied is None:
            return False
        limit = self._applied[0] * 1024 * 1024
        return int(self._read(self._usage) or 0) - self.baseline >= NEAR_LIMIT * limit

    def peak_mb(self) -> float:
        """Peak usage of the last job, the runner's own baseline removed."""
        return max(0, int(self._read(self._peak) or 0) - self.baseline) / (1024 * 1024)


class ContainerCgroup:
    """The container's own cgroup, seen read-only from inside it (the docker backend).

    The container is the worker: its memory and pids limits are set by the engine, so the
    runner only watches. Its CPU counter includes the runner, whose own share is removed.
    """

    ROOT = "/sys/fs/cgroup"

    def __init__(self) -> None:
        self._oom = os.open(f"{self.ROOT}/memory/memory.oom_control", os.O_RDONLY | os.O_CLOEXEC)
        self._cpu = os.open(f"{self.ROOT}/cpuacct/cpuacct.usage", os.O_RDONLY | os.O_CLOEXEC)
        self._usage = os.open(f"{self.ROOT}/memory/memory.usage_in_bytes",
                              os.O_RDONLY | os.O_CLOEXEC)
        self._limit = os.open(f"{self.ROOT}/memory/memory.limit_in_bytes",
                              os.O_RDONLY | os.O_CLOEXEC)

    def near_limit(self) -> bool:
        """The container's memory (the job's, plus the runner's) is at its limit now."""
        usage = int(os.pread(self._usage, 64, 0).decode() or 0)
        return usage >= NEAR_LIMIT * int(os.pread(self._limit, 64, 0).decode() or 1 << 62)

    def snapshot(self) -> tuple[int, int]:
        """(OOM kills so far, CPU nanoseconds so far, the runner's own excluded)."""
        kills = 0
        for line in os.pread(self._oom, 4096, 0).decode().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                kills = int(value)
        total = int(os.pread(self._cpu, 64, 0).decode() or 0)
        return kills, total - time.process_time_ns()
