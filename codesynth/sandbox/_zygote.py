"""The zygote: the clean template every job's processes are made from.

The runner forks it at start-up, after its own set-up and before it reads any request. The
zygote never reads a job: it receives only "make a job" commands (the limits, and the job's
descriptors as ``SCM_RIGHTS``), so nothing of any job -- tests, expected values, evidence
keys, programs -- is ever in its memory, nor in the processes it makes.

For each job it makes one process with ``clone(CLONE_PARENT | CLONE_NEWPID | CLONE_NEWIPC
| CLONE_NEWNS)``: a child of the runner (which waits for it, times it and kills it) and the
init of new namespaces with the job's own directories (``_freshns``). That process first
forks the judged process (which will receive the program from the judge and nothing else),
then becomes the judge (which reads the job's tests and key from a memfd the runner filled).
Both enter the network namespace the runner hands over with the job (``_jobnet``). When the
judge ends, the kernel kills everything in its namespace.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import random
import signal
import socket
import time
from typing import Any

from codesynth.sandbox import _freshns
from codesynth.sandbox import _linux as L
from codesynth.sandbox._job import HARNESS_FAULT, WORKDIR, PreparedPlans, harden

# The descriptors of a job, in the order they are sent ("net": its network namespace).
FDS = ("null", "out", "err", "judge_out", "judge_err", "evidence", "content", "net")
JUDGED_FDS = ("null", "out", "err", "net")  # the judged process's part of them
_JUDGED_AT = tuple(FDS.index(name) for name in JUDGED_FDS)
_WARM = b'{"warm"'  # a warm-up command; any other is a job's (the zygote never parses those:
# each object its loop touches is a page copied, the job's processes sharing every page)
_REPLY_TIMEOUT = 30.0


_REAP_GRACE = 0.5  # seconds to wait, per reply, for discarded processes to end


class Zygote:
    """The runner's handle on its zygote. ``make`` is the zygote's own side (a function of
    the command that returns the Plans of the judged process and of the judge)."""

    def __init__(self, make: Any, warm: Any) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = L.fork()
        if pid == 0:
            ours.close()
            _serve(theirs, make, warm)  # never returns
        theirs.close()
        self.pid = pid
        self.sock = ours
        self.sock.settimeout(_REPLY_TIMEOUT)
        reply = json.loads(self.sock.recv(4096) or b"{}")
        self.pid_namespaces = bool(reply.get("pidns"))
        self.fresh = bool(reply.get("fresh"))  # each job its own IPC and mount namespaces
        self.gone: set[int] = set()  # discarded by the zygote, not reaped yet

    def spawn(self, command: dict[str, Any], fds: dict[str, int]) -> int:
        """Hand a job (its ``FDS``) to the processes made for it; the judge's pid (ours)."""
        socket.send_fds(self.sock, [json.dumps(command).encode()], [fds[n] for n in FDS])
        reply = json.loads(self.sock.recv(4096) or b"{}")
        self._reap(reply.get("gone"))
        if "pid" not in reply:
            raise OSError(f"the zygote failed: {reply.get('error', 'no answer')}")
        return int(reply["pid"])

    def close(self, grace: float = 1.0) -> None:
        """End the zygote (end of file on its socket) and reap it within ``grace`` seconds,
        so that its CPU time is counted in ours (``RUSAGE_CHILDREN``)."""
        self.sock.close()
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            try:
                if os.waitpid(self.pid, os.WNOHANG)[0]:
                    return
            except ChildProcessError:
                return
            time.sleep(0.002)

    def warm(self, style: str) -> None:
        self.sock.send(json.dumps({"warm": style}).encode())
        self._reap(json.loads(self.sock.recv(4096) or b"{}").get("gone"))

    def _reap(self, gone: Any) -> None:
        """Reap the processes the zygote made ahead and discarded (ours by CLONE_PARENT):
        unreaped, each would hold a slot of the worker's pids cgroup from every later job.
        Killed, they end within milliseconds (the namespace's other process with them): each
        is waited for up to ``_REAP_GRACE`` in all; one not ended by then is tried again at the
        next reply."""
        if isinstance(gone, list):
            self.gone.update(pid for pid in gone if type(pid) is int and pid > 0)
        deadline = time.monotonic() + _REAP_GRACE
        while self.gone:
            for pid in list(self.gone):
                try:
                    if os.waitpid(pid, os.WNOHANG)[0]:
                        self.gone.discard(pid)
                except ChildProcessError:
                    self.gone.discard(pid)
            if not self.gone or time.monotonic() > deadline:
                return
            time.sleep(0.001)


def start_zygote(runner: Any) -> Zygote:
    """The runner's zygote, making each job's processes with the runner's state."""
    from codesynth.sandbox._cgroup import JobCgroup
    from codesynth.sandbox._job import job_plans
    from codesynth.sandbox._runner_support import mkdtemp
    from codesynth.sandbox._warm import warm_style

    make = functools.partial(job_plans, runner)
    make.memory_procs = (  # type: ignore[attr-defined]
        runner.cgroup.memory_procs if isinstance(runner.cgroup, JobCgroup) else None)
    make.world = _freshns.config_of(runner)  # type: ignore[attr-defined]
    scratch = mkdtemp if not runner.isolate or runner.container else None
    return Zygote(make, lambda style: warm_style(style, scratch))


def _serve(sock: socket.socket, make: Any, warm: Any) -> None:
    """The zygote's loop. Never returns. The next job's processes are made ahead of time
    (after the previous command was answered): a command only hands them their job."""
    try:
        os.chdir("/")  # never a job's working directory (the runner renews it)
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)  # the runner's protocol streams are not ours
        os.close(null)
        flags = L.CLONE_PARENT | _freshns.probe(*make.world) if make.world[0] else 0
        if not flags & L.CLONE_NEWPID:  # not isolated: can we make PID namespaces at all?
            flags = L.CLONE_PARENT | (_freshns.probe([], []) & L.CLONE_NEWPID)
        sock.send(json.dumps({"pidns": bool(flags & L.CLONE_NEWPID),
                              "fresh": bool(flags & L.CLONE_NEWNS)}).encode())
        plans = PreparedPlans(make)
        ready = _prefork(flags, sock, plans)
        while True:
            message, fds, _, _ = socket.recv_fds(sock, 1 << 16, len(FDS))
            if not message:
                break
            gone: list[int] = []  # discarded processes, for the runner to reap
            if message.startswith(_WARM):  # what is ready predates the warm-up: made again
                _discard(ready, gone)
                warm(json.loads(message)["warm"])
                ready = _prefork(flags, sock, plans)
                sock.send(json.dumps({"gone": gone}).encode())
                continue
            try:
                if len(fds) != len(FDS):
                    raise OSError("wrong number of descriptors")
                try:  # made ahead of time; or, if that failed or it is gone, now
                    if ready is None:
                        raise OSError("nothing made ahead")
                    _hand_over(ready, message, fds)
                except OSError:
                    _discard(ready, gone)
                    ready = _prefork(flags, sock, plans, strict=True)
                    assert ready is not None
                    _hand_over(ready, message, fds)
                reply = b'{"pid": %d}' % ready[0] if not gone else \
                    json.dumps({"pid": ready[0], "gone": gone}).encode()
            except Exception as exc:  # noqa: BLE001 - the runner reports it
                _discard(ready, gone)
                reply = json.dumps({"error": repr(exc)[:500], "gone": gone}).encode()
            if ready is not None:
                ready[1].close()
                ready[2].close()
            for fd in fds:
                os.close(fd)
            sock.send(reply)
            plans.expect(message)  # the next job's processes get its Plans ready-made
            ready = _prefork(flags, sock, plans)
    finally:
        os._exit(0)


# The pid of a job's first process, its socket (the judge's part) and the judged process's.
Ready = tuple[int, socket.socket, socket.socket]


def _prefork(flags: int, sock: socket.socket, make: PreparedPlans, strict: bool = False
             ) -> Ready | None:
    """The next job's first process, waiting for its job on a socket of its own (and its
    judged process on another)."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    to_judged, judged_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:  # (not reseeded here: both processes seed themselves once they have their job)
        pid = L.clone(flags)
    except OSError:
        for end in (ours, theirs, to_judged, judged_end):
            end.close()
        if strict:
            raise
        return None
    if pid == 0:
        sock.close()
        ours.close()
        to_judged.close()
        _job(theirs, judged_end, make, bool(flags & L.CLONE_NEWNS))
    theirs.close()
    judged_end.close()
    return pid, ours, to_judged


def _hand_over(ready: Ready, message: bytes, fds: list[int]) -> None:
    """A job's command and descriptors to the processes made for it: the judged process's
    part (no more than it needs) straight to it, so both set themselves up at once."""
    socket.send_fds(ready[2], [message], [fds[i] for i in _JUDGED_AT])
    socket.send_fds(ready[1], [message], fds)


def _discard(ready: Ready | None, gone: list[int]) -> None:
    if ready is not None:
        gone.append(ready[0])
        ready[1].close()  # it reads end of file and leaves; the runner reaps it
        ready[2].close()
        with contextlib.suppress(OSError):
            os.kill(ready[0], signal.SIGKILL)


def _job(channel: socket.socket, taking: socket.socket, make: PreparedPlans, fresh: bool
         ) -> None:
    """The job's first process (init of its PID namespace). Never returns.

    Made ahead of time, it forks the judged process at once, and both wait for their part of
    the job (the command and descriptors) from the zygote: this one on ``channel``, the
    judged process on ``taking``. Then each drops its privileges and runs. ``fresh``: in new
    IPC and mount namespaces, where it mounts the job's world first (``_freshns``)."""
    try:
        join = make.memory_procs
        if join is not None:  # first: every page from here on is the job's
            os.write(join, b"0")
        if fresh:  # before the judged process is forked: it shares them
            _freshns.fresh_world(*make.world)
        os.setsid()  # its own session: kill(0) and killpg from the job stay in the job
        ours, theirs = socket.socketpair()
        pid = L.fork()
        if pid == 0:
            channel.close()
            ours.close()
            _judged(taking, theirs, make, fresh)
        theirs.close()
        taking.close()
        message, received, _, _ = socket.recv_fds(channel, 1 << 16, len(FDS))
        if not message or len(received) != len(FDS):
            os._exit(0)  # discarded, or the zygote is gone
        channel.close()
        fds = dict(zip(FDS, received, strict=True))
        os.dup2(fds["judge_err"], 2)  # from now on, what goes wrong is in the job's trace
        command, (_, judge) = make.take(message)
        if command.get("net"):  # the network namespace no earlier job left a trace in
            L.setns(fds["net"], L.CLONE_NEWNET)
        random.seed(int.from_bytes(os.urandom(16), "little"))
        parent = command.get("workdir")
        if parent:  # while still privileged: it may mount
            parent = _freshns.judge_tmp(parent, make.world[1])
        harden(judge, (fds["null"], fds["judge_out"], fds["judge_err"], fds["evidence"],
                       ours.fileno(), fds["content"]))
        if parent:  # as the judge: its own
            _freshns.judge_workdir(parent)
    except BaseException as exc:  # noqa: BLE001
        os.write(2, f"codesynth: job setup failed: {exc!r}\n".encode())
        os._exit(HARNESS_FAULT)
    from codesynth.harness.judge import main

    try:
        main(pid)
    except BaseException as exc:  # noqa: BLE001 - a judge fault: no final, no pass
        try:
            os.write(2, f"codesynth: the judge failed: {exc!r}\n".encode())
        except BaseException:  # noqa: BLE001
            pass
    for stream in ("stdout", "stderr"):
        try:
            getattr(__import__("sys"), stream).flush()
        except BaseException:  # noqa: BLE001
            pass
    os._exit(0)


def _judged(orders: socket.socket, connection: socket.socket, make: PreparedPlans,
            fresh: bool) -> None:
    """The judged process: waits for its descriptors, drops everything, serves the judge.
    Never returns."""
    try:
        message, fds, _, _ = socket.recv_fds(orders, 1 << 16, 4)
        if not message or len(fds) != 4:
            os._exit(0)
        orders.close()
        command, (judged, _) = make.take(message)
        if command.get("net"):
            L.setns(fds[3], L.CLONE_NEWNET)
        os.close(fds[3])
        if os.getppid() == 1 and not fresh:  # in the job's PID namespace: a /proc of its
            _freshns.own_proc()  # own (now: made ahead, its mounts would be the last job's)
        random.seed(int.from_bytes(os.urandom(16), "little"))
    except BaseException as exc:  # noqa: BLE001
        os.write(2, f"codesynth: job setup failed: {exc!r}\n".encode())
        os._exit(HARNESS_FAULT)
    harden(judged, (fds[0], fds[1], fds[2], connection.fileno()))
    from codesynth.harness.judged import serve

    serve(3)
    os._exit(0)


__all__ = ["FDS", "WORKDIR", "Zygote"]
