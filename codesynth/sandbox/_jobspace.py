"""The job's private world inside a runner's namespaces, and sweeping it after each job.

A job may write to three tmpfs directories (its working directory, /tmp, /dev/shm), create
POSIX message queues and System V IPC objects, and start processes. After the job, the
runner (the init of its PID namespace) kills and reaps every process, removes every IPC
object, and gives the next job fresh directories, so that nothing of one job reaches the next:
no file, and no attribute, time or inode number either.

Where the runner may mount (the local backend), a directory the job touched is replaced by a
new tmpfs: new inodes numbered from the start, no extended attributes, no times the job set.
Inside a container the runner cannot mount: it empties the directory and resets the root's
extended attributes and times in place (see the README for what remains there).

This runs after every job, in the process that forks them, so it checks before it acts: the
root's inode count (``statvfs``), times and the mqueue directory's size are compared with the
empty state. Mounted ``noatime``, a directory only read does not count as touched.
"""

from __future__ import annotations

import contextlib
import os
import stat

from codesynth.sandbox import _linux as L

MQUEUE = "/dev/mqueue"
JOB_DIRS = (("/sandbox", 0o770), ("/tmp", 0o1777), ("/dev/shm", 0o1777))
_FLAGS = L.MS_NOSUID | L.MS_NODEV | L.MS_NOATIME
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC

State = tuple[int, int, int, int]


def options(directory: str, mode: int, owner: str) -> str:
    # tmpfs: memory written there is charged to the job's cgroup; ``nr_inodes`` bounds how
    # long emptying can take.
    return f"mode={mode:04o},size=50%,nr_inodes=65536" + (owner if directory == "/sandbox"
                                                          else "")


def mount(runtime_under_tmp: list[str], uid: int, gid: int, userns: bool) -> set[str]:
    """Mount the job directories and this IPC namespace's message queues. A runtime living
    under /tmp (a venv, a checkout) is bound again, read-only. Returns the top-level /tmp
    entries that must stay."""
    owner = "" if userns else f",uid={uid},gid={gid}"
    hidden = [(path, os.open(path, os.O_PATH)) for path in runtime_under_tmp]
    for directory, mode in JOB_DIRS:
        L.mount("tmpfs", directory, "tmpfs", _FLAGS, options(directory, mode, owner))
    with contextlib.suppress(OSError):
        L.mount("mqueue", MQUEUE, "mqueue", L.MS_NOSUID | L.MS_NODEV | L.MS_NOEXEC)
    for path, fd in hidden:
        os.makedirs(path, mode=0o755, exist_ok=True)
        L.bind_readonly(f"/proc/self/fd/{fd}", path)
        os.close(fd)
    return {path.split("/")[2] for path in runtime_under_tmp}


class JobSpace:
    """The directories and IPC namespace as they are empty, and the sweep back to that.

    ``owner``: the tmpfs owner option of /sandbox when the runner may mount (a fresh tmpfs
    for every touched directory); None inside a container (emptied and reset in place)."""

    def __init__(self, keep: set[str], owner: str | None) -> None:
        self.keep = keep  # top-level /tmp entries that are part of the runtime
        self.owner = owner
        self.ipc = L.SysvIpc()
        self.empty: dict[str, State | None] = {d: _state(d) for d, _ in JOB_DIRS}
        self.empty_mqueue = _mqueue_size()

    def sweep(self) -> str | None:
        """Reap what ended, remove IPC objects and message queues, renew the directories.
        Returns what went wrong, if anything: the runner is then tainted and gets replaced.
        Never raises."""
        try:
            return self._sweep()
        except Exception as exc:  # noqa: BLE001 - whatever it is, this runner is done
            return f"the sweep failed: {exc!r}"[:500]

    def _sweep(self) -> str | None:
        # The job's processes died with its PID namespace (the runner killed its init and
        # reaped it). Reap anything else that ended meanwhile (never the zygote: it lives).
        while True:
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    break
            except ChildProcessError:
                break
        self.ipc.remove_all()
        left: list[str] = []
        for directory, mode in JOB_DIRS:
            if _state(directory) != self.empty[directory]:
                left += self._renew(directory, mode)
        if _mqueue_size() != self.empty_mqueue:
            left += _empty(MQUEUE, set())
        return f"could not remove {', '.join(left[:5])}" if left else None

    def _renew(self, directory: str, mode: int) -> list[str]:
        keep = self.keep if directory == "/tmp" else set()
        if self.owner is not None and not keep:
            cwd = directory == "/sandbox"
            if cwd:
                os.chdir("/")
            L.umount(directory, L.MNT_DETACH)
            L.mount("tmpfs", directory, "tmpfs", _FLAGS, options(directory, mode, self.owner))
            if cwd:
                os.chdir(directory)  # every job inherits its working directory from us
            self.empty[directory] = _state(directory)
            return []
        left = _empty(directory, keep)
        for name in os.listxattr(directory):
            os.removexattr(directory, name)
        os.chmod(directory, mode)  # the job may own /sandbox: it may have changed its mode
        empty = self.empty[directory]
        if empty is not None:
            os.utime(directory, ns=(empty[1], empty[1]))
        self.empty[directory] = _state(directory)  # the ctime of this reset
        return left


def _state(directory: str) -> State | None:
    """Inodes in use on the tmpfs at ``directory`` and its root's times; None where the
    filesystem counts no inodes."""
    info = os.stat(directory)
    usage = os.statvfs(directory)
    if not usage.f_files:
        return None
    return (usage.f_files - usage.f_ffree, info.st_mtime_ns, info.st_ctime_ns,
            info.st_mode)


def _empty(directory: str, keep: set[str]) -> list[str]:
    left = []
    for entry in os.scandir(directory):
        if entry.name in keep:
            continue
        remove(entry.path)
        if os.path.lexists(entry.path):
            left.append(entry.path)
    return left


def remove(path: str) -> None:
    """Remove ``path`` and everything under it, however deep (no recursion, one directory
    descriptor open at a time, no path longer than a name) and whatever modes it has."""
    parent, _, name = path.rstrip("/").rpartition("/")
    top = os.open(parent or "/", _DIR)
    try:
        if not stat.S_ISDIR(os.lstat(name, dir_fd=top).st_mode):
            os.unlink(name, dir_fd=top)
            return
        names = [name]  # the directories from ``top`` down to the current one
        fd = _enter(top, name)
        while fd is not None:
            child = _next_dir(fd)
            if child is not None:
                opened = _enter(fd, child)
                os.close(fd)
                if opened is None:
                    raise OSError(f"cannot enter {child!r} to remove it")
                names.append(child)
                fd = opened
                continue
            # Empty now: leave it, then remove it.
            up = top if len(names) == 1 else os.open("..", _DIR, dir_fd=fd)
            os.close(fd)
            with contextlib.suppress(OSError):
                os.rmdir(names.pop(), dir_fd=up)
            fd = up if names else None
            if fd is None and up != top:
                os.close(up)
    finally:
        os.close(top)


def _enter(parent: int, name: str) -> int | None:
    with contextlib.suppress(OSError):  # a mode the job chose must not stop us
        os.chmod(name, 0o700, dir_fd=parent, follow_symlinks=False)
    try:
        return os.open(name, _DIR, dir_fd=parent)
    except OSError:
        return None


def _next_dir(fd: int) -> str | None:
    """Unlink every non-directory in ``fd``; the name of a subdirectory left, if any."""
    with os.scandir(fd) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                return entry.name
            with contextlib.suppress(OSError):
                os.unlink(entry.name, dir_fd=fd)
    return None


def _mqueue_size() -> int:
    try:
        return os.stat(MQUEUE).st_size
    except OSError:
        return -1


def rmtree(path: str) -> None:
    with contextlib.suppress(OSError):
        remove(path)
