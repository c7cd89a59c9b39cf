"""The runner: a long-lived process inside the isolation boundary that forks one child per job.

Started by a backend with one JSON argument (its configuration). It enters its namespaces,
builds the read-only filesystem view, then reads one JSON job per line on stdin and answers
one JSON result per line on stdout. The same program runs in every backend, which is why they
all behave alike.

Local backend: every job runs in fresh PID, network, IPC and mount namespaces made ahead
by a small factory (``_jobns``); killing their holder after the job ends everything the job
started, and nothing the job made outlives those namespaces. In a container the runner is
the init of the container's PID namespace, with one job at a time: after each job,
``kill(-1, SIGKILL)`` reaches exactly what the job started, and the runner reaps it all and
sweeps the scratch directories and IPC objects (``_jobspace``). Per job: the worker's
cgroups, rlimits, an unprivileged uid, a new session keyring, the seccomp filter, a scrubbed
environment, fresh scratch directories, and stdout/stderr/evidence the runner reads (capped)
after the job is gone. Time is enforced here, on a pidfd.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import random
import signal
import sys
import time
from typing import Any

from codesynth.harness import prepare
from codesynth.harness.evidence import new_key, parse
from codesynth.sandbox import _linux as L
from codesynth.sandbox._cgroup import ContainerCgroup, JobCgroup
from codesynth.sandbox._collect import PIPE_BYTES, Buffer, drain, drain_to_end, tail, wait
from codesynth.sandbox._enter import enter_container, enter_local
from codesynth.sandbox._job import HARNESS_FAULT, WORKDIR, Plan, job_main
from codesynth.sandbox._jobns import HOLDER_WAIT, OVERHEAD_PROCESSES, Holder, JobNamespaces
from codesynth.sandbox._jobspace import JobSpace, rmtree
from codesynth.sandbox._runner_support import cap_reply, mkdtemp, rss_mb, serve
from codesynth.sandbox._seccomp import Filter
from codesynth.sandbox._verdict import Observation, decide
from codesynth.sandbox._warm import warm_style

# Imported once here so that jobs never pay for them (few: each page mapped slows every fork).
PRELOAD = ("collections", "itertools", "functools", "math", "re", "heapq", "bisect", "string",
           "typing", "random", "hashlib", "json", "codesynth.harness")


class Runner:
    def __init__(self, config: dict[str, Any]) -> None:
        self.isolate = bool(config.get("isolate", True))
        self.container = config.get("mode") == "container"
        self.uid = int(config.get("uid", 65534))
        self.gid = int(config.get("gid", 65534))
        self.userns = False
        self.cgroup: JobCgroup | ContainerCgroup | None = None
        self.tmp_binds: list[str] = []
        self.keep: set[str] = set()
        self.warm: set[str] = set()
        self.runtime = f"{sys.implementation.name}-{sys.version.split()[0]}"
        self.null_fd = -1  # every job's stdin (see main)
        self.redumpable = True
        self.space: JobSpace | None = None  # in a container: the sweep after each job
        self.namespaces: JobNamespaces | None = None  # local: fresh namespaces per job
        self.seccomp: Filter | None = None
        self.keyring = False  # each job joins a new session keyring
        self.evidence = Buffer()
        self.isolation = "none (UNSAFE: --unsafe-no-isolation)"

    def enter(self, config: dict[str, Any]) -> None:
        """Enter the namespaces and build the filesystem view (isolated mode only)."""
        enter_local(self, config)

    def enter_container(self, config: dict[str, Any]) -> None:
        """Inside a hardened container (the docker backend)."""
        enter_container(self, config)

    def settle(self, space: JobSpace | None) -> None:
        """What every job inherits instead of doing it itself: no new privileges (no setuid
        binary can raise them again), no supplementary groups, the working directory."""
        L.prctl(L.PR_SET_NO_NEW_PRIVS, 1)
        if os.getuid() == 0 and not self.userns:
            os.setgroups([])  # no supplementary groups: jobs inherit none
        os.chdir(WORKDIR)
        with contextlib.suppress(OSError), open("/proc/sys/fs/suid_dumpable") as handle:
            # Changing uid resets "dumpable" to this value: 0 keeps our own 0.
            self.redumpable = handle.read().strip() != "0"
        self.space = space

    def warm_up(self, style: str) -> None:
        """Import (and exercise) what a style needs, once, before forking jobs of it."""
        if style not in self.warm:
            self.warm.add(style)
            warm_style(style, mkdtemp if not self.isolate or self.container else None)

    def run(self, job: dict[str, Any], limits: dict[str, Any]) -> dict[str, Any]:
        self.warm_up(job["test_style"])
        try:
            prepare(job)
        except Exception:  # noqa: BLE001 - only a head start: the job reports the problem
            pass
        expected = None
        if job["test_style"] == "stdio":  # the expected outputs stay out here, with us
            expected = [str(case["output"]) for case in job["tests"]]
            job = {**job, "tests": [{"input": case["input"]} for case in job["tests"]]}
        holder = self.namespaces.take() if self.namespaces is not None else None
        key = new_key()
        fds = {name: os.memfd_create(name, os.MFD_CLOEXEC) for name in ("out", "err")}
        ev_read, ev_write = os.pipe2(os.O_CLOEXEC)
        try:
            fcntl.fcntl(ev_write, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        except OSError:
            pass  # a smaller pipe: the harness's writes wait for our reads
        scratch = None
        if not self.isolate:
            scratch = mkdtemp("codesynth-job-")
            job = {**job, "_scratch": scratch}
        if isinstance(self.cgroup, JobCgroup):
            self.cgroup.apply(int(limits["memory_mb"]),
                              int(limits["max_processes"]) + OVERHEAD_PROCESSES)
            self.cgroup.reset_peak()
        before = self.cgroup.snapshot() if self.cgroup else (0, 0)
        memory_procs = self.cgroup.memory_procs if isinstance(self.cgroup, JobCgroup) else None
        plan = Plan(job=job, limits=limits, key=key,
                    fds=(self.null_fd, fds["out"], fds["err"], ev_write),
                    isolate=self.isolate, uid=self.uid, gid=self.gid, userns=self.userns,
                    memory_cgroup=self.cgroup is not None, in_container=self.container,
                    redumpable=self.redumpable, memory_procs=memory_procs,
                    keyring=self.keyring, seccomp=self.seccomp,
                    joined=holder.joined if holder is not None else ())
        shared_mb = 0.0 if isinstance(self.cgroup, JobCgroup) else rss_mb()
        random.seed(int.from_bytes(os.urandom(16), "little"))  # each job its own state (the
        # child skips CPython's after-fork reseeding); 128 fresh bits: twice as fast as seed()
        start = time.perf_counter()
        if holder is not None and self.namespaces is not None:
            self.namespaces.enter_pid(holder)  # the job is born in the holder's PID namespace
        pid = L.fork()
        if pid == 0:
            job_main(plan)
        os.close(ev_write)
        try:
            if holder is not None and self.namespaces is not None:
                self.namespaces.back()
                holder.forked()
                self.namespaces.request()  # the next job's, made while this one runs
            return self._collect(pid, start, key, ev_read, fds, limits, expected, shared_mb,
                                 before, holder)
        except Exception as exc:  # noqa: BLE001 - this job's sandbox_error, a new runner
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            if holder is not None:
                holder.end()
            elif self.space is not None:
                self.space.sweep()
            self.evidence.take()
            return {"status": "sandbox_error", "reason": f"runner: {exc!r}"[:2000],
                    "runner_tainted": "failed while collecting a job"}
        finally:
            for fd in (ev_read, *fds.values()):
                with contextlib.suppress(OSError):
                    os.close(fd)
            if scratch:
                rmtree(scratch)

    def _collect(self, pid: int, start: float, key: bytes, ev_read: int, fds: dict[str, int],
                 limits: dict[str, Any], expected: list[str] | None, shared_mb: float,
                 before: tuple[int, int], holder: Holder | None) -> dict[str, Any]:
        """Everything after the fork: wait (under the deadline), sweep, read, decide."""
        timed_out = wait(pid, float(limits["timeout"]), ev_read, self.evidence,
                         kill_group=not self.isolate)
        _, status, usage = os.wait4(pid, 0)
        duration = time.perf_counter() - start
        tainted = None
        left = False
        if holder is not None:  # the whole PID namespace (see settle, after the verdict)
            left = not holder.alone()
            holder.kill()
            if not drain_to_end(ev_read, self.evidence, HOLDER_WAIT):
                tainted = "the job's processes outlived its PID namespace's end"
        elif self.space is not None:
            tainted = self.space.sweep()
        else:
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
        if holder is None:
            drain(ev_read, self.evidence)
        cpu_time = usage.ru_utime + usage.ru_stime
        oom = False
        # Without a cgroup of its own: the job process's peak, less the pages it shares with us.
        peak = round(max(0.0, usage.ru_maxrss / 1024 - shared_mb), 1)
        if self.cgroup:
            kills_after, cpu_after = self.cgroup.snapshot()
            oom = kills_after > before[0]
            cpu_time = max(cpu_time, (cpu_after - before[1]) / 1e9)
        if isinstance(self.cgroup, JobCgroup):
            peak = round(self.cgroup.peak_mb(), 1)
        max_output = int(limits["max_output"])
        fsize = int(limits["file_size_mb"]) * 1024 * 1024
        out, out_size = tail(fds["out"], max_output)
        err, err_size = tail(fds["err"], max_output)
        faulted = os.WIFEXITED(status) and os.WEXITSTATUS(status) == HARNESS_FAULT
        obs = Observation(
            events=parse(self.evidence.take(), key),
            exit_code=os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            signal=os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            wall_timed_out=timed_out, wall_limit=float(limits["timeout"]),
            cpu_time=cpu_time,
            cpu_limit=float(limits.get("cpu_time") or limits["timeout"]), oom_killed=oom,
            output_capped=max(out_size, err_size) >= fsize,
            setup_message=err.strip()[-500:] if faulted else "")
        verdict = decide(obs, expected, fsize)
        if holder is not None and self.namespaces is not None:
            tainted = self.namespaces.settle(holder, left) or tainted
        extra: dict[str, Any] = {"runner_rss_mb": rss_mb()} if self.container else {}
        if tainted:
            extra["runner_tainted"] = tainted
        return cap_reply({
            **extra,
            **verdict,
            "stdout": out, "stderr": err, "stdout_bytes": out_size, "stderr_bytes": err_size,
            "stdout_truncated": out_size > max_output, "stderr_truncated": err_size > max_output,
            "exit_code": obs.exit_code, "signal": obs.signal, "duration": round(duration, 6),
            "cpu_time": round(cpu_time, 6), "memory_peak_mb": peak,
            "isolation": self.isolation, "runtime": self.runtime,
        })

    def serve(self, inp: Any, out: Any) -> None:
        hello = {"ready": True, "isolation": self.isolation, "runtime": self.runtime}
        if self.container:
            hello["runner_rss_mb"] = rss_mb()
        serve(self.run, hello, inp, out)


def main() -> None:
    config = json.loads(sys.argv[1])
    # No PR_SET_PDEATHSIG here: it fires when the spawning *thread* ends, and hosts spawn
    # runners from worker threads. A dead host closes our stdin; serve() then returns.
    for module in PRELOAD:
        __import__(module)
    runner = Runner(config)
    if runner.isolate:
        try:
            if runner.container:
                runner.enter_container(config)
            else:
                runner.enter(config)
        except OSError as exc:
            sys.stdout.write(json.dumps({"ready": False, "error": str(exc)}) + "\n")
            sys.stdout.flush()
            os._exit(3)
    import gc

    from codesynth.sandbox._job import prebuild_interpreter_state

    protocol = sys.stdin.buffer, sys.stdout.buffer
    runner.null_fd = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)  # every job's stdin
    prebuild_interpreter_state()
    gc.freeze()
    runner.serve(*protocol)
    # End of input: every job is swept and every reply flushed. Skipping the interpreter's
    # teardown of everything imported makes closing a sandbox ~10 ms shorter.
    os._exit(0)


if __name__ == "__main__":
    main()
