"""How a runner enters its isolation, once, before its first job: the local backend's
namespaces and filesystem view, or a hardened container's (the docker backend).

Local backend: the runner unshares its own mount, UTS, PID, IPC and network namespaces (plus
a user namespace when not root). No job runs in them: the zygote makes every job's processes
in fresh PID, IPC and mount namespaces of their own, with new tmpfs job directories
(``_zygote``), and the job enters a network namespace no earlier job left a trace in
(``_jobnet``). In a container the runner does the same where the engine granted it the
capability, and otherwise sweeps after each job (``_jobspace``).
"""

from __future__ import annotations

import os
import signal
import sys
from typing import TYPE_CHECKING, Any

from codesynth.sandbox import _jobspace
from codesynth.sandbox import _linux as L
from codesynth.sandbox._cgroup import ContainerCgroup, JobCgroup
from codesynth.sandbox._runner_support import Joining, harden

if TYPE_CHECKING:
    from codesynth.sandbox.runner import Runner

_RUNNER_NAMESPACES = ("mount", "uts")
_JOB_NAMESPACES = ("pid", "ipc", "mount")


def enter_local(runner: Runner, config: dict[str, Any]) -> None:
    from codesynth.sandbox import _rootfs

    if config.get("cgroups"):
        try:
            runner.cgroup = JobCgroup(config["cgroups"])
        except OSError:
            runner.cgroup = None
    flags = (L.CLONE_NEWNS | L.CLONE_NEWNET | L.CLONE_NEWIPC | L.CLONE_NEWUTS
             | L.CLONE_NEWPID)
    outer_uid, outer_gid = os.getuid(), os.getgid()
    if outer_uid != 0:
        flags |= L.CLONE_NEWUSER
        runner.userns = True
    L.unshare(flags)
    if runner.userns:
        for name, content in (("setgroups", "deny"), ("uid_map", f"0 {outer_uid} 1"),
                              ("gid_map", f"0 {outer_gid} 1")):
            with open(f"/proc/self/{name}", "w") as handle:
                handle.write(content)
        runner.uid, runner.gid = 1000, 1000
        runner.judge_uid = 1001
    child = os.fork()
    if child:  # the stub outside: waits for the runner, passes its status on
        os.closerange(0, 1 << 20)
        _, status = os.waitpid(child, 0)
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    L.prctl(L.PR_SET_PDEATHSIG, signal.SIGKILL)
    joining = Joining(runner.cgroup) if isinstance(runner.cgroup, JobCgroup) else None
    L.sethostname("sandbox")
    L.loopback_up()
    extra = [sys.base_prefix, sys.prefix, *config.get("paths", [])]
    runner.tmp_binds = _rootfs.build(extra, runner.uid, runner.gid, "sandbox")
    runner.keep = _jobspace.mount(runner.tmp_binds, runner.uid, runner.gid, runner.userns)
    if joining is not None:
        joining.wait()  # before any fork: the jobs are born in the worker's cgroups
        JobCgroup.protect()
    owner = "" if runner.userns else f",uid={runner.uid},gid={runner.gid}"
    runner.job_mounts = job_mounts(owner)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # jobs must not be able to stop us
    L.prctl(L.PR_SET_DUMPABLE, 0)  # a job with our uid (user namespace) cannot ptrace
    runner.settle(_jobspace.JobSpace(runner.keep, owner))  # if the zygote cannot mount
    runner.seccomp, runner.keyring, hardening = harden()
    names = list(_RUNNER_NAMESPACES)
    if runner.userns:
        names.insert(0, "user")
    limits = (f"cgroup({','.join(config['cgroups'])})" if runner.cgroup and
              config.get("cgroups") else "rlimits only")
    runner.isolation = (f"namespaces({','.join(names)} per runner; "
                        f"{','.join(_JOB_NAMESPACES)} per job; net until a job leaves a trace) "
                        f"+ {limits} + uid {runner.uid}, judge uid {runner.judge_uid} "
                        f"+ {hardening}")


def job_mounts(owner: str) -> list[tuple[str, str]]:
    """The tmpfs every job gets afresh (its working directory, /tmp, /dev/shm)."""
    return [(directory, _jobspace.options(directory, mode, owner))
            for directory, mode in _jobspace.JOB_DIRS]


def enter_container(runner: Runner, config: dict[str, Any]) -> None:
    """The engine made the namespaces, the read-only root, the job's tmpfs directories and
    the limits of the whole tree; we must be PID 1 of its PID namespace, so that sweeping
    after a job reaches everything. Started as root with a few capabilities, the runner
    gives jobs their own uids and, where the capability allows, their own namespaces as in
    the local backend (the zygote probes which)."""
    if os.getpid() != 1:
        raise OSError("the runner must be PID 1 of its container")
    try:
        runner.cgroup = ContainerCgroup()
    except OSError:
        runner.cgroup = None
    if os.getuid() != 0:  # an image run without root: one uid for all (weaker)
        runner.uid, runner.gid = os.getuid(), os.getgid()
        runner.judge_uid = runner.uid
    owner = f",uid={runner.uid},gid={runner.gid}"
    runner.job_mounts = job_mounts(owner)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    L.prctl(L.PR_SET_DUMPABLE, 0)  # jobs share our uid: no ptrace, no /proc/1/fd
    runner.settle(_jobspace.JobSpace(runner.keep, None))
    runner.seccomp, runner.keyring, hardening = harden()
    limits = "cgroup(container)" if runner.cgroup else "rlimits only"
    runner.isolation = (f"{config.get('describe', 'container')} + {limits} + uid "
                        f"{runner.uid}, judge uid {runner.judge_uid} + {hardening}")
