"""The job's private world inside a runner's namespaces, and sweeping it after each job.

A job may write to three tmpfs directories (its working directory, /tmp, /dev/shm), create
POSIX message queues and System V IPC objects, and start processes. After the job, the
runner (the init of its PID namespace) kills and reaps every process, removes every IPC
object, and empties the directories, so that nothing of one job reaches the next.

This runs after every job, in the process that forks them, so it checks before it scans: a
tmpfs counts its inodes (``statvfs``), and the mqueue directory's size grows with every queue.
A count equal to the empty one means there is nothing to remove.
"""

from __future__ import annotations

import contextlib
import os
import signal

from codesynth.sandbox import _linux as L

MQUEUE = "/dev/mqueue"
JOB_DIRS = (("/sandbox", 0o700), ("/tmp", 0o1777), ("/dev/shm", 0o1777))


def mount(runtime_under_tmp: list[str], uid: int, gid: int, userns: bool) -> set[str]:
    """Mount the job directories (tmpfs: memory written there is charged to the job's cgroup;
    ``nr_inodes`` bounds how long emptying can take) and this IPC namespace's message queues.
    A runtime living under /tmp (a venv, a checkout) is bound again, read-only. Returns the
    top-level /tmp entries that must stay."""
    owner = "" if userns else f",uid={uid},gid={gid}"
    hidden = [(path, os.open(path, os.O_PATH)) for path in runtime_under_tmp]
    for directory, mode in JOB_DIRS:
        options = f"mode={mode:04o},size=50%,nr_inodes=65536"
        L.mount("tmpfs", directory, "tmpfs", L.MS_NOSUID | L.MS_NODEV,
                options + (owner if directory == "/sandbox" else ""))
    with contextlib.suppress(OSError):
        L.mount("mqueue", MQUEUE, "mqueue", L.MS_NOSUID | L.MS_NODEV | L.MS_NOEXEC)
    for path, fd in hidden:
        os.makedirs(path, mode=0o755, exist_ok=True)
        L.bind_readonly(f"/proc/self/fd/{fd}", path)
        os.close(fd)
    return {path.split("/")[2] for path in runtime_under_tmp}


class JobSpace:
    """The directories and IPC namespace as they are empty, and the sweep back to that."""

    def __init__(self, keep: set[str]) -> None:
        self.keep = keep  # top-level /tmp entries that are part of the runtime
        self.ipc = L.SysvIpc()
        self.empty: dict[str, int | None] = {d: _inodes(d) for d, _ in JOB_DIRS}
        self.empty[MQUEUE] = _mqueue_size()

    def sweep(self) -> str | None:
        """Kill and reap every process left in the namespace (we are its init, so -1 means
        exactly the job's tree), remove IPC objects and message queues, empty the
        directories. Returns what could not be removed, if anything: the runner is then
        tainted and gets replaced."""
        try:  # plain try blocks, no context managers: fewer pages written per job
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass  # nothing left: the usual case
        while True:
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                break
        self.ipc.remove_all()
        left: list[str] = []
        for directory, mode in JOB_DIRS:
            count = _inodes(directory)
            if count is None or count != self.empty[directory]:
                left += _empty(directory, self.keep if directory == "/tmp" else set())
            try:  # the job owns /sandbox: it may have changed its mode
                os.chmod(directory, mode)
            except OSError:
                pass
        if _mqueue_size() != self.empty[MQUEUE]:
            left += _empty(MQUEUE, set())
        return f"could not remove {', '.join(left[:5])}" if left else None


def _empty(directory: str, keep: set[str]) -> list[str]:
    left = []
    for entry in os.scandir(directory):
        if entry.name in keep:
            continue
        if entry.is_dir(follow_symlinks=False):
            rmtree(entry.path)
        else:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
        if os.path.lexists(entry.path):
            left.append(entry.path)
    return left


def _inodes(directory: str) -> int | None:
    """Inodes in use on the tmpfs at ``directory``; None where the filesystem does not say."""
    stat = os.statvfs(directory)
    return stat.f_files - stat.f_ffree if stat.f_files else None


def _mqueue_size() -> int:
    try:
        return os.stat(MQUEUE).st_size
    except OSError:
        return -1


def rmtree(path: str) -> None:
    import shutil  # rarely needed: the runner does not map it (nor zlib, bz2, lzma) for jobs

    shutil.rmtree(path, ignore_errors=True)
