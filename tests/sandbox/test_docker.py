"""The docker backend's own lifecycle: containers never outlive a run (close, crash, SIGKILL
followed by ``codesynth sandbox clean``), and a container that dies or hangs is replaced
without losing the job's verdict. The shared contract is tested in the other modules."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest

from codesynth.errors import SandboxUnavailable
from tests.conftest import REQUIRE_DOCKER, Run
from tests.sandbox.helpers import REPO, code, run_script


@pytest.fixture(scope="module")
def client() -> Any:
    from codesynth.sandbox import images
    from codesynth.sandbox.container import connect

    try:
        found = connect()
        images.ensure_runner(found)
    except SandboxUnavailable as exc:
        if REQUIRE_DOCKER:
            raise
        pytest.skip(f"docker backend unavailable here: {exc}")
    return found


def containers_of(client: Any, owner: str) -> list[Any]:
    from codesynth.sandbox.container import our_containers

    return our_containers(client, owner)


def wait_until(predicate: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


OPEN = """
    import json
    from codesynth.records import Job, Limits
    from codesynth.sandbox import open_sandbox
    from codesynth.sandbox.container import owner_label
    def job(code, tests="assert True", job_id="j"):
        return Job(id=job_id, code=code, tests=tests, test_style="assert")
"""


def test_no_container_outlives_close(client: Any) -> None:
    result = run_script(code(OPEN) + code("""
        with open_sandbox("docker", workers=2) as box:
            verdict = box.run(job("x = 1", "assert x == 1")).status.value
            during = len(box._pool._runners)
        print(json.dumps({"owner": owner_label(), "verdict": verdict, "during": during}))
    """))
    assert result["verdict"] == "passed"
    assert result["during"] == 2
    assert containers_of(client, result["owner"]) == []


def _start_and_kill(client: Any, busy: bool) -> str:
    """A codesynth process with two containers, SIGKILLed (while its jobs run, if busy)."""
    work = ("box.run_many([job('import time\\ntime.sleep(60)', job_id=str(i)) for i in "
            "range(2)], Limits(timeout=120))") if busy else "time.sleep(300)"
    script = code(OPEN) + code(f"""
        import sys, time
        box = open_sandbox("docker", workers=2)
        print(owner_label(), flush=True)
        list({work}) if {busy} else {work}
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": REPO}, cwd=REPO)
    assert proc.stdout is not None
    owner = proc.stdout.readline().strip()
    assert owner, "the script did not start its sandbox"
    assert len(containers_of(client, owner)) == 2
    time.sleep(1.0)  # the jobs are running
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    return owner


def test_sigkill_while_idle_leaves_no_container(client: Any) -> None:
    # The engine closes the runners' stdin when their client dies; they exit and are removed.
    owner = _start_and_kill(client, busy=False)
    assert wait_until(lambda: containers_of(client, owner) == [], 15)


def test_sigkill_mid_job_then_sandbox_clean_leaves_no_container(client: Any, run: Run) -> None:
    owner = _start_and_kill(client, busy=True)
    # A runner busy with a 60 s job cannot notice yet: its container is a stray until cleaned.
    left = containers_of(client, owner)
    assert len(left) >= 1
    code_, out, _ = run("sandbox", "status", "--json")
    assert code_ == 0
    strays = [c for c in json.loads(out)["containers"] if c["owner"] == owner]
    assert strays and all(c["stray"] for c in strays)
    code_, out, _ = run("sandbox", "clean", "--json")
    assert code_ == 0 and json.loads(out)["containers_removed"] >= 1
    assert wait_until(lambda: containers_of(client, owner) == [], 10)


def test_a_container_killed_mid_job_is_replaced_and_the_job_retried(client: Any) -> None:
    result = run_script(code(OPEN) + code("""
        import threading, time, docker
        from codesynth.sandbox.container import OWNER
        engine = docker.from_env()
        mine = {"label": f"{OWNER}={owner_label()}"}
        def kill_soon():
            time.sleep(1.0)
            for container in engine.api.containers(filters=mine):
                engine.api.kill(container["Id"])
        with open_sandbox("docker", workers=1) as box:
            first = [c["Id"] for c in engine.api.containers(filters=mine)]
            threading.Thread(target=kill_soon).start()
            slow = box.run(job("import time\\ntime.sleep(2)\\nx = 1", "assert x == 1"),
                           Limits(timeout=10))
            after = box.run(job("y = 2", "assert y == 2"))
            now = [c["Id"] for c in engine.api.containers(filters=mine)]
        print(json.dumps({"slow": slow.status.value, "after": after.status.value,
                          "replaced": first != now and len(now) == 1}))
    """))
    assert result == {"slow": "passed", "after": "passed", "replaced": True}


def test_a_hung_container_is_replaced_and_the_job_retried(client: Any) -> None:
    # A frozen container answers nothing; after the job's limit and the host's grace period
    # it is removed and the job runs again on a fresh one.
    result = run_script(code(OPEN) + code("""
        import threading, time, docker
        from codesynth.sandbox import pool
        from codesynth.sandbox.container import OWNER
        pool.HOST_GRACE = 2.0
        engine = docker.from_env()
        mine = {"label": f"{OWNER}={owner_label()}"}
        def freeze_soon():
            time.sleep(0.5)
            for container in engine.api.containers(filters=mine):
                engine.api.pause(container["Id"])
        with open_sandbox("docker", workers=1) as box:
            threading.Thread(target=freeze_soon).start()
            start = time.monotonic()
            slow = box.run(job("import time\\ntime.sleep(1.5)\\nx = 1", "assert x == 1"),
                           Limits(timeout=3))
            took = time.monotonic() - start
        print(json.dumps({"slow": slow.status.value, "took": took}))
    """), timeout=120)
    assert result["slow"] == "passed"
    assert result["took"] >= 5  # the frozen attempt waited for its limit and the grace period


def test_build_is_cached_and_status_shows_the_image(client: Any, run: Run) -> None:
    from codesynth.sandbox import images

    code_, out, _ = run("sandbox", "build", "--json")
    assert code_ == 0
    built = json.loads(out)
    assert built["image"] == images.runner_tag()
    assert built["seconds"] < 60  # layers cached; the base is already there
    code_, out, _ = run("sandbox", "status", "--json")
    assert code_ == 0
    status = json.loads(out)
    assert status["image"]["present"] and status["image"]["tag"] == images.runner_tag()


def test_unsafe_flag_is_refused_for_docker(client: Any, run: Run, tmp_path: Any) -> None:
    records = tmp_path / "in.jsonl"
    records.write_text(json.dumps({"id": "a", "code": "x = 1", "tests": "assert x == 1"}) + "\n")
    code_, _, err = run("verify", records, "-o", tmp_path / "out.jsonl", "--sandbox", "docker",
                        "--unsafe-no-isolation")
    assert code_ == 2 and "local backend only" in err
