"""Fresh PID, IPC and mount namespaces for every job, and a network namespace no job has
left a trace in (the local backend).

The runner's own namespaces last as long as the runner; anything a job could leave in them
(TCP TIME_WAIT entries, an abstract unix socket kept alive by in-flight descriptors, the PID
and System V IPC counters, message queues) would reach the next job. So no job runs in
them: each enters PID, IPC and mount namespaces of its own, made by the factory
(``_nsfactory``) while the previous job ran, and they end with it. The network namespace,
the one that is costly to make, is renewed only after a job that left a trace in it
(``_jobnet``).

Per job: the runner takes the holder the factory made, points its own ``pid_ns_for_children``
at the holder's PID namespace (``setns``), forks the job (which enters the holder's IPC and
mount namespaces itself, then changes to its working directory), and asks the factory for
the next holder. After the job it kills the holder (``kill``): the kernel kills and reaps the
whole PID namespace before the holder's exit is visible, and the namespaces are freed. The
runner waits for that (``wait``) only once the job's verdict is made, then checks the
network namespace, which no process of the job can touch any more.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys

from codesynth.sandbox import _linux as L
from codesynth.sandbox._jobnet import JobNet

FACTORY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_nsfactory.py")
JOINED = (("ipc", L.CLONE_NEWIPC), ("mnt", L.CLONE_NEWNS))
# In the worker's pids cgroup besides the job: the runner, the factory, the job's holder, the
# next job's, and the last job's until it is gone (not waited for: see ``settle``).
OVERHEAD_PROCESSES = 5
HOLDER_WAIT = _WAIT = 10.0  # seconds: a holder to be made, or to end


class Holder:
    """One job's namespaces, open in the runner."""

    __slots__ = ("pid", "pidfd", "pid_ns", "joined", "children", "ended")

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.pidfd = os.pidfd_open(pid)
        self.pid_ns = os.open(f"/proc/{pid}/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
        # Inherited by the job (never exec'd), which enters them and closes them.
        self.joined = tuple((os.open(f"/proc/{pid}/ns/{name}", os.O_RDONLY | os.O_CLOEXEC),
                             flag) for name, flag in JOINED)
        try:  # the processes the job left, reparented to its init
            self.children = os.open(f"/proc/{pid}/task/{pid}/children",
                                    os.O_RDONLY | os.O_CLOEXEC)
        except OSError:  # no CONFIG_PROC_CHILDREN: always wait for the end (``settle``)
            self.children = -1
        self.ended: str | None = None

    def forked(self) -> None:
        """The job has its copies of the namespace descriptors: ours are closed while the
        holder lives, so that the last reference to the namespaces is the holder's, and their
        teardown (the mount namespace's waits for RCU) happens in its exit, not in ours."""
        if self.pid_ns >= 0:
            for fd in (self.pid_ns, *(fd for fd, _ in self.joined)):
                os.close(fd)
            self.pid_ns, self.joined = -1, ()

    def alone(self) -> bool:
        """After the job's process is reaped: True if nothing of it runs any more. Every
        process the job started and that lives is the holder's child (reparented to the PID
        namespace's init when its parent ended) or a descendant of one."""
        return self.children >= 0 and not os.pread(self.children, 64, 0)

    def kill(self) -> None:
        """Kill the holder, and with it everything in the job's PID namespace."""
        if self.ended is None:
            try:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def end(self, wait: bool = True) -> str | None:
        """Kill the holder and (``wait``) wait until it is gone: then no process of the job
        is left. Returns what went wrong, if anything."""
        if self.ended is not None:
            return self.ended or None
        self.kill()
        self.ended = "the job's PID namespace did not end"
        try:
            ended = not wait or bool(select.select([self.pidfd], [], [], _WAIT)[0])
        finally:
            self.forked()  # if not done yet
            for fd in (self.pidfd, self.children):
                if fd >= 0:
                    os.close(fd)
        if ended:
            self.ended = ""
        return self.ended or None


class JobNamespaces:
    """The runner's side of the factory: one holder made ahead, taken by the next job."""

    def __init__(self, mounts: list[tuple[str, str]], tmp_binds: list[str]) -> None:
        self.own_pid_ns = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
        req_r, self._requests = os.pipe2(os.O_CLOEXEC)
        self._replies, rep_w = os.pipe2(os.O_CLOEXEC)
        config = json.dumps({"mounts": mounts, "tmp_binds": tmp_binds})
        try:
            self.factory = os.posix_spawn(
                sys.executable, [sys.executable, "-I", "-S", FACTORY],
                {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
                file_actions=[(os.POSIX_SPAWN_DUP2, req_r, 0),
                              (os.POSIX_SPAWN_DUP2, rep_w, 1)])
        finally:
            os.close(req_r)
            os.close(rep_w)
        os.write(self._requests, config.encode() + b"\n")
        self._pending = 0
        self._buffer = b""
        self.request()
        self.net = JobNet()  # the factory and its holders stay in the runner's first one

    def settle(self, holder: Holder, left: bool) -> str | None:
        """After a job: wait for its PID namespace to end if it ``left`` processes (else its
        init ends in its own time), then renew the network namespace if the job left a trace
        in it. Returns what went wrong (the runner is then replaced), if anything."""
        tainted = holder.end(wait=left)
        if tainted is None:
            try:
                self.net.settle()
            except OSError as exc:
                tainted = f"could not renew the network namespace: {exc!r}"[:500]
        return tainted

    def request(self) -> None:
        """Ask for the next job's namespaces (made while the current job runs)."""
        os.write(self._requests, b"n")
        self._pending += 1

    def take(self) -> Holder:
        """The namespaces made ahead (raises OSError if the factory failed)."""
        if not self._pending:
            self.request()
        while b"\n" not in self._buffer:
            if not select.select([self._replies], [], [], _WAIT)[0]:
                raise OSError("the namespace factory did not answer")
            chunk = os.read(self._replies, 4096)
            if not chunk:
                raise OSError("the namespace factory is gone")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        self._pending -= 1
        if not line.isdigit():
            raise OSError(f"the namespace factory failed: {line.decode(errors='replace')}")
        return Holder(int(line))

    def enter_pid(self, holder: Holder) -> None:
        """Fork the next process into the holder's PID namespace (``back`` undoes it)."""
        L.setns(holder.pid_ns, L.CLONE_NEWPID)

    def back(self) -> None:
        L.setns(self.own_pid_ns, L.CLONE_NEWPID)


def enter(joined: tuple[tuple[int, int], ...]) -> None:
    """In the job, before it drops its privileges: join the holder's namespaces."""
    for fd, flag in joined:
        L.setns(fd, flag)
