"""``codesynth serve``'s native API against a real server subprocess on loopback: verdicts
equal to ``codesynth verify``'s, authentication, refusals, deadlines, disconnects, shutdown."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from codesynth.client import Client, DeadlineExceeded
from tests.conftest import BACKENDS, Run, open_or_skip
from tests.serve_server import ROOT, serve
from tests.test_cli_verify import EXPECTED_STATUS, MIXED, write_jsonl

TOKEN = "s3cret-token-for-tests"
SLEEPY = "import time\ntime.sleep({})\ndef f():\n    return 1\n"


def sleeper(index: int, seconds: float) -> dict[str, Any]:
    return {"id": f"sleep-{index}", "code": SLEEPY.format(seconds), "tests": "assert f() == 1"}


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as handle:
                if int(handle.read().rsplit(")", 1)[1].split()[1]) == pid:
                    found.add(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    return found


def comparable(result: dict[str, Any]) -> dict[str, Any]:
    """What a verdict is, without what measures one run."""
    return {"status": result["status"], "passed": result["passed"],
            "reason": result["reason"], "exit_code": result["exit_code"],
            "exception": (result["exception"] or {}).get("type"),
            "stdout": re.sub(r" in [\d.]+s", "", result["stdout"]), "limit": result["limit"],
            "tests": [(t["name"], t["outcome"], t["line"], t["message"])
                      for t in result["tests"]]}


@pytest.mark.parametrize("backend", BACKENDS)
def test_verify_gives_the_cli_verdicts(tmp_path: Path, run: Run, backend: str) -> None:
    if backend == "docker":
        open_or_skip("docker", workers=1).close()  # skips without an engine (not in CI)
    source = write_jsonl(tmp_path / "in.jsonl", MIXED)
    options = ["--workers", "2", "--timeout", "10", "--memory-mb", "256", "--sandbox", backend]
    code, _, _ = run("verify", source, "-o", tmp_path / "out.jsonl", *options)
    assert code == 0
    cli = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    with serve(*options) as server:
        status, body, _ = server.post("/v1/verify", {"records": MIXED})
        assert status == 200, body
        served = body["records"]
        status, one, _ = server.post("/v1/verify", MIXED[1])  # one record, not a list
    assert status == 200 and one["result"]["status"] == "failed" and one["difficulty"] == 3
    assert [r["result"]["status"] for r in served] == EXPECTED_STATUS
    for ours, theirs in zip(served, cli, strict=True):
        assert {k: v for k, v in ours.items() if k != "result"} == \
            {k: v for k, v in theirs.items() if k != "result"}  # every input field kept
        assert comparable(ours["result"]) == comparable(theirs["result"])
        assert ours["result"]["isolation"].split(" + uid")[0] == \
            theirs["result"]["isolation"].split(" + uid")[0]


def test_auth_is_required_when_a_token_is_set() -> None:
    record = {"id": "a", "code": "x = 1", "tests": "assert x == 1"}
    with serve("--workers", "1", token=TOKEN) as server:
        assert server.post("/v1/verify", record)[0] == 401
        assert server.post("/v1/verify", record, {"Authorization": "Bearer wrong"})[0] == 401
        assert server.post("/run_code", {"code": "print(1)", "language": "python"})[0] == 401
        assert server.get("/metrics")[0] == 401
        status, body, _ = server.post("/v1/verify", record, server.auth)
        assert status == 200 and body["result"]["passed"]
        basic = {"Authorization": "Basic " + __import__("base64").b64encode(
            f"user:{TOKEN}".encode()).decode()}
        assert server.post("/v1/verify", record, basic)[0] == 200
        assert server.get("/v1/health")[0] == 200  # load balancers' probe stays open


def test_listening_beyond_loopback_needs_a_token() -> None:
    done = subprocess.run([sys.executable, "-m", "codesynth", "serve", "--host", "0.0.0.0",
                           "--port", "0"], capture_output=True, text=True, timeout=60,
                          cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
                                         "CODESYNTH_TOKEN": ""})
    assert done.returncode == 2
    said = " ".join((done.stdout + done.stderr).split())
    assert "refusing to listen on 0.0.0.0 without a token" in said


def test_bad_requests_are_clear_4xx() -> None:
    with serve("--workers", "1", "--max-body-mb", "0.01", "--max-records", "3") as server:
        status, body, _ = server.post("/v1/verify", None, raw=b'{"id": 1, "code": ')
        assert status == 400 and body["error"] == "bad_json" and "line 1" in body["message"]
        status, body, _ = server.post("/v1/verify", None, raw=b"\xff\xfe")
        assert status == 400 and body["error"] == "bad_json"
        status, body, _ = server.post("/v1/verify", {"id": "x", "code": "y" * 20000,
                                                     "tests": "assert 1"})
        assert status == 413 and "larger than the limit" in body["message"]
        status, body, _ = server.post("/v1/verify", {"records": [
            {"id": "a", "code": "", "tests": "assert 1"}, {"id": "b", "code": "x"}]})
        assert status == 400 and "records[1]" in body["message"] and "tests" in body["message"]
        status, body, _ = server.post("/v1/verify", {"records": [
            {"id": str(i), "code": "", "tests": "assert 1"} for i in range(4)]})
        assert status == 413 and body["error"] == "too_many_records"
        status, body, _ = server.post("/v1/verify", {"records": []})
        assert status == 400
        status, body, _ = server.post("/v1/verify", {"id": "a", "code": "", "tests": "assert 1"},
                                      {"X-Codesynth-Deadline": "soon"})
        assert status == 400 and body["error"] == "bad_deadline"
        assert server.get("/nowhere")[0] == 404
        assert server.metric("codesynth_verdicts_total") == 0  # nothing ran


def test_a_request_past_its_deadline_is_dropped_not_run() -> None:
    with serve("--workers", "1") as server:
        slow = threading.Thread(target=server.post, args=("/v1/verify", sleeper(0, 3.0)))
        slow.start()
        time.sleep(0.3)  # the only worker is busy with it
        start = time.monotonic()
        status, body, _ = server.post("/v1/verify", {"id": "late", "code": "x = 1",
                                                     "tests": "assert x == 1"},
                                      {"X-Codesynth-Deadline": "0.4"})
        waited = time.monotonic() - start
        assert status == 504 and body["error"] == "deadline_exceeded"
        assert waited < 2.0  # not the 3 s of the job ahead of it
        with pytest.raises(DeadlineExceeded), Client(server.url, deadline=0.3) as client:
            client.verify([{"id": "late too", "code": "", "tests": "assert 1"}])
        slow.join(30)
        time.sleep(0.2)
        assert server.metric("codesynth_verdicts_total") == 1  # the late jobs never ran
        assert server.metric("codesynth_jobs_dropped_total") == 2


def test_a_client_that_disconnects_leaves_no_work_behind() -> None:
    records = [sleeper(0, 4.0)] + [sleeper(i, 0.4) for i in range(1, 8)]
    body = json.dumps({"records": records}).encode()
    with serve("--workers", "1") as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
            connection.sendall(b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: "
                               b"application/json\r\nContent-Length: "
                               + str(len(body)).encode() + b"\r\n\r\n" + body)
            time.sleep(0.5)
        gone = time.monotonic()
        while server.metric("codesynth_jobs_dropped_total", 'reason="cancelled"') < 7 \
                and time.monotonic() < gone + 1.0:
            time.sleep(0.05)
        # dropped at once, while the first job still runs: the queue holds nothing for no one
        assert server.metric("codesynth_jobs_dropped_total", 'reason="cancelled"') == 7
        assert server.metric("codesynth_queue_depth") == 0
        assert server.metric("codesynth_jobs_in_flight") == 1
        while server.metric("codesynth_jobs_in_flight") and time.monotonic() < gone + 20:
            time.sleep(0.05)
        assert server.metric("codesynth_verdicts_total") == 1  # only the one already running
        status, answer, _ = server.post("/v1/verify", {"id": "after", "code": "x = 2",
                                                       "tests": "assert x == 2"})
        assert status == 200 and answer["result"]["passed"]


def test_shutdown_finishes_the_work_in_progress() -> None:
    with serve("--workers", "1") as server:
        answers: list[Any] = []
        request = threading.Thread(target=lambda: answers.append(
            server.post("/v1/verify", sleeper(0, 1.0))))
        request.start()
        time.sleep(0.4)
        server.process.send_signal(signal.SIGTERM)
        request.join(30)
        assert server.process.wait(30) == 0
    status, body, _ = answers[0]
    assert status == 200 and body["result"]["status"] == "passed"
    assert "stopped" in "".join(server.lines)


def test_reward_policies_chat_completions_and_the_cache(tmp_path: Path) -> None:
    tests = "assert add(1, 2) == 3\nassert add(2, 2) == 4\nassert add(0, 5) == 6\n"
    right = "Here:\n```python\ndef add(a, b):\n    return a + b\n```\n"
    wrong = [{"role": "assistant", "content": "```py\ndef add(a, b):\n    return 3\n```"}]
    broken = "def add(a, b) return"
    cache = {"CODESYNTH_EXEC_CACHE": str(tmp_path / "cache.sqlite")}
    with serve("--workers", "2", env=cache) as server:
        status, body, _ = server.post("/v1/reward", {"completions": [right, wrong, broken],
                                                     "tests": tests})
        assert status == 200, body
        assert body["rewards"] == [2 / 3, 1 / 3, 0.0]
        assert [r["status"] for r in body["results"]] == ["failed", "failed", "error"]
        status, body, _ = server.post("/v1/reward", {"completions": [right, right],
                                                     "tests": tests, "policy": "binary"})
        assert body["rewards"] == [0.0, 0.0]
        assert [r.get("cache") for r in body["results"]] == ["hit", "hit"]
        status, body, _ = server.post("/v1/reward", {
            "completions": [right, right], "policy": "binary",
            "specs": [{"tests": "assert add(1, 1) == 2"}, {"tests": "assert add(1, 1) == 2"}]})
        assert body["rewards"] == [1.0, 1.0]
        assert [r.get("cache") for r in body["results"]] == [None, "duplicate"]
        assert server.metric("codesynth_cache_hits_total") == 2
        status, body, _ = server.post("/v1/reward", {"completions": [right], "policy": "max"})
        assert status == 400 and "policy" in body["message"]


def test_metrics_count_verdicts_and_requests() -> None:
    with serve("--workers", "1") as server:
        server.post("/v1/verify", {"records": [{"id": "p", "code": "", "tests": "assert 1"},
                                               {"id": "f", "code": "", "tests": "assert 0"}]})
        assert server.metric("codesynth_verdicts_total", 'status="passed"') == 1
        assert server.metric("codesynth_verdicts_total", 'status="failed"') == 1
        assert server.metric("codesynth_requests_total", 'code="200"') >= 1
        assert server.metric("codesynth_request_seconds_count", "/v1/verify") == 1


@pytest.mark.parametrize("policy", ["binary", "fraction"])
def test_trl_and_verl_reward_functions(policy: str) -> None:
    from codesynth import rewards

    completions = [[{"role": "assistant", "content": "```python\ndef f(x):\n    return x\n```"}],
                   [{"role": "assistant", "content": "```python\ndef f(x):\n    return 1\n```"}]]
    with serve("--workers", "2", token=TOKEN) as server:
        reward = rewards.trl_reward(server.url, token=TOKEN, policy=policy)
        got = reward(prompts=["p", "p"], completions=completions,
                     tests=["assert f(1) == 1\nassert f(2) == 2", None], test_style=None)
        assert got == [1.0, None]
        assert reward.__name__ == f"codesynth_{policy}"
        os.environ.update({"CODESYNTH_URL": server.url, "CODESYNTH_TOKEN": TOKEN,
                           "CODESYNTH_REWARD_POLICY": policy})
        try:
            one = rewards.compute_score("codecontests", "```python\nprint(int(input())*2)\n```",
                                        json.dumps({"inputs": ["2\n", "5\n"],
                                                    "outputs": ["4\n", "11\n"]}))
            batch = rewards.compute_score_batch(
                ["x", "x"], ["def g():\n    return 2", "def g():\n    return 3"],
                ["assert g() == 2", {"tests": "def check(c):\n    assert c() == 2\n",
                                     "test_style": "humaneval", "entry_point": "g"}])
        finally:
            for name in ("CODESYNTH_URL", "CODESYNTH_TOKEN", "CODESYNTH_REWARD_POLICY"):
                os.environ.pop(name)
    assert one == (0.5 if policy == "fraction" else 0.0)
    assert batch == [1.0, 0.0]


def test_a_dead_sandbox_runner_does_not_hang_the_server() -> None:
    with serve("--workers", "1", "--timeout", "5") as server:
        answers: list[Any] = []
        request = threading.Thread(target=lambda: answers.append(
            server.post("/v1/verify", sleeper(0, 1.0))))
        request.start()
        time.sleep(0.5)
        runners = children_of(server.process.pid)  # the server starts no other process
        assert runners
        for pid in runners:
            os.kill(pid, signal.SIGKILL)  # the runner dies under its job
        request.join(60)
        assert not request.is_alive()
        status, body, _ = answers[0]
        assert status == 200  # the job ran again on a new runner
        assert body["result"]["status"] == "passed"
        status, body, _ = server.post("/v1/verify", {"id": "next", "code": "x = 1",
                                                     "tests": "assert x == 1"})
        assert status == 200 and body["result"]["passed"]


def test_a_slow_client_gets_408_and_others_are_served_meanwhile() -> None:
    with serve("--workers", "1", "--io-timeout", "1") as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
            connection.sendall(b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: "
                               b"application/json\r\nContent-Length: 100\r\n\r\n{\"id\":")
            start = time.monotonic()
            status, body, _ = server.post("/v1/verify", {"id": "a", "code": "x = 1",
                                                         "tests": "assert x == 1"})
            assert status == 200
            answer = ""
            while not answer.endswith("}") and time.monotonic() - start < 10:
                chunk = connection.recv(4096).decode()
                if not chunk:
                    break
                answer += chunk
            assert time.monotonic() - start < 5
        assert answer.startswith("HTTP/1.1 408") and "did not arrive within 1 s" in answer
