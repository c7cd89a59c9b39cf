"""The local backend as an unprivileged user: isolated through a user namespace where the
kernel allows one, and a clear refusal (naming docker and the unsafe flag) where it does not.

The unprivileged user is simulated with nested user namespaces (``unshare --map-user``), so
this runs on a root CI machine without touching any global setting.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = str(Path(__file__).resolve().parent.parent)
pytestmark = pytest.mark.skipif(shutil.which("unshare") is None, reason="needs util-linux unshare")

CASES = [
    ("legit", "import os\ndef f(x): return x + 1", "passed"),
    ("os_exit", "import os\ndef f(x): os._exit(0)", "failed"),
    # The job leads its own process group inside the runner's namespace: signals it sends to
    # its group kill only itself; the runner (the namespace's init) and the host are untouched.
    ("kill_group", "import os, signal\nos.killpg(0, signal.SIGKILL)\ndef f(x): return x + 1",
     "crashed"),
    ("kill_all", "import os, signal\ntry:\n    os.kill(-1, signal.SIGKILL)\nexcept OSError:\n"
                 "    pass\ndef f(x): return x + 1", "passed"),
    # The program's parent is the judge, the init of the job's PID namespace: out of reach.
    ("kill_parent", "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n"
                    "def f(x): return x + 1", "passed"),
    ("network", "import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=1)\n"
                "def f(x): return x + 1", "error"),
    ("host_files", "import os\nassert not os.path.exists('/work/main/pyproject.toml')\n"
                   "def f(x): return x + 1", "passed"),
    ("memory", "a = bytearray(400 * 1024 * 1024)\ndef f(x): return x + 1", "memory"),
    # Here the program shares its judge's owner (one uid is mapped): the judge is the init
    # of the job's PID namespace (no signal without a handler reaches it), not dumpable.
    ("signal_judge", "import os, signal\nfor s in (signal.SIGKILL, signal.SIGTERM, "
                     "signal.SIGINT, signal.SIGSEGV):\n    try:\n        os.kill(1, s)\n"
                     "    except OSError:\n        pass\ndef f(x): return x + 1", "passed"),
    ("judge_memory", "import os\nfor p in ('/proc/1/mem', '/proc/1/environ', '/proc/1/fd/3'):"
                     "\n    try:\n        open(p, 'rb').read(1)\n        raise SystemExit(p)\n"
                     "    except OSError:\n        pass\ndef f(x): return x + 1", "passed"),
    ("wrong_answer", "def f(x): return x", "failed"),
]


def _as_unprivileged(tmp_path: Path, *args: str, restrict_userns: bool = False
                     ) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH: this checkout's codesynth, whatever the installed one is
    inner = " ".join([f"PYTHONPATH={REPO}", sys.executable, "-m", "codesynth", *args])
    limit = "echo 1 > /proc/sys/user/max_user_namespaces && " if restrict_userns else ""
    script = (f"{limit}exec unshare --user --map-user=1000 --map-group=1000 "
              f"sh -c 'cd {tmp_path} && {inner}'")
    return subprocess.run(["unshare", "--user", "--map-root-user", "sh", "-c", script],
                          capture_output=True, text=True, timeout=180)


@pytest.fixture()
def records(tmp_path: Path) -> Path:
    tmp_path.chmod(0o777)
    path = tmp_path / "in.jsonl"
    with path.open("w") as handle:
        for name, code, _ in CASES:
            handle.write(json.dumps({"id": name, "code": code, "tests": "assert f(1) == 2"})
                         + "\n")
    path.chmod(0o644)
    return path


def _kernel_allows_unprivileged_userns() -> bool:
    probe = ("exec unshare --user --map-user=1000 --map-group=1000 "
             "unshare --user --pid --net --mount --ipc --uts --fork true")
    return subprocess.run(["unshare", "--user", "--map-root-user", "sh", "-c", probe],
                          capture_output=True, timeout=60).returncode == 0


def test_user_namespace_isolation(tmp_path: Path, records: Path) -> None:
    if not _kernel_allows_unprivileged_userns():
        pytest.skip("this kernel refuses unprivileged user namespaces")
    out = tmp_path / "out.jsonl"
    done = _as_unprivileged(tmp_path, "verify", str(records), "-o", str(out), "--timeout", "5",
                            "--memory-mb", "128", "--workers", "2")
    assert done.returncode == 0, done.stderr
    results = {r["id"]: r["result"] for r in map(json.loads, out.read_text().splitlines())}
    got = {name: results[name]["status"] for name, _, _ in CASES}
    assert got == {name: status for name, _, status in CASES}
    assert "user" in results["legit"]["isolation"]


def test_refuses_without_namespaces_and_names_the_alternatives(tmp_path: Path,
                                                              records: Path) -> None:
    out = tmp_path / "out.jsonl"
    done = _as_unprivileged(tmp_path, "verify", str(records), "-o", str(out),
                            restrict_userns=True)
    assert done.returncode == 3
    message = " ".join(done.stderr.split())
    assert "cannot isolate" in message and "--sandbox docker" in message
    assert "--unsafe-no-isolation" in message
    assert not out.exists()


def test_unsafe_opt_out_runs_without_isolation(tmp_path: Path) -> None:
    # Only benign programs here: without isolation, kill(-1) would reach the host.
    tmp_path.chmod(0o777)
    records = tmp_path / "benign.jsonl"
    records.write_text("".join(
        json.dumps({"id": name, "code": code, "tests": "assert f(1) == 2"}) + "\n"
        for name, code, _ in CASES if name in ("legit", "os_exit")))
    records.chmod(0o644)
    out = tmp_path / "out.jsonl"
    done = _as_unprivileged(tmp_path, "verify", str(records), "-o", str(out),
                            "--unsafe-no-isolation", "--timeout", "5", restrict_userns=True)
    assert done.returncode == 0, done.stderr
    results = {r["id"]: r["result"] for r in map(json.loads, out.read_text().splitlines())}
    assert results["legit"]["status"] == "passed"
    assert results["os_exit"]["status"] == "failed"  # the verdict logic holds even unisolated
    assert "UNSAFE" in results["legit"]["isolation"]
