"""The namespace factory alone, in a private mount namespace of a child: each way of making
a holder (by the factory itself, with ``/proc`` mounted by ``pidns``, or forked, the fallback
for kernels without that option) gives a PID 1 of its own, in IPC and mount namespaces of its
own, with the job's tmpfs and a ``/proc`` of its PID namespace."""

from __future__ import annotations

import json
import os
import signal
import sys

import pytest

from codesynth.sandbox import _linux as L
from codesynth.sandbox._jobns import FACTORY

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

NAMES = ("pid", "ipc", "mnt")
RELEASE = tuple(int(part) for part in os.uname().release.split(".")[:2] if part.isdigit())
PIDNS_OPTION = RELEASE >= (6, 18)  # procfs's pidns= mount option


def _holder_view(directory: str, forked: bool, out: int) -> None:
    """In a child: make two holders, report what each one's namespaces hold."""
    L.unshare(L.CLONE_NEWNS)
    L.mount(None, "/", None, L.MS_REC | L.MS_PRIVATE)
    req_r, req_w = os.pipe()
    rep_r, rep_w = os.pipe()
    factory = os.posix_spawn(sys.executable, [sys.executable, "-I", "-S", FACTORY],
                             {"PATH": "/usr/bin:/bin"},
                             file_actions=[(os.POSIX_SPAWN_DUP2, req_r, 0),
                                           (os.POSIX_SPAWN_DUP2, rep_w, 1)])
    config = {"mounts": [[directory, "size=1m,mode=700"]], "tmp_binds": [], "forked": forked}
    os.write(req_w, json.dumps(config).encode() + b"\nnn")
    replies = b""
    while replies.count(b"\n") < 2:
        replies += os.read(rep_r, 4096)
    report = []
    for line in replies.split():
        pid = int(line)
        with open(f"/proc/{pid}/mountinfo") as handle:
            mounts = [row.split(" - ")[1].split()[0] + " " + row.split()[4]
                      for row in handle]
        with open(f"/proc/{pid}/status") as handle:
            status = dict(row.split(":\t", 1) for row in handle.read().splitlines())
        report.append({"ns": [os.readlink(f"/proc/{pid}/ns/{name}") for name in NAMES],
                       "nspid": status["NSpid"].split(), "mounts": mounts,
                       "proc": os.listdir(f"/proc/{pid}/root/proc")})
        os.kill(pid, signal.SIGKILL)
    os.kill(factory, signal.SIGKILL)
    os.write(out, json.dumps(report).encode())


@pytest.mark.parametrize("forked", [False, True], ids=["direct", "forked"])
def test_each_holder_has_namespaces_of_its_own(tmp_path: object, forked: bool) -> None:
    directory = str(tmp_path)
    read, write = os.pipe()
    child = os.fork()
    if child == 0:
        try:
            _holder_view(directory, forked, write)
        finally:
            os._exit(0)
    os.close(write)
    data = b""
    while chunk := os.read(read, 1 << 16):
        data += chunk
    os.waitpid(child, 0)
    first, second = json.loads(data)
    own = [os.readlink(f"/proc/self/ns/{name}") for name in NAMES]
    for holder in (first, second):
        assert holder["nspid"][-1] == "1"  # PID 1 of its own PID namespace
        assert all(ns not in own for ns in holder["ns"])
        assert "tmpfs " + directory in holder["mounts"]
        assert "proc /proc" in holder["mounts"]
        # its /proc shows its namespace: itself (1), nothing of ours
        assert [name for name in holder["proc"] if name.isdigit()] == ["1"]
        # who mounted the last /proc: the holder, first (forked), or the factory, last (direct)
        mounts = holder["mounts"]
        proc_first = (len(mounts) - 1 - mounts[::-1].index("proc /proc")
                      < mounts.index("tmpfs " + directory))
        if forked:
            assert proc_first
        elif PIDNS_OPTION:
            assert not proc_first
    assert all(a != b for a, b in zip(first["ns"], second["ns"], strict=True))
