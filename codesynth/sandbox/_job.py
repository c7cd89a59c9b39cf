"""How a job's processes drop their privileges before they run anything.

A job is two processes, both made by the zygote (see ``_zygote``): the judge, which runs the
tests, and the judged, which runs the program. Each applies a :class:`Plan` to itself: the
worker's cgroups, rlimits, its own uid (the judge's differs from the program's), not
dumpable, a new session keyring, the seccomp filter; then its descriptors are wired and
nothing else stays open.
"""

from __future__ import annotations

import io
import json
import math
import os
import resource
import sys
from _signal import SIG_IGN, SIGINT, default_int_handler
from _signal import signal as _signal
from typing import Any

from codesynth.sandbox import _linux as L
from codesynth.sandbox._seccomp import Filter

EVIDENCE_FD = 3
WORKDIR = "/sandbox"  # each job's working directory (a private tmpfs)
HARNESS_FAULT = 70  # exit status when the harness itself could not start
ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/sandbox",
    "TMPDIR": "/tmp",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "PYTHONIOENCODING": "utf-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
}


class Plan:
    """What one process of a job does to itself before it runs anything (see the module)."""

    __slots__ = ("chdir", "rlimits", "oom_adjust", "userns_maps", "ids", "undump",
                 "path", "memory_procs", "keyring", "seccomp")

    def __init__(self, *, limits: dict[str, Any], isolate: bool, uid: int, gid: int,
                 userns: bool, memory_cgroup: bool, in_container: bool,
                 redumpable: bool, memory_procs: int | None = None, keyring: bool = False,
                 seccomp: Filter | None = None, workdir: str | None = None,
                 judged: bool = True) -> None:
        """``memory_cgroup``: under the worker's cgroups (see _cgroup); ``memory_procs``: the
        memory cgroup's ``cgroup.procs``, which the job joins first. ``in_container``: the
        docker backend. ``redumpable``: changing uid may make us dumpable again.
        ``keyring``: join a new session keyring. ``seccomp``: the filter, installed last.
        ``judged``: the process that runs the program (else the judge); both work in
        ``workdir``, which goes first on the program's ``sys.path`` (never the judge's),
        and the program is the OOM killer's first pick."""
        cpu = max(1, math.ceil(float(limits["cpu_time"] or limits["timeout"])))
        fsize = int(limits["file_size_mb"]) * 1024 * 1024
        nproc = int(limits["max_processes"]) + (1 if in_container and os.getuid() else 0)
        # RLIMIT_NPROC counts per uid: in a container the runner may have ours.
        rlimits = [(resource.RLIMIT_CPU, (cpu, cpu + 1)),  # SIGXCPU, then SIGKILL
                   (resource.RLIMIT_FSIZE, (fsize, fsize)),
                   (resource.RLIMIT_CORE, (0, 0)),
                   (resource.RLIMIT_NPROC, (nproc, nproc))]
        if not memory_cgroup:
            memory = int(limits["memory_mb"]) * 1024 * 1024
            rlimits.append((resource.RLIMIT_AS, (memory, memory)))
        self.rlimits = tuple(rlimits)
        self.chdir = workdir
        self.oom_adjust = b"1000" if judged else b"0"  # the zygote has the runner's -1000
        self.userns_maps: tuple[tuple[str, str], ...] = ()
        self.ids: tuple[int, int] | None = None
        if isolate and userns:
            self.userns_maps = (("/proc/self/setgroups", "deny"),
                                ("/proc/self/uid_map", f"{uid} 0 1"),
                                ("/proc/self/gid_map", f"{gid} 0 1"))
        elif isolate and os.getuid() == 0:
            self.ids = (uid, gid)  # no supplementary groups: the runner dropped its own
        self.undump = True  # the runner's uid (user namespace, container) or a new one
        self.path = workdir if judged else None
        self.memory_procs = memory_procs
        self.keyring = keyring
        self.seccomp = seccomp


def _wire_fds(sources: tuple[int, ...]) -> None:
    """``sources[i]`` becomes descriptor ``i``; every other descriptor is closed."""
    count = len(sources)
    if any(fd < count for fd in sources):
        sources = tuple(_dupfd(fd, 1000) for fd in sources)
    for target, fd in enumerate(sources):
        # Positional: a keyword argument would make CPython build its argument parser here.
        os.dup2(fd, target, target < 3)
    os.closerange(count, 1 << 20)


def _dupfd(fd: int, lowest: int) -> int:
    import fcntl

    return fcntl.fcntl(fd, fcntl.F_DUPFD, lowest)


def _userns(maps: tuple[tuple[str, str], ...]) -> None:
    # Unprivileged host: a nested user namespace leaves the job no capability over the
    # mount namespace the runner built.
    L.unshare(L.CLONE_NEWUSER)
    for path, content in maps:
        with open(path, "w") as handle:
            handle.write(content)


def _oom_score(score: bytes) -> None:
    # The OOM killer picks the program's tree first, then the judge, never the runner. Our
    # /proc entries are writable only while dumpable (harden makes us undumpable again).
    L.prctl(L.PR_SET_DUMPABLE, 1)
    fd = os.open("/proc/self/oom_score_adj", os.O_WRONLY)
    try:
        os.write(fd, score)
    finally:
        os.close(fd)


_STREAMS: list[io.TextIOWrapper] = []
_RUNNER_STREAMS: list[Any] = []


def prebuild_interpreter_state() -> None:
    """Done once in the runner: the interpreter state every job needs, inherited ready-made.

    ``sys.std*`` become streams on fd numbers 0-2 without buffered data, which in each job
    are its own descriptors; the runner keeps its protocol streams (``serve``) and never
    prints. The environment is the jobs' allowlist; ``sys.argv`` is the program's.
    """
    _RUNNER_STREAMS[:] = [sys.stdin, sys.stdout, sys.stderr,
                          sys.__stdin__, sys.__stdout__, sys.__stderr__]  # kept alive
    _STREAMS[:] = [
        io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8"),
        io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8",
                         errors="backslashreplace"),
        io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8",
                         errors="backslashreplace", line_buffering=True),
    ]
    sys.stdin, sys.stdout, sys.stderr = _STREAMS
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = _STREAMS  # type: ignore[misc]
    sys.argv = ["solution.py"]
    os.environ.clear()
    os.environ.update(ENV)
    sys.dont_write_bytecode = True


def harden(plan: Plan, fds: tuple[int, ...], _exit: Any = os._exit) -> None:
    """Drop everything ``plan`` says, wire ``fds`` as 0, 1, 2, ...; on any failure, say why
    on stderr and exit with ``HARNESS_FAULT`` (never run anything after a failed step)."""
    try:
        if plan.chdir is not None:
            os.chdir(plan.chdir)
        for which, limit in plan.rlimits:
            resource.setrlimit(which, limit)
        _oom_score(plan.oom_adjust)
        _wire_fds(fds)
        if plan.keyring:
            try:  # else the runner's own (empty, anonymous) one, which no job can change
                L.join_session_keyring()
            except OSError:
                pass
        if plan.userns_maps:
            _userns(plan.userns_maps)
        elif plan.ids is not None:
            uid, gid = plan.ids
            os.setresgid(gid, gid, gid)
            os.setresuid(uid, uid, uid)
        if plan.undump:
            L.prctl(L.PR_SET_DUMPABLE, 0)  # no ptrace, no /proc/<pid>/fd from the program
        # The runner ignores SIGINT; the program gets Python's, the judge ignores it (as the
        # init of the job's PID namespace, a handler is the only way a signal reaches it).
        _signal(SIGINT, default_int_handler if plan.path is not None else SIG_IGN)
        if plan.path is not None and plan.path not in sys.path:
            sys.path.insert(0, plan.path)
        if not _STREAMS:
            prebuild_interpreter_state()
        if plan.seccomp is not None:  # last: the calls above may be ones it denies
            plan.seccomp.install()
    except BaseException as exc:  # noqa: BLE001 - report the fault, never run anything
        try:
            os.write(2, f"codesynth: job setup failed: {exc!r}\n".encode())
        finally:
            _exit(HARNESS_FAULT)


def judge_id(uid: int) -> int:
    """The judge's uid (and gid) for a worker whose programs run as ``uid``: one no program
    of any worker has."""
    return uid + 0x40000000 if uid < 0x40000000 else uid - 0x20000000


def job_plans(runner: Any, command: dict[str, Any]) -> tuple[Plan, Plan]:
    """In the zygote: the Plans of a job's judged process and of its judge (``runner``: the
    runner's state, inherited)."""
    limits = command["limits"]
    common = {"limits": limits, "isolate": runner.isolate, "userns": runner.userns,
              "memory_cgroup": runner.cgroup is not None, "in_container": runner.container,
              "redumpable": runner.redumpable, "keyring": runner.keyring,
              "seccomp": runner.seccomp}
    workdir = command.get("scratch") or WORKDIR
    judged = Plan(uid=runner.uid, gid=runner.gid, workdir=workdir, judged=True,
                  **common)  # type: ignore[arg-type]
    # The judge shares the program's group: it may read and write the files of the
    # program's working directory (mode 0770), never the other way round.
    judge = Plan(uid=runner.judge_uid, gid=runner.gid, workdir=workdir, judged=False,
                 **common)  # type: ignore[arg-type]
    return judged, judge


class PreparedPlans:
    """In the zygote: a job's command and the Plans of its two processes (``make``: the
    command to the (judged, judge) Plans), made for the last command it handed over, before
    the next job's processes are made: in a run, every job
    gets the same command (limits, network), and parsing it and making its Plans in each of
    those processes cost them a few hundred microseconds and as many copied pages. A job
    whose command differs has them made in its processes, as before. (The command holds no
    job data: the limits and flags, which each of the job's processes reads anyway.)"""

    def __init__(self, make: Any) -> None:
        self.make = make
        self.world = make.world
        self.memory_procs = getattr(make, "memory_procs", None)
        self.message = b""
        self.made: tuple[dict[str, Any], Any] | None = None

    def expect(self, message: bytes) -> None:
        if message != self.message:
            self.message, self.made = message, None
            try:
                command = json.loads(message)
                self.made = command, self.make(command)
            except Exception:  # noqa: BLE001 - made again (and reported) in the job
                pass

    def take(self, message: bytes) -> tuple[dict[str, Any], Any]:
        """The command and its (judged, judge) Plans."""
        if self.made is not None and message == self.message:
            return self.made
        command = json.loads(message)
        return command, self.make(command)
