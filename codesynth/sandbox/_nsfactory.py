"""The namespace factory: a small process that makes each job's namespaces ahead of time.

Run by the runner (local backend) as ``python -I -S _nsfactory.py``, inside the
runner's namespaces, as root there. It imports nothing of codesynth but ``_linux`` (by path).
Its first line on stdin is its configuration (never in its command line: a job sees the
holder's). Then, for each byte read on stdin it makes a *holder*: the init (PID 1) of a new
PID namespace, in new IPC and mount namespaces, with its own ``/proc`` (a job sees the holder
as PID 1, made for it, and nothing outside its namespace), ``/dev/mqueue``, and fresh tmpfs
at ``/sandbox``, ``/tmp`` and ``/dev/shm``. (The job's network namespace is the runner's: see
``_jobnet``. The holder stays in the factory's, where no process ever makes a socket.) It
answers ``<pid>\\n`` (or ``error ...``) on stdout. The runner enters those namespaces for one
job (``_jobns``) and kills the holder afterwards: the kernel then kills and reaps everything
in the PID namespace, and the other namespaces, their IPC objects, message queues and files
go with it. Nothing of one job's PID, IPC and mount namespaces is ever seen by another job.

The factory does the work itself: it unshares the IPC and mount namespaces, mounts the
tmpfs and mqueue, starts the holder with ``clone(CLONE_VM)`` running libc's ``pause`` on a
stack of its own (no page of the factory is copied, at its start or at its end; it never runs
Python, its CPU-time counters stay at zero), mounts its ``/proc`` with
``pidns=/proc/<holder>/ns/pid`` (Linux ≥ 6.18) and goes back to its own namespaces. A holder
ignores every signal from inside its namespace (it is init there and has no handler); it
ends when the runner kills it, or with the runner (the init of the PID namespace above).
On an older kernel (``pidns`` refused, found on the first holder) the holder is forked and
does the setup itself; it then blocks reading a pipe only the factory can write, so it ends
with the factory.
"""

from __future__ import annotations

import ctypes
import errno
import gc
import json
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _linux as L  # noqa: E402 - by path: no codesynth package import in this process

_FLAGS = L.MS_NOSUID | L.MS_NODEV | L.MS_NOATIME
_PROC_FLAGS = L.MS_NOSUID | L.MS_NODEV | L.MS_NOEXEC
_CLONE_VM = 0x100
_STACK = 1 << 14
_libc = ctypes.CDLL(None, use_errno=True)
_libc.clone.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
_PAUSE = ctypes.cast(_libc.pause, ctypes.c_void_p).value
_stacks: dict[int, ctypes.Array[ctypes.c_char]] = {}  # a live holder's stack


def _mount(config: dict[str, object], proc: bool) -> None:
    """In the new IPC and mount namespaces: the job's private world (``proc``: its /proc too,
    from inside the new PID namespace)."""
    # Opened in the new mount namespace (a mount of another namespace cannot be bound) and
    # before /tmp is hidden: a runtime living under /tmp, bound again read-only below.
    hidden = [(path, os.open(path, os.O_PATH | os.O_CLOEXEC))
              for path in config["tmp_binds"]]  # type: ignore[attr-defined]
    if proc:
        L.mount("proc", "/proc", "proc", _PROC_FLAGS)
    try:
        L.mount("mqueue", "/dev/mqueue", "mqueue", _PROC_FLAGS)
    except OSError:
        pass
    for directory, options in config["mounts"]:  # type: ignore[attr-defined]
        L.mount("tmpfs", directory, "tmpfs", _FLAGS, options)
    for path, fd in hidden:  # a runtime living under /tmp, bound again read-only
        os.makedirs(path, mode=0o755, exist_ok=True)
        L.bind_readonly(f"/proc/self/fd/{fd}", path)
        os.close(fd)


def _pausing() -> int:
    """A process sharing our memory that only waits in ``pause()`` (no handler: for ever)."""
    stack = ctypes.create_string_buffer(_STACK)
    top = (ctypes.addressof(stack) + _STACK - 64) & ~15
    pid = int(_libc.clone(_PAUSE, top, _CLONE_VM | signal.SIGCHLD, None))
    if pid < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"clone: {os.strerror(err)}")
    _stacks[pid] = stack
    return pid


class Factory:
    def __init__(self, config: dict[str, object]) -> None:
        self.config = config
        # None: not known yet (the first holder tells); False: forked holders (tests ask).
        self.direct: bool | None = False if config.get("forked") else None
        self.own = {flag: os.open(f"/proc/self/ns/{name}", os.O_RDONLY | os.O_CLOEXEC)
                    for name, flag in (("pid", L.CLONE_NEWPID), ("ipc", L.CLONE_NEWIPC),
                                       ("mnt", L.CLONE_NEWNS))}
        self.hold: tuple[int, int] | None = None

    def make(self) -> int:
        if self.direct is not False:
            try:
                pid = self._direct()
            except _Unsupported:
                self.direct = False
            else:
                self.direct = True
                return pid
        return self._forked()

    def _direct(self) -> int:
        L.unshare(L.CLONE_NEWPID | L.CLONE_NEWIPC | L.CLONE_NEWNS)
        try:
            _mount(self.config, proc=False)
            pid = _pausing()
            try:
                L.mount("proc", "/proc", "proc", _PROC_FLAGS, f"pidns=/proc/{pid}/ns/pid")
            except OSError as exc:
                os.kill(pid, signal.SIGKILL)
                if exc.errno == errno.EINVAL and self.direct is None:
                    raise _Unsupported from exc
                raise
        finally:
            try:
                for flag, fd in self.own.items():
                    L.setns(fd, flag)
            except OSError as exc:  # cannot go back: no holder made here can be trusted
                os.write(1, f"error could not return to own namespaces: {exc}\n".encode())
                os._exit(1)
        return pid

    def _forked(self) -> int:
        """Older kernels: a forked holder does the setup itself, from inside."""
        if self.hold is None:
            self.hold = os.pipe()
        hold_r, hold_w = self.hold
        ready_r, ready_w = os.pipe()
        try:
            L.unshare(L.CLONE_NEWPID)
            pid = L.fork()  # no CPython after-fork hooks: ~0.5 ms less per holder
        except BaseException:
            for fd in (ready_r, ready_w):
                os.close(fd)
            raise
        if pid == 0:
            os.close(ready_r)
            os.close(hold_w)
            try:
                L.unshare(L.CLONE_NEWIPC | L.CLONE_NEWNS)
                _mount(self.config, proc=True)
                os.write(ready_w, b"ok")
            except BaseException as exc:  # noqa: BLE001 - reported to the runner
                os.write(ready_w, repr(exc).encode()[:300])
                os._exit(1)
            os.closerange(0, hold_r)
            os.closerange(hold_r + 1, 1 << 16)
            try:
                os.read(hold_r, 1)  # until the factory ends; the runner kills us first
            finally:
                os._exit(0)
        L.setns(self.own[L.CLONE_NEWPID], L.CLONE_NEWPID)
        os.close(ready_w)
        status = os.read(ready_r, 512)
        os.close(ready_r)
        if status != b"ok":
            os.kill(pid, signal.SIGKILL)
            raise OSError(status.decode(errors="replace"))
        return pid


class _Unsupported(Exception):
    """This kernel mounts no /proc of another PID namespace (``pidns``)."""


def _reap() -> None:
    while True:
        try:
            pid = os.waitpid(-1, os.WNOHANG)[0]
        except ChildProcessError:
            return
        if pid == 0:
            return
        _stacks.pop(pid, None)


def main() -> None:
    line = b""
    while not line.endswith(b"\n"):
        chunk = os.read(0, 1)
        if not chunk:
            return
        line += chunk
    config = json.loads(line)
    gc.disable()  # a collection in a forked holder would write (copy) pages of every object
    gc.freeze()
    L.prctl(L.PR_SET_PDEATHSIG, signal.SIGKILL)
    # Holders share our signal dispositions at their start: none may run a handler (Python's
    # SIGINT handler would run in a holder, on our memory).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    factory = Factory(config)
    while os.read(0, 1):
        _reap()  # holders the runner killed
        try:
            pid = factory.make()
        except OSError as exc:
            os.write(1, b"error " + str(exc).encode().replace(b"\n", b" ") + b"\n")
            continue
        os.write(1, f"{pid}\n".encode())


if __name__ == "__main__":
    main()
