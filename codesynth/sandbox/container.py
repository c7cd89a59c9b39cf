"""The ``docker`` backend: a pool of long-lived, hardened containers, one runner in each.

Each worker is a container of the runner image, created through the Docker SDK with no
network, a read-only root, tmpfs scratch (``/sandbox``, ``/tmp``), a uid of its own, no
capabilities, ``no-new-privileges``, a pids limit, a memory limit and a CPU quota. Its command
is the same runner program the local backend uses, as PID 1: it forks each job and sweeps the
container clean after it. So both backends produce the same records, statuses and verdicts.

Containers carry labels naming their owner (host, pid, process start time). They are created
with ``AutoRemove`` and ``StdinOnce``: if codesynth dies, even by SIGKILL, the engine closes
the runner's stdin, the runner exits and the container is removed. ``remove_strays`` (run at
every start, and by ``codesynth sandbox clean``) removes whatever a crash left anyway.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from typing import Any

from codesynth.errors import SandboxUnavailable, UserError
from codesynth.records import Limits
from codesynth.registry import sandboxes
from codesynth.sandbox import images
from codesynth.sandbox._attach import ContainerRunner
from codesynth.sandbox._process import BOOT, RUNNER_ENV, RunnerDied
from codesynth.sandbox.local import uid_block
from codesynth.sandbox.pool import PooledSandbox, RunnerPool

ROLE = "org.codesynth.sandbox"  # label on every container we create
CLOSE_WAIT = 15.0  # seconds close() waits for the engine to remove the containers
OWNER = "org.codesynth.owner"  # "<host>/<pid>/<process start time>"
SLACK_MB = 1  # page tables and kernel objects, on top of the job's budget and the runner
START_MB = 64  # the runner's share until it reports its own size
RUNNER_ROOT = "/opt/codesynth"
HARDENING = ("docker(network none, read-only root, jobs without capabilities, "
             "no-new-privileges)")
RUNNER_CAPABILITIES = ("SYS_ADMIN", "NET_ADMIN", "SETUID", "SETGID", "KILL", "DAC_OVERRIDE",
                       "FOWNER")


def connect() -> Any:
    """A client for the engine (``DOCKER_HOST`` or the local socket), or SandboxUnavailable."""
    try:
        import docker
    except ImportError:
        raise SandboxUnavailable("the docker backend needs the `docker` package "
                                 "(pip install docker)") from None
    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure here means "no engine"
        where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        raise SandboxUnavailable(f"no Docker engine reachable at {where} ({exc}); start the "
                                 "engine (dockerd), or use --sandbox local") from None
    return client


def _start_time(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def owner_label(pid: int | None = None) -> str:
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}/{pid}/{_start_time(pid)}"


def owner_alive(owner: str) -> bool:
    """Whether the process that created a container still runs (unknown hosts: assumed so)."""
    host, _, rest = owner.partition("/")
    pid, _, started = rest.partition("/")
    if host != socket.gethostname():
        return True
    return pid.isdigit() and _start_time(int(pid)) == started


def our_containers(client: Any, owner: str | None = None) -> list[dict[str, Any]]:
    """Our containers as the engine lists them (one call, no per-container inspection: a
    container may be removed at any moment)."""
    label = f"{OWNER}={owner}" if owner else ROLE
    return list(client.api.containers(all=True, filters={"label": label}))


def remove_strays(client: Any, everything: bool = False) -> int:
    """Remove containers whose owner is gone (all of ours with ``everything``)."""
    import docker.errors

    removed = 0
    for container in our_containers(client):
        owner = (container.get("Labels") or {}).get(OWNER, "")
        if everything or not owner_alive(owner):
            try:
                client.api.remove_container(container["Id"], force=True)
                removed += 1
            except docker.errors.NotFound:
                pass  # gone already
            except docker.errors.APIError as exc:
                if exc.status_code != 409:  # 409: its removal is already under way
                    raise
                removed += 1
    return removed


@sandboxes.register("docker")
class DockerSandbox(PooledSandbox):
    name = "docker"

    def __init__(self, workers: int | None = None, limits: Limits | None = None,
                 image: str | None = None, cpus: float = 1.0,
                 unsafe_no_isolation: bool = False) -> None:
        if unsafe_no_isolation:
            raise UserError("--unsafe-no-isolation applies to the local backend only")
        self.workers = workers or max(1, len(os.sched_getaffinity(0)))
        self.limits = limits or Limits()
        self.cpus = cpus
        self.client = connect()
        self.image = image or images.ensure_runner(self.client)
        remove_strays(self.client)
        self._owner = owner_label()
        _, self._uid_base = uid_block()
        self._tmpfs_mb = max(64, os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
                             // (2 << 20))
        self._pool = RunnerPool(self.name, self.workers, self._start_runner)
        try:
            self._pool.start_all()
        except RunnerDied as exc:
            self.close()
            raise SandboxUnavailable(f"the docker sandbox cannot start its runners ({exc}); "
                                     "check `codesynth sandbox status`") from exc
        except BaseException:
            self.close()
            raise

    def _create_options(self, index: int) -> dict[str, Any]:
        uid = self._uid_base + (index % 256)
        memory = (self.limits.memory_mb + START_MB) << 20
        # Owned by the runner, which resets their roots' attributes and times after a job;
        # noatime: reading a directory leaves no trace for the next job.
        scratch = (f"rw,exec,nosuid,nodev,noatime,size={self._tmpfs_mb}m,nr_inodes=65536,"
                   f"uid={uid},gid={uid}")
        # The runner starts as root with only what it needs to make each job's processes:
        # a PID and mount namespace per job (SYS_ADMIN), their own uids (SETUID, SETGID),
        # killing them (KILL) and emptying their directories (DAC_OVERRIDE, FOWNER). The
        # jobs drop every capability with their uid (no_new_privs: none comes back).
        host_config = self.client.api.create_host_config(
            auto_remove=True, network_mode="none", read_only=True, cap_drop=["ALL"],
            cap_add=list(RUNNER_CAPABILITIES),
            security_opt=["no-new-privileges"], ipc_mode="private",
            pids_limit=max(1024, self.limits.max_processes + 16),
            mem_limit=memory, memswap_limit=memory, nano_cpus=int(self.cpus * 1e9),
            tmpfs={"/sandbox": f"{scratch},mode=0770", "/tmp": f"{scratch},mode=1777",
                   "/dev/shm": f"{scratch},mode=1777"})
        config = {"isolate": True, "mode": "container", "describe": HARDENING,
                  "uid": uid, "gid": uid}
        return {
            "image": self.image,
            "command": ["python3", "-I", "-c", BOOT, RUNNER_ROOT, json.dumps(config)],
            "stdin_open": True, "user": "0:0", "hostname": "sandbox",
            "working_dir": "/", "environment": {**RUNNER_ENV,
                                                "PATH": "/usr/local/bin:/usr/bin:/bin"},
            "labels": {ROLE: "runner", OWNER: self._owner},
            "host_config": host_config,
        }

    def _start_runner(self, index: int) -> ContainerRunner:
        try:
            runner = ContainerRunner(self.client.api, self._create_options(index),
                                     on_limits=self._apply_limits)
        except RunnerDied:
            raise
        except Exception as exc:  # noqa: BLE001 - the engine refused this container
            raise RunnerDied(f"cannot start a runner container: {exc}") from exc
        return runner

    @staticmethod
    def _memory_limit(memory_mb: int, runner: ContainerRunner | None) -> int:
        """The container's limit: the job's budget for its whole tree, plus the runner."""
        runner_mb = runner.runner_rss_mb if runner else 0.0
        return int((memory_mb + runner_mb + SLACK_MB) * (1 << 20))

    def _apply_limits(self, runner: ContainerRunner, limits: dict[str, Any]) -> None:
        """Follow the job's memory budget and the runner's own size, as the local backend
        does with its cgroups (re-applied when either moved by more than 8 MiB)."""
        wanted = self._memory_limit(int(limits["memory_mb"]), runner)
        if runner.applied_memory is not None and abs(wanted - runner.applied_memory) < 8 << 20:
            return
        self.client.api.update_container(runner.id, mem_limit=wanted, memswap_limit=wanted)
        runner.applied_memory = wanted

    @property
    def info(self) -> dict[str, object]:
        return {**self._pool.info, "image": self.image}

    def close(self) -> None:
        """Stop every runner, then wait (at most ``CLOSE_WAIT`` seconds) until the engine has
        removed their containers: none outlives ``close``, even on a busy engine."""
        if hasattr(self, "_pool"):
            self._pool.close()
        if hasattr(self, "_owner"):
            deadline = time.monotonic() + CLOSE_WAIT
            with contextlib.suppress(Exception):
                while our_containers(self.client, self._owner) and \
                        time.monotonic() < deadline:
                    time.sleep(0.1)
