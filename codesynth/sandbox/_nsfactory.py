"""The namespace factory: a small process that makes each job's namespaces ahead of time.

Run by the runner (local backend) as ``python -I -S _nsfactory.py``, inside the
runner's namespaces, as root there. It imports nothing of codesynth but ``_linux`` (by path),
so forking it is cheap (~0.3 ms, against ~1.2 ms for the runner). Its first line on stdin
is its configuration (never in its command line: a job sees the holder's). Then, for each
byte read on stdin it makes a *holder*: the init (PID 1) of a new PID namespace, in new
IPC and mount namespaces, with its own ``/proc`` (a job sees the holder as PID 1, made for
it, and nothing outside its namespace), ``/dev/mqueue``, and fresh tmpfs at ``/sandbox``,
``/tmp`` and ``/dev/shm``. (The job's network namespace is the runner's: see ``_jobnet``.
The holder stays in the factory's, where no process ever makes a socket.) The holder waits
for no child:
its CPU-time counters stay at zero. It answers ``<pid>\\n`` (or ``error ...``) on
stdout. The runner enters those namespaces for one job (``_jobns``) and kills the holder
afterwards: the kernel then kills and reaps everything in the PID namespace, and the other
namespaces, their IPC objects, message queues and files go with it. Nothing of one job's
PID, IPC and mount namespaces is ever seen by another job.

A holder blocks reading a pipe only the factory can write: when the factory ends (its
runner gone), every holder ends too.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _linux as L  # noqa: E402 - by path: no codesynth package import in this process

_FLAGS = L.MS_NOSUID | L.MS_NODEV | L.MS_NOATIME
_PROC_FLAGS = L.MS_NOSUID | L.MS_NODEV | L.MS_NOEXEC


def _setup(config: dict[str, object]) -> None:
    """In the holder (PID 1 of its new PID namespace): the job's private world."""
    L.unshare(L.CLONE_NEWIPC | L.CLONE_NEWNS)
    # Opened in the new mount namespace (a mount of another namespace cannot be bound) and
    # before /tmp is hidden: a runtime living under /tmp, bound again read-only below.
    hidden = [(path, os.open(path, os.O_PATH | os.O_CLOEXEC))
              for path in config["tmp_binds"]]  # type: ignore[attr-defined]
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


def _reap() -> None:
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                return
        except ChildProcessError:
            return


def main() -> None:
    line = b""
    while not line.endswith(b"\n"):
        chunk = os.read(0, 1)
        if not chunk:
            return
        line += chunk
    config = json.loads(line)
    gc.disable()  # a collection in a holder would write (copy) pages of every object
    gc.freeze()
    L.prctl(L.PR_SET_PDEATHSIG, signal.SIGKILL)
    own_pid_ns = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    hold_r, hold_w = os.pipe()
    while os.read(0, 1):
        _reap()  # holders the runner killed
        ready_r, ready_w = os.pipe()
        try:
            L.unshare(L.CLONE_NEWPID)
            pid = L.fork()  # no CPython after-fork hooks: ~0.5 ms less per holder
        except OSError as exc:
            os.write(1, f"error {exc}\n".encode())
            continue
        if pid == 0:
            os.close(ready_r)
            os.close(hold_w)
            try:
                _setup(config)
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
        L.setns(own_pid_ns, L.CLONE_NEWPID)
        os.close(ready_w)
        status = os.read(ready_r, 512)
        os.close(ready_r)
        if status == b"ok":
            os.write(1, f"{pid}\n".encode())
        else:
            os.kill(pid, signal.SIGKILL)
            os.write(1, b"error " + status.replace(b"\n", b" ") + b"\n")


if __name__ == "__main__":
    main()
