"""A real Ray cluster on this machine: a head and worker nodes, each ``ray start --block`` in a
session of its own, so one node can be killed (SIGKILL to every process of its session, by
id) while the others go on. Small on purpose: one CPU per node, a small object store, no
dashboard. Every wait has a deadline; ``stop`` ends only the processes started here.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

OBJECT_STORE = 80 * 1024 * 1024
START_DEADLINE = 180.0  # seconds: a loaded 2-core machine starts a node in ~10-30 s


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ray_bin() -> str:
    found = shutil.which("ray")
    if found is None:
        raise RuntimeError("the ray command is missing: pip install 'codesynth[ray]'")
    return found


def _session_pids(sid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.getsid(int(entry)) == sid:
                pids.append(int(entry))
        except (ProcessLookupError, PermissionError):
            continue
    return pids


class RayCluster:
    def __init__(self, root: Path, cpus: int = 1) -> None:
        self.root = root
        self.cpus = cpus
        self.port = _free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.nodes: list[subprocess.Popen[bytes]] = []
        self.logs: list[Any] = []
        self.env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0",
                    "RAY_enable_metrics_collection": "0"}
        # Short to keep the tests short: a node that stops answering is dead within ~5 s.
        self.env.setdefault("RAY_health_check_period_ms", "1000")
        self.env.setdefault("RAY_health_check_failure_threshold", "4")

    def _start(self, args: list[str], name: str) -> subprocess.Popen[bytes]:
        log = open(self.root / f"{name}.log", "wb")  # noqa: SIM115 - closed by stop()
        self.logs.append(log)
        node = subprocess.Popen(
            [_ray_bin(), "start", "--block", "--num-cpus", str(self.cpus),
             "--object-store-memory", str(OBJECT_STORE), "--disable-usage-stats", *args],
            stdout=log, stderr=subprocess.STDOUT, env=self.env, start_new_session=True,
            cwd=self.root)
        self.nodes.append(node)
        return node

    def start_head(self) -> None:
        self._start(["--head", "--port", str(self.port), "--include-dashboard", "false",
                     "--temp-dir", str(self.root / "ray")], "head")
        self.wait_nodes(1)

    def add_node(self) -> subprocess.Popen[bytes]:
        alive = self.alive_count()
        node = self._start(["--address", self.address], f"node{len(self.nodes)}")
        self.wait_nodes(alive + 1)
        return node

    def alive_count(self) -> int:
        code = ("import ray, logging\n"
                f"ray.init(address={self.address!r}, logging_level=logging.ERROR, "
                "log_to_driver=False)\n"
                "print(sum(1 for n in ray.nodes() if n['Alive']))\n")
        try:
            done = subprocess.run(["python", "-c", code], capture_output=True, text=True,
                                  timeout=60, env=self.env, cwd=self.root)
        except subprocess.TimeoutExpired:
            return 0
        lines = done.stdout.split()
        return int(lines[-1]) if done.returncode == 0 and lines else 0

    def wait_nodes(self, count: int, deadline: float = START_DEADLINE) -> None:
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            for node in self.nodes:
                if node.poll() is not None:
                    raise RuntimeError(f"a ray node exited ({node.returncode}); see "
                                       f"{self.root}/*.log")
            if self.alive_count() >= count:
                return
            time.sleep(1.0)
        raise TimeoutError(f"{count} ray node(s) not up within {deadline:g} s")

    def kill(self, node: subprocess.Popen[bytes]) -> None:
        """SIGKILL every process of the node's session: its raylet, store, workers, actors."""
        for _ in range(3):  # processes forked while the first ones were being killed
            for pid in _session_pids(node.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.2)
        node.wait(timeout=30)

    def stop(self) -> None:
        for node in reversed(self.nodes):
            for pid in _session_pids(node.pid):
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        end = time.monotonic() + 15
        while time.monotonic() < end and any(_session_pids(n.pid) for n in self.nodes):
            time.sleep(0.3)
        for node in self.nodes:
            self.kill(node)
        for log in self.logs:
            log.close()
