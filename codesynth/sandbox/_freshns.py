"""Each job's own PID, IPC and mount namespaces, made by the zygote with the job's processes.

The zygote makes the first process of a job (the future judge) with ``clone(CLONE_PARENT |
CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNS)``: the init of a new PID namespace, in new IPC
and mount namespaces. That process mounts, in its mount namespace, new tmpfs on the job's
directories (its working directory, ``/tmp``, ``/dev/shm``), a ``/proc`` of its PID namespace
and a ``/dev/mqueue`` of its IPC namespace, before it forks the judged process, which shares
them. When the judge ends, the kernel kills everything in the PID namespace, and the
namespaces, their IPC objects, message queues and files go with the last process. Nothing
of one job's namespaces is ever seen by another job: no file, inode number, time, extended
attribute, PID or IPC id carries over, without any sweep.

Where the zygote may not make them (a container without the capability, no isolation), it
falls back to a PID namespace only, or to none, and the runner sweeps after each job
(``_jobspace``). The zygote finds out which at its start (``probe``).
"""

from __future__ import annotations

import os
from typing import Any

from codesynth.sandbox import _linux as L

FRESH = L.CLONE_NEWPID | L.CLONE_NEWIPC | L.CLONE_NEWNS
_FLAGS = L.MS_NOSUID | L.MS_NODEV | L.MS_NOATIME
_PROC_FLAGS = L.MS_NOSUID | L.MS_NODEV | L.MS_NOEXEC


def fresh_world(mounts: list[tuple[str, str]], tmp_binds: list[str]) -> None:
    """In the first process of a job, in its new namespaces: the job's private world.
    ``mounts``: (directory, tmpfs options); ``tmp_binds``: a runtime living under /tmp, bound
    again read-only over the new /tmp."""
    L.mount(None, "/", None, L.MS_REC | L.MS_PRIVATE)  # nothing of ours propagates back
    # Opened before /tmp is hidden (a mount of another namespace cannot be bound).
    hidden = [(path, os.open(path, os.O_PATH | os.O_CLOEXEC)) for path in tmp_binds]
    L.mount("proc", "/proc", "proc", _PROC_FLAGS)
    try:
        L.mount("mqueue", "/dev/mqueue", "mqueue", _PROC_FLAGS)
    except OSError:
        pass  # no mqueue filesystem: the IPC namespace still has its own queues
    for directory, options in mounts:
        L.mount("tmpfs", directory, "tmpfs", _FLAGS, options)
    _rebind(hidden)


def private_tmp(options: str, tmp_binds: list[str]) -> None:
    """In a new mount namespace: a /tmp of its own (the judge's), with the runtime that lives
    under /tmp bound again read-only (the judge imports from it lazily)."""
    hidden = [(path, os.open(path, os.O_PATH | os.O_CLOEXEC)) for path in tmp_binds]
    L.mount("tmpfs", "/tmp", "tmpfs", L.MS_NOSUID | L.MS_NODEV, options)
    _rebind(hidden)


def _rebind(hidden: list[tuple[str, int]]) -> None:
    for path, fd in hidden:
        os.makedirs(path, mode=0o755, exist_ok=True)
        L.bind_readonly(f"/proc/self/fd/{fd}", path)
        os.close(fd)


def probe(mounts: list[tuple[str, str]], tmp_binds: list[str]) -> int:
    """The namespace flags the zygote can give each job here: ``FRESH`` (and the job's world
    can be mounted), ``CLONE_NEWPID`` alone, or none."""
    for flags, world in ((FRESH, True), (L.CLONE_NEWPID, False)):
        try:
            pid = L.clone(flags)
        except OSError:
            continue
        if pid == 0:
            code = 0
            if world:
                try:
                    fresh_world(mounts, tmp_binds)
                except BaseException:  # noqa: BLE001 - the answer is the exit status
                    code = 1
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) == 0:
            return flags
    return 0


def config_of(runner: Any) -> tuple[list[tuple[str, str]], list[str]]:
    """What ``fresh_world`` needs, from the runner's state (none without isolation)."""
    if not runner.isolate:
        return [], []
    return list(getattr(runner, "job_mounts", [])), list(getattr(runner, "tmp_binds", []))


def judge_tmp(parent: str, tmp_binds: list[str]) -> str:
    """Where the judge keeps what only it may see (the pytest style writes the tests there):
    in a mount namespace of the judge's own, a /tmp of its own (with the runtime, when it
    lives under /tmp). Without the privilege to mount, ``parent``: then only the judge's uid
    and a mode of 0700 protect it."""
    try:
        L.unshare(L.CLONE_NEWNS)
        L.mount(None, "/", None, L.MS_REC | L.MS_PRIVATE)
        private_tmp("mode=1777,size=64m,nr_inodes=4096", tmp_binds)
    except OSError:
        return parent
    return "/tmp"


def judge_workdir(parent: str) -> None:
    import tempfile

    from codesynth.harness import pytest_style

    pytest_style.PRIVATE_DIR = tempfile.mkdtemp(prefix="judge-", dir=parent)  # mode 0700


def own_proc() -> None:
    """A mount namespace of the program's own with a /proc of the job's PID namespace: the
    program sees its own processes and the judge, with the numbers ``getpid`` gives, nothing
    else. Made when the job is handed over, after the runner renewed the job's directories:
    a copy of the mounts made earlier would hold the last job's."""
    try:
        L.unshare(L.CLONE_NEWNS)
        L.mount(None, "/", None, L.MS_REC | L.MS_PRIVATE)
        L.mount("proc", "/proc", "proc", L.MS_NOSUID | L.MS_NODEV | L.MS_NOEXEC)
    except OSError:
        pass  # the runner's /proc (no mount here: a container without the capability)
