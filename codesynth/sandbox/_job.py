"""The forked job process: drop everything, run the harness.

Runs in a child of the runner, inside the runner's namespaces, where it is alone with the
runner: after it ends, the runner (the namespace's init) kills and reaps everything else in
the namespace -- orphans, ``setsid`` daemons, fork bombs -- and empties the job's private
directories (see ``runner``). Nothing here returns; the process always ends in ``os._exit``.
"""

from __future__ import annotations

import fcntl
import io
import math
import os
import random
import resource
import signal
import sys
from dataclasses import dataclass
from typing import Any

from codesynth.sandbox import _linux as L

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


@dataclass
class JobSetup:
    """Everything the child needs; prepared by the runner before the fork."""

    job: dict[str, Any]
    limits: dict[str, Any]
    key: bytes
    stdin_fd: int
    stdout_fd: int
    stderr_fd: int
    evidence_fd: int
    isolate: bool
    uid: int
    gid: int
    userns: bool = False
    memory_cgroup: bool = False  # born in the worker's cgroups (see _cgroup)
    in_container: bool = False  # the docker backend: the runner shares our uid


def _set_limits(setup: JobSetup) -> None:
    limits = setup.limits
    cpu = max(1, math.ceil(float(limits["cpu_time"] or limits["timeout"])))
    fsize = int(limits["file_size_mb"]) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))  # SIGXCPU, then SIGKILL
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    nproc = int(limits["max_processes"])
    if setup.in_container:
        nproc += 1  # RLIMIT_NPROC counts per uid, and the runner has ours
        # The container's OOM killer must pick the job's tree, never the runner. Our /proc
        # entries are writable only while dumpable (job_main makes us undumpable again).
        L.prctl(L.PR_SET_DUMPABLE, 1)
        with open("/proc/self/oom_score_adj", "w") as handle:
            handle.write("1000")
    resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    if not setup.memory_cgroup:
        memory = int(limits["memory_mb"]) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))


def _drop_privileges(setup: JobSetup) -> None:
    if setup.userns:
        # Unprivileged host: a nested user namespace leaves the job no capability over
        # the mount namespace the runner built.
        L.unshare(L.CLONE_NEWUSER)
        for name, content in (("setgroups", "deny"), ("uid_map", f"{setup.uid} 0 1"),
                              ("gid_map", f"{setup.gid} 0 1")):
            with open(f"/proc/self/{name}", "w") as handle:
                handle.write(content)
    elif os.getuid() == 0:
        os.setgroups([])
        os.setresgid(setup.gid, setup.gid, setup.gid)
        os.setresuid(setup.uid, setup.uid, setup.uid)
    L.prctl(L.PR_SET_NO_NEW_PRIVS, 1)


def _wire_fds(setup: JobSetup) -> None:
    sources = (setup.stdin_fd, setup.stdout_fd, setup.stderr_fd, setup.evidence_fd)
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 1000) for fd in sources]  # no clobbering below
    for target, fd in enumerate(high):
        os.dup2(fd, target)
    os.closerange(EVIDENCE_FD + 1, 1 << 20)
    os.set_inheritable(EVIDENCE_FD, False)


_STREAMS: list[io.TextIOWrapper] = []


def prebuild_interpreter_state() -> None:
    """Done once in the runner: what every job needs, so the fork inherits it ready-made.

    The stream objects wrap fd numbers 0-2 but are never used by the runner itself; each job
    gets its own (copy-on-write) fresh instances, bound to its own descriptors.
    """
    _STREAMS[:] = [
        io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8"),
        io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8",
                         errors="backslashreplace"),
        io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8",
                         errors="backslashreplace", line_buffering=True),
    ]
    os.environ.clear()
    os.environ.update(ENV)
    sys.dont_write_bytecode = True


def _reset_interpreter() -> None:
    # The runner ignores SIGINT (a program must not stop it); the program gets Python's own.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if not _STREAMS:
        prebuild_interpreter_state()
    sys.stdin, sys.stdout, sys.stderr = _STREAMS
    for name, stream in zip(("__stdin__", "__stdout__", "__stderr__"), _STREAMS, strict=True):
        setattr(sys, name, stream)  # the runner's originals wrap its protocol pipes
    sys.argv = ["solution.py"]
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())


def job_main(setup: JobSetup, _exit: Any = os._exit) -> None:
    """Entry point of the forked job process. Never returns.

    ``_exit`` is bound when this module is imported: a program that patches ``os._exit``
    cannot make the job fall back into the runner's code.
    """
    try:
        random.seed()  # fork() skipped CPython's after-fork hooks, which reseed random
        # Its own session and process group: kill(0, ...) / killpg from the program reach
        # only the job (process groups span PID namespaces).
        os.setsid()
        if setup.isolate:
            os.chdir(WORKDIR)
        else:
            scratch = setup.job["_scratch"]
            os.chdir(scratch)
        _set_limits(setup)
        _wire_fds(setup)
        if setup.isolate:
            _drop_privileges(setup)
        L.prctl(L.PR_SET_DUMPABLE, 0)  # no ptrace, no /proc/<pid>/fd from the program
        _reset_interpreter()
        from codesynth.harness import STYLES
        from codesynth.harness.evidence import Evidence

        style = STYLES[setup.job["test_style"]]
        evidence = Evidence(EVIDENCE_FD, setup.key)
        setup.key = b""  # the writer holds it now, in a closure
        setup.job["_evidence_fd"] = EVIDENCE_FD
        setup.job["_isolated"] = setup.isolate
    except BaseException as exc:  # noqa: BLE001 - report the fault, never run the program
        try:
            os.write(2, f"codesynth: job setup failed: {exc!r}\n".encode())
        finally:
            _exit(HARNESS_FAULT)
    try:
        style(setup.job, evidence)
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
