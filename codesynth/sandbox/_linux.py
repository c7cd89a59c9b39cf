"""Thin ctypes bindings for the Linux system calls the local sandbox needs.

Python 3.11 has no ``os.unshare``/``mount``/``pivot_root``; these wrappers raise ``OSError``
with the real errno so callers can tell "not permitted here" from a bug.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import threading

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_NOATIME = 1024
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MNT_DETACH = 2

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38

_SYS_KEYCTL = {"x86_64": 250, "aarch64": 219, "arm64": 219, "riscv64": 219, "ppc64le": 271}
_KEYCTL_JOIN_SESSION_KEYRING = 1
_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "arm64": 41, "riscv64": 41, "ppc64le": 203}

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                        ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                        ctypes.c_ulong]


_pylibc = ctypes.PyDLL(None, use_errno=True)  # calls made with the GIL held


def fork() -> int:
    """``fork(2)`` without CPython's before/after-fork hooks (half the cost on this VM).

    Only safe in a single-threaded process: the runner is one. Falls back to ``os.fork``
    otherwise. The caller must reseed ``random`` in the child (the hooks would have).
    """
    if threading.active_count() > 1:
        return os.fork()
    pid = int(_pylibc.fork())
    if pid < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"fork: {os.strerror(err)}")
    return pid


_SYS_CLONE = {"x86_64": 56, "aarch64": 220, "arm64": 220, "riscv64": 220, "ppc64le": 120}
CLONE_PARENT = 0x00008000
_SIGCHLD = 17


def clone(flags: int) -> int:
    """``clone(2)`` like ``fork`` (a copy of this process on the same stack), with ``flags``
    (``CLONE_PARENT``, ``CLONE_NEWPID``). Only in a single-threaded process."""
    number = _SYS_CLONE.get(os.uname().machine)
    if number is None:
        raise OSError(38, f"clone: unsupported architecture {os.uname().machine}")
    pid = int(_pylibc.syscall(number, ctypes.c_ulong(flags | _SIGCHLD), None, None, None,
                              None))
    if pid < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"clone: {os.strerror(err)}")
    return pid


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _b(value: str | None) -> bytes | None:
    return None if value is None else os.fsencode(value)


def unshare(flags: int) -> None:
    _check(_libc.unshare(flags), "unshare")


def setns(fd: int, nstype: int) -> None:
    """Enter the namespace open at ``fd`` (of type ``nstype``, a ``CLONE_NEW*`` flag)."""
    _check(_libc.setns(fd, nstype), "setns")


def mount(source: str | None, target: str, fstype: str | None, flags: int = 0,
          data: str | None = None) -> None:
    _check(_libc.mount(_b(source), _b(target), _b(fstype), flags, _b(data)),
           f"mount {source or fstype} on {target}")


def umount(target: str, flags: int = 0) -> None:
    _check(_libc.umount2(_b(target), flags), f"umount {target}")


def pivot_root(new_root: str, put_old: str) -> None:
    number = _SYS_PIVOT_ROOT.get(os.uname().machine)
    if number is None:
        raise OSError(38, f"pivot_root: unsupported architecture {os.uname().machine}")
    _check(_libc.syscall(number, _b(new_root), _b(put_old)), "pivot_root")


def join_session_keyring() -> None:
    """A new anonymous session keyring for this process (and what it forks): never the
    caller's. The old one (and any key added to it) is released with its last process."""
    number = _SYS_KEYCTL.get(os.uname().machine)
    if number is None:
        raise OSError(38, f"keyctl: unsupported architecture {os.uname().machine}")
    if _libc.syscall(number, _KEYCTL_JOIN_SESSION_KEYRING, None) < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"keyctl(JOIN_SESSION_KEYRING): {os.strerror(err)}")


def prctl(option: int, arg: int) -> None:
    _check(_libc.prctl(option, arg, 0, 0, 0), f"prctl({option})")


def bind_readonly(source: str, target: str) -> None:
    """Bind ``source`` on ``target`` and make the bind read-only, nosuid, nodev."""
    mount(source, target, None, MS_BIND | MS_REC)
    mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


IPC_RMID = 0
_SYSVIPC = {kind: f"/proc/sysvipc/{kind}" for kind in ("shm", "msg", "sem")}


def sethostname(name: str) -> None:
    raw = name.encode()
    _check(_libc.sethostname(raw, len(raw)), "sethostname")


def loopback_up() -> None:
    """Bring up this network namespace's own loopback (not the host's)."""
    import fcntl

    sock = _libc.socket(2, 2 | 0o2000000, 0)  # AF_INET, SOCK_DGRAM | SOCK_CLOEXEC
    if sock < 0:
        _check(sock, "socket")
    try:
        flags = 0x1 | 0x8 | 0x40  # IFF_UP | IFF_LOOPBACK | IFF_RUNNING
        request = b"lo".ljust(16, b"\0") + flags.to_bytes(2, sys.byteorder) + bytes(22)
        fcntl.ioctl(sock, 0x8914, request)  # SIOCSIFFLAGS, on a struct ifreq
    finally:
        os.close(sock)


class SysvIpc:
    """Every System V IPC object (shared memory, queues, semaphores) of this IPC namespace.
    They outlive the processes that made them; a job must not leave any. The tables stay
    open: one ``pread`` each per check (this runs after every job, in the forking process)."""

    def __init__(self) -> None:
        self._tables: list[tuple[str, int]] = []
        for kind in ("shm", "msg", "sem"):
            with contextlib.suppress(OSError):
                self._tables.append((kind, os.open(_SYSVIPC[kind], os.O_RDONLY | os.O_CLOEXEC)))

    def remove_all(self) -> int:
        removed = 0
        for kind, fd in self._tables:
            data = chunk = os.pread(fd, 1 << 16, 0)
            if data.count(b"\n") < 2 and len(data) < 1 << 16:
                continue  # the header line only: nothing to remove
            while chunk:
                chunk = os.pread(fd, 1 << 16, len(data))
                data += chunk
            for row in data.decode().splitlines()[1:]:
                ident = int(row.split()[1])
                if kind == "shm":
                    result = _libc.shmctl(ident, IPC_RMID, None)
                elif kind == "msg":
                    result = _libc.msgctl(ident, IPC_RMID, None)
                else:
                    result = _libc.semctl(ident, 0, IPC_RMID)
                removed += result == 0
        return removed
