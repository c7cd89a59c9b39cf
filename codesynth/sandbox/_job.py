"""The forked job process: drop everything, run the harness.

Runs in a child of the runner. In the local backend it is born in a fresh PID namespace and
enters fresh network, IPC and mount namespaces (``_jobns``), which end with it: orphans,
``setsid`` daemons, fork bombs, sockets, IPC objects and files all go. In a container the
runner (the namespace's init) kills and reaps everything else in the namespace and empties
the job's private directories (see ``runner``). Nothing here returns; the process always
ends in ``os._exit``.

Every page the child writes is a copy-on-write fault (~2 µs here), so the runner decides
everything before the fork (``plan``): the child runs one straight line of system calls on
values allocated together, then the harness.
"""

from __future__ import annotations

import io
import math
import os
import resource
import sys
from _signal import SIGINT, default_int_handler
from _signal import signal as _signal
from typing import Any

from codesynth.harness import STYLES
from codesynth.harness.evidence import Evidence
from codesynth.sandbox import _linux as L
from codesynth.sandbox._jobns import enter as enter_namespaces
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
    """Everything the child does, decided by the runner before the fork (see the module)."""

    __slots__ = ("chdir", "rlimits", "fds", "oom_adjust", "userns_maps", "ids", "undump",
                 "path", "style", "job", "evidence", "memory_procs", "keyring", "seccomp",
                 "joined")

    def __init__(self, *, job: dict[str, Any], limits: dict[str, Any], key: bytes,
                 fds: tuple[int, int, int, int], isolate: bool, uid: int, gid: int,
                 userns: bool, memory_cgroup: bool, in_container: bool,
                 redumpable: bool, memory_procs: int | None = None, keyring: bool = False,
                 seccomp: Filter | None = None,
                 joined: tuple[tuple[int, int], ...] = ()) -> None:
        """``fds``: the job's stdin, stdout, stderr and evidence channel. ``memory_cgroup``:
        under the worker's cgroups (see _cgroup); ``memory_procs``: the memory cgroup's
        ``cgroup.procs``, which the job joins first. ``in_container``: the docker backend,
        where the runner shares our uid. ``redumpable``: changing uid may make us dumpable
        again. ``keyring``: join a new session keyring. ``seccomp``: the filter, installed
        last. ``joined``: the job's own namespaces to enter (descriptor, type), first."""
        cpu = max(1, math.ceil(float(limits["cpu_time"] or limits["timeout"])))
        fsize = int(limits["file_size_mb"]) * 1024 * 1024
        nproc = int(limits["max_processes"]) + (1 if in_container else 0)
        # RLIMIT_NPROC counts per uid: in a container the runner has ours.
        rlimits = [(resource.RLIMIT_CPU, (cpu, cpu + 1)),  # SIGXCPU, then SIGKILL
                   (resource.RLIMIT_FSIZE, (fsize, fsize)),
                   (resource.RLIMIT_CORE, (0, 0)),
                   (resource.RLIMIT_NPROC, (nproc, nproc))]
        if not memory_cgroup:
            memory = int(limits["memory_mb"]) * 1024 * 1024
            rlimits.append((resource.RLIMIT_AS, (memory, memory)))
        self.rlimits = tuple(rlimits)
        self.chdir = job["_scratch"] if not isolate else WORKDIR if joined else None
        self.fds = fds
        self.oom_adjust = in_container
        self.userns_maps: tuple[tuple[str, str], ...] = ()
        self.ids: tuple[int, int] | None = None
        if isolate and userns:
            self.userns_maps = (("/proc/self/setgroups", "deny"),
                                ("/proc/self/uid_map", f"{uid} 0 1"),
                                ("/proc/self/gid_map", f"{gid} 0 1"))
        elif isolate and os.getuid() == 0:
            self.ids = (uid, gid)  # no supplementary groups: the runner dropped its own
        self.undump = redumpable or in_container
        self.path = self.chdir or WORKDIR
        self.job = {**job, "_evidence_fd": EVIDENCE_FD, "_isolated": isolate}
        self.style = STYLES[job["test_style"]]
        self.evidence = Evidence(EVIDENCE_FD, key)
        self.memory_procs = memory_procs
        self.keyring = keyring
        self.seccomp = seccomp
        self.joined = joined


def _wire_fds(sources: tuple[int, ...]) -> None:
    # The runner's own stdio holds 0-2, so no source is below 3 and each dup2 leaves the
    # sources still to come intact. Otherwise, move them out of the way first.
    if sources[0] < EVIDENCE_FD or sources[1] < EVIDENCE_FD or sources[2] < EVIDENCE_FD \
            or sources[3] < EVIDENCE_FD:
        sources = tuple(_dupfd(fd, 1000) for fd in sources)
    for target in range(EVIDENCE_FD):
        os.dup2(sources[target], target)
    if sources[EVIDENCE_FD] != EVIDENCE_FD:  # else it is ours already, close-on-exec
        # Positional: a keyword argument would make CPython build its argument parser here,
        # in every job (~30 page faults).
        os.dup2(sources[EVIDENCE_FD], EVIDENCE_FD, False)
    os.closerange(EVIDENCE_FD + 1, 1 << 20)


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


def _container_oom() -> None:
    # The container's OOM killer must pick the job's tree, never the runner. Our /proc
    # entries are writable only while dumpable (job_main makes us undumpable again).
    L.prctl(L.PR_SET_DUMPABLE, 1)
    with open("/proc/self/oom_score_adj", "w") as handle:
        handle.write("1000")


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


def job_main(plan: Plan, _exit: Any = os._exit) -> None:
    """Entry point of the forked job process. Never returns.

    ``_exit`` is bound when this module is imported: a program that patches ``os._exit``
    cannot make the job fall back into the runner's code.
    """
    try:
        if plan.memory_procs is not None:  # first: every page from here on is the job's
            os.write(plan.memory_procs, b"0")
        if plan.joined:  # the job's own namespaces (entering the mount one resets the cwd)
            enter_namespaces(plan.joined)
        # Its own session and process group: kill(0, ...) / killpg from the program reach
        # only the job (process groups span PID namespaces).
        os.setsid()
        if plan.chdir is not None:
            os.chdir(plan.chdir)
        for which, limit in plan.rlimits:
            resource.setrlimit(which, limit)
        if plan.oom_adjust:
            _container_oom()
        _wire_fds(plan.fds)
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
        # The runner ignores SIGINT (a program must not stop it); the program gets Python's.
        _signal(SIGINT, default_int_handler)
        if plan.path not in sys.path:
            sys.path.insert(0, plan.path)
        if not _STREAMS:
            prebuild_interpreter_state()
        if plan.seccomp is not None:  # last: the calls above may be ones it denies
            plan.seccomp.install()
    except BaseException as exc:  # noqa: BLE001 - report the fault, never run the program
        try:
            os.write(2, f"codesynth: job setup failed: {exc!r}\n".encode())
        finally:
            _exit(HARNESS_FAULT)
    evidence = plan.evidence
    try:
        plan.style(plan.job, evidence)
    except BaseException as exc:  # noqa: BLE001
        # A harness bug or a program that broke the harness: no final event, no pass.
        try:
            evidence.emit("harness_error", message=repr(exc)[:2000])
        except BaseException:  # noqa: BLE001
            pass
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001
            pass
    _exit(0)
