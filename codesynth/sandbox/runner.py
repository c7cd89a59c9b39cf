"""The runner: a long-lived process inside the isolation boundary that runs one job at a time.

Started by a backend with one JSON argument (its configuration). It enters its namespaces,
builds the read-only filesystem view, forks the zygote (``_zygote``) before it reads any
request, then reads one JSON job per line on stdin and answers one JSON result per line on
stdout. The same program runs in every backend, which is why they all behave alike.

Per job, the zygote's process for it (our child, the init of the job's PID namespace)
becomes the judge, and its child the judged process (``harness.judge``, ``harness.judged``).
We fill the judge's job, wait for it under the deadline on a pidfd, kill its namespace,
renew the job's directories, read the output (capped) and decide (``_verdict``).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from typing import Any

from codesynth.harness.evidence import new_key, parse
from codesynth.sandbox import _linux as L
from codesynth.sandbox._cgroup import ContainerCgroup, JobCgroup
from codesynth.sandbox._collect import (
    Buffer,
    Clock,
    descriptors,
    drain,
    judged_status,
    outputs,
    tail,
    wait,
)
from codesynth.sandbox._enter import enter_container, enter_local
from codesynth.sandbox._job import HARNESS_FAULT, WORKDIR, judge_id
from codesynth.sandbox._jobnet import JobNet
from codesynth.sandbox._jobspace import JobSpace, rmtree
from codesynth.sandbox._runner_support import (
    backstop,
    cap_reply,
    cpu_limit,
    hide_command_line,
    mkdtemp,
    rss_mb,
    serve,
    startup_cpu,
)
from codesynth.sandbox._seccomp import Filter
from codesynth.sandbox._verdict import Observation, decide, fault, keep_expected
from codesynth.sandbox._warm import compiled_tests
from codesynth.sandbox._warm_java import WarmJava
from codesynth.sandbox._zygote import Zygote, start_zygote

# Imported once here so that jobs never pay for them (few: each page mapped slows every fork).
PRELOAD = ("collections", "itertools", "functools", "math", "re", "heapq", "bisect", "string",
           "typing", "random", "hashlib", "json", "socket", "operator", "decimal",
           "fractions", "codesynth.harness", "codesynth.harness.judge",
           "codesynth.harness.judged")


class Runner:
    def __init__(self, config: dict[str, Any]) -> None:
        self.isolate = bool(config.get("isolate", True))
        self.container = config.get("mode") == "container"
        self.uid = int(config.get("uid", 65534))
        self.gid = int(config.get("gid", 65534))
        self.judge_uid = judge_id(self.uid)
        self.zygote: Zygote | None = None
        self.userns = False
        self.cgroup: JobCgroup | ContainerCgroup | None = None
        self.keep: set[str] = set()
        self.tmp_binds: list[str] = []  # a runtime living under /tmp (see _rootfs)
        self.job_mounts: list[tuple[str, str]] = []  # every job's fresh tmpfs (_freshns)
        self.net: JobNet | None = None  # the jobs' network namespace (_jobnet)
        self.warm: set[str] = set()
        self.toolchains: dict[str, str] = {}  # language -> its toolchain, asked once
        self.runtime = f"{sys.implementation.name}-{sys.version.split()[0]}"
        self.null_fd = -1  # every job's stdin (see main)
        self.redumpable = True
        self.space: JobSpace | None = None  # the sweep after each job, when no fresh mounts
        self.seccomp: Filter | None = None
        self.keyring = False  # each job joins a new session keyring
        self.evidence: Buffer  # made once we are in our namespaces (see main)
        self.isolation = "none (UNSAFE: --unsafe-no-isolation)"
        self.java = WarmJava(config, self)  # Java's warm compiler (local backend only)

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

    def start_zygote(self) -> None:
        """Fork the zygote (before the first request is read); without fresh namespaces
        from it, jobs are swept after (``_jobspace``)."""
        self.zygote = start_zygote(self)
        if self.isolate:  # after the zygote: its sockets are not in the jobs' namespace
            self.net = JobNet.start()
        if self.zygote.fresh:
            self.space = None
        per_job = ("pid,ipc,mount" if self.zygote.fresh
                   else "pid" if self.zygote.pid_namespaces else "none")
        if self.isolate and self.container:
            net = "; net until a job leaves a trace" if self.net is not None else ""
            self.isolation += f" + namespaces({per_job} per job{net})"
        elif self.isolate:
            self.isolation = self.isolation.replace("pid,ipc,mount per job",
                                                    f"{per_job} per job")

    def warm_up(self, style: str) -> None:
        """Have the zygote import (and exercise) what a style needs, once."""
        if style not in self.warm:
            self.warm.add(style)
            assert self.zygote is not None
            self.zygote.warm(style)

    def runtime_of(self, language: str) -> str:
        """What runs a job's program: this interpreter for Python, else the language's
        toolchain as the jobs see it (its version asked once per runner)."""
        if language == "python":
            return self.runtime
        found = self.toolchains.get(language)
        if found is None:
            from codesynth.languages import toolchain
            from codesynth.registry import languages

            try:
                found = toolchain(languages.get(language)) or f"{language}: not installed"
            except Exception as exc:  # noqa: BLE001 - the job reports the missing toolchain
                found = f"{language}: unknown ({exc})"[:200]
            self.toolchains[language] = found
        return found

    def run(self, job: dict[str, Any], limits: dict[str, Any]) -> dict[str, Any]:
        """One job. Its processes are made ahead of time, while the last job ran: if they
        could not set themselves up then (that job had used up its processes or memory),
        they died before receiving anything, and the job is run again on new ones."""
        reply = self._run_once(job, limits)
        if reply.pop("_unstarted", False):
            reply = self._run_once(job, limits)
            reply.pop("_unstarted", None)
        return reply

    def _run_once(self, job: dict[str, Any], limits: dict[str, Any]) -> dict[str, Any]:
        assert self.zygote is not None
        self.warm_up(job["test_style"])
        if job.get("language", "python") != "python":
            self.warm_up("compiled")  # the judge's side of other languages (WARM_MODULES)
        job, limits, warm_cpu = self.java.before(job, limits, self.cgroup)
        job, expected = keep_expected(job)  # stdio: the expected outputs stay with us
        allowance = startup_cpu(job)
        if allowance:
            limits = {**limits, "startup_cpu": allowance}
        runtime = self.runtime_of(str(job.get("language", "python")))
        key = new_key()
        fds, ev_read, ev_write = descriptors(json.dumps({
            "job": job, "key": key.hex(), "timeout": backstop(limits),  # we stop it first
            "strict": bool(limits.get("strict"))}).encode() + b"\n"
            + compiled_tests(job["test_style"], job["tests"]))
        command: dict[str, Any] = {"limits": limits, "net": self.net is not None}
        scratch = None
        if not self.isolate:
            scratch = mkdtemp("codesynth-job-")
            command["scratch"] = scratch
        if job["test_style"] == "pytest":
            command["workdir"] = scratch or "/tmp"
        if isinstance(self.cgroup, JobCgroup):
            # + the warm javac's threads: it lives in the worker's pids cgroup, not the job's
            self.cgroup.apply(int(limits["memory_mb"]), int(limits["max_processes"])
                              + self.java.threads())
            self.cgroup.reset_peak()
        before = self.cgroup.snapshot() if self.cgroup else (0, 0)
        shared_mb = 0.0 if isinstance(self.cgroup, JobCgroup) else rss_mb()
        start = time.perf_counter()
        net = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        try:
            pid = self.zygote.spawn(command, {**fds, "null": self.null_fd,
                                              "evidence": ev_write, "net": net})
        except (OSError, ValueError) as exc:
            for fd in (ev_read, ev_write, *fds.values()):
                os.close(fd)
            return fault(exc, "the zygote failed")
        finally:
            os.close(net)
        os.close(ev_write)
        os.close(fds.pop("content"))
        try:
            reply = self._collect(pid, start, key, ev_read, fds, limits, expected, shared_mb,
                                  before)
            reply["runtime"] = runtime
            if job["test_style"] == "native":  # the tests shared the program's process
                reply["in_process_tests"] = True
            self.java.finish(reply, job, warm_cpu)
            return reply
        except Exception as exc:  # noqa: BLE001 - this job's sandbox_error, a new runner
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            if self.space is not None:
                self.space.sweep()
            self.evidence.take()
            return fault(exc, "failed while collecting a job")
        finally:
            for fd in (ev_read, *fds.values()):
                with contextlib.suppress(OSError):
                    os.close(fd)
            if scratch:
                rmtree(scratch)

    def _collect(self, pid: int, start: float, key: bytes, ev_read: int, fds: dict[str, int],
                 limits: dict[str, Any], expected: list[str] | None, shared_mb: float,
                 before: tuple[int, int]) -> dict[str, Any]:
        """Everything after the fork: wait (under the deadline), sweep, read, decide."""
        hit = wait(pid, self._clock(limits, before), ev_read, self.evidence,
                   kill_group=not self.isolate)
        # stopped by a time limit while at its memory limit (thrashing there), before the kill
        at_limit = hit in ("cpu", "backstop") and self.cgroup is not None and \
            self.cgroup.near_limit()
        with contextlib.suppress(OSError):  # the init of the job's PID namespace: all of it
            (os.kill if self.isolate else os.killpg)(pid, signal.SIGKILL)
        _, status, usage = os.wait4(pid, 0)
        duration = time.perf_counter() - start
        tainted = None
        if self.space is not None:
            tainted = self.space.sweep()
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
        out, out_size, err, err_size = outputs(fds, max_output)
        faulted = os.WIFEXITED(status) and os.WEXITSTATUS(status) == HARNESS_FAULT
        events = parse(self.evidence.take(), key)
        warm = self.java.used(events)
        exit_code, signal_number, judged_cpu = judged_status(events, status)
        cpu_time = max(cpu_time, judged_cpu)
        obs = Observation(
            events=events, exit_code=exit_code, signal=signal_number,
            limit_hit=hit, wall_limit=float(limits["timeout"]),
            cpu_time=cpu_time, cpu_limit=cpu_limit(limits), oom_killed=oom,
            output_capped=max(out_size, err_size) >= fsize,
            setup_message=err.strip()[-500:] if faulted else "",
            memory_at_limit=at_limit, memory_limit_mb=float(limits["memory_mb"]))
        verdict = decide(obs, expected, fsize)
        if faulted and verdict["status"] == "sandbox_error":
            verdict["reason"] += " " + tail(fds["err"], 500)[0].strip()
            if not events and not tail(fds["judge_err"], 1)[0]:
                verdict["_unstarted"] = True  # died before it had its job (see run)
        if self.net is not None:  # every process of the job is gone: is the network clean?
            try:
                self.net.settle()
            except OSError as exc:
                tainted = f"could not renew the network namespace: {exc!r}"[:500]
        extra: dict[str, Any] = {"runner_rss_mb": rss_mb()} if self.container else {}
        if warm:
            extra["_warm"] = True
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

    def _clock(self, limits: dict[str, Any], before: tuple[int, int]) -> Clock:
        cgroup = self.cgroup
        cpu = None
        if cgroup is not None:
            def cpu() -> float:
                return (cgroup.snapshot()[1] - before[1]) / 1e9
        return Clock(float(limits["timeout"]), cpu_limit(limits), backstop(limits), cpu)

    def serve(self, inp: Any, out: Any) -> None:
        hello = {"ready": True, "isolation": self.isolation, "runtime": self.runtime}
        if self.container:
            hello["runner_rss_mb"] = rss_mb()
        serve(self.run, hello, inp, out)


def main() -> None:
    config = json.loads(sys.argv[1])
    hide_command_line()
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
    # Made here, after any fork of ours: it is never inherited (see Buffer). In a container
    # its pages are charged now, inside the container's limit.
    runner.evidence = Buffer(touch=runner.container and runner.isolate)
    import gc

    from codesynth.sandbox._job import prebuild_interpreter_state
    protocol = sys.stdin.buffer, sys.stdout.buffer
    runner.null_fd = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)  # every job's stdin
    prebuild_interpreter_state()
    gc.freeze()
    runner.start_zygote()  # now, before the first request is read
    runner.serve(*protocol)
    if runner.zygote is not None:
        runner.zygote.close()
    os._exit(0)  # end of input, every reply flushed: no teardown of all that is imported


if __name__ == "__main__":
    main()
