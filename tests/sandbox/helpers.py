"""Shared helpers for the sandbox conformance suite (host-side observations)."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
from typing import Any

import codesynth
from codesynth.records import Execution, Limits
from codesynth.sandbox.protocol import Sandbox
from tests.conftest import FAST

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Timeout cases use a short wall limit so the suite stays fast.
SHORT = dataclasses.replace(FAST, timeout=1.5)


def limits(**changes: Any) -> Limits:
    """``FAST`` with some fields changed."""
    return dataclasses.replace(FAST, **changes)


def code(text: str) -> str:
    """Dedent a program or test source written inline in a test."""
    return textwrap.dedent(text).strip("\n") + "\n"


def processes_of(uid: int) -> list[int]:
    """Host pids of every live (non-zombie) process whose real uid is ``uid``, runners aside."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as handle:
                status = handle.read()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if "Z" in fields.get("State", "").split()[:1]:
            continue
        if fields.get("NSpid", "").split()[-1:] == ["1"]:
            continue  # a namespace's init: a runner (in a container it shares the job's uid)
        uids = fields.get("Uid", "").split()
        if uids and int(uids[0]) == uid:
            found.append(int(entry))
    return found


def first_line_uid(execution: Execution) -> int:
    """The uid a job printed on its first line of stdout (every cleanup job starts that way)."""
    first = execution.stdout.splitlines()[0]
    uid = int(first)
    assert uid != 0, "the job ran as root"
    return uid


def run_script(script: str, env: dict[str, str] | None = None, timeout: float = 60.0) -> Any:
    """Run ``script`` in a fresh Python process (own pid: own cgroups and uids) and return the
    JSON it prints on its last line of stdout.

    Tests that must open a sandbox of their own use this instead of opening it in the test
    process: two LocalSandbox instances in one process share cgroup directories, and closing
    one breaks the other (see test_lifecycle.py).
    """
    environment = dict(os.environ if env is None else env)
    environment["PYTHONPATH"] = REPO
    proc = subprocess.run([sys.executable, "-c", code(script)], capture_output=True,
                          text=True, timeout=timeout, env=environment, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def runtime_under_tmp(sandbox: Sandbox) -> list[str]:
    """Top-level /tmp entries the sandbox must show. The local backend shows the runtime
    itself there when it lives under /tmp (a venv or a checkout, as CI or a user may have),
    bound read-only at its own path; the docker backend's runtime is in its image."""
    if sandbox.name != "local":
        return []
    roots = {sys.prefix, os.path.dirname(os.path.dirname(codesynth.__file__))}
    return sorted({p.split("/")[2] for p in map(os.path.realpath, roots)
                   if p.startswith("/tmp/")})
