"""``codesynth generate``'s exits: nothing kept, a budget stop, Ctrl-C, a dead or unreachable
model server; the progress line and the rejection log while nothing is kept."""

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
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Run, squash
from tests.openai_server import Request, ScriptedServer
from tests.test_generate import REPO, SEEDS, scripted

NOTHING = "[Problem Description]\nNothing to see.\n[Solution]\nNo code."  # no_code, always
ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def generate(run: Run, server: ScriptedServer, tmp_path: Path, method: str, n: int,
             *extra: str) -> tuple[int, str, str]:
    return run("generate", method, "--seeds", SEEDS, "--n", str(n), "-o",
               tmp_path / "out.jsonl", "--base-url", server.base_url, "--cache",
               tmp_path / "cache.sqlite", *extra)


def test_a_run_that_keeps_nothing_says_so_and_exits_1(run: Run, tmp_path: Path) -> None:
    with ScriptedServer(lambda r: NOTHING) as server:
        code, out, err = generate(run, server, tmp_path, "oss-instruct", 2, "--param",
                                  "max_requests=4", "--json")
        assert server.count == 4
    assert code == 1
    assert "0 records kept (exit status 1; --allow-empty accepts this)" in err
    assert json.loads(out)["kept"] == 0
    rejected = lines(tmp_path / "out.jsonl.rejected.jsonl")
    assert [r["reason"] for r in rejected].count("no_code") == 4  # logged though none kept


def test_allow_empty_accepts_a_run_that_keeps_nothing(run: Run, tmp_path: Path) -> None:
    with ScriptedServer(lambda r: NOTHING) as server:
        code, _, err = generate(run, server, tmp_path, "oss-instruct", 2, "--param",
                                "max_requests=3", "--allow-empty")
    assert code == 0
    assert "0recordskept;therejectionsarein" in squash(err)


def test_progress_line_every_interval_while_nothing_is_kept(run: Run, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    monkeypatch.setenv("CODESYNTH_PROGRESS_INTERVAL", "0.2")
    with ScriptedServer(lambda r: NOTHING, latency=0.35) as server:
        code, _, err = generate(run, server, tmp_path, "oss-instruct", 2, "--param",
                                "max_requests=4", "--concurrency", "1", "--allow-empty")
    assert code == 0
    progress = [line for line in err.splitlines() if line.startswith("oss-instruct: 0/2 kept;")]
    assert len(progress) >= 4  # ~1.4 s of requests, a line every 0.2 s
    assert any("rejected: no_code" in line for line in progress)  # moved without a record
    sent = [int(re.search(r"(\d+) req", line).group(1)) for line in progress]  # type: ignore[union-attr]
    assert sent == sorted(sent) and sent[-1] >= 2


def test_a_bad_progress_interval_is_a_user_error(run: Run, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODESYNTH_PROGRESS_INTERVAL", "soon")
    with ScriptedServer(scripted) as server:
        code, _, err = generate(run, server, tmp_path, "self-instruct", 1)
        assert server.count == 0
    assert code == 2 and "CODESYNTH_PROGRESS_INTERVAL='soon'" in err


def test_a_budget_stop_reports_the_requests_really_sent(run: Run, tmp_path: Path) -> None:
    with ScriptedServer(scripted) as server:
        code, out, err = generate(run, server, tmp_path, "self-instruct", 50, "--concurrency",
                                  "2", "--budget-requests", "3", "--json")
        assert server.count == 3
    assert code == 0
    summary = json.loads(out)
    assert summary["requests_sent"] == 3 and summary["kept"] >= 1
    assert summary["stopped"] == "stopped: 3 request(s) sent, the request budget of 3 is " \
                                 "reached"
    assert "stopped: 3 request(s) sent" in err


def test_a_budget_that_allows_no_request_says_so(run: Run, tmp_path: Path) -> None:
    with ScriptedServer(scripted) as server:
        code, out, err = generate(run, server, tmp_path, "self-instruct", 2,
                                  "--budget-requests", "0", "--json")
        assert server.count == 0
    assert code == 1
    assert "stopped before sending any request: the request budget of 0 allows none" in err
    assert "spent" not in err and json.loads(out)["requests_sent"] == 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_server_is_exit_3_naming_the_url(run: Run, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_free_port()}/v1"
    code, _, err = run("generate", "self-instruct", "--seeds", SEEDS, "--n", "1", "-o",
                       tmp_path / "out.jsonl", "--base-url", url, "--cache",
                       tmp_path / "cache.sqlite")
    assert code == 3
    assert url in squash(err) or url in err
    assert "Traceback" not in err


def _command(out: Path, cache: Path, base_url: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "codesynth", "generate", "oss-instruct", "--seeds",
            str(SEEDS), "--n", "6", "-o", str(out), "--base-url", base_url, "--cache",
            str(cache), "--concurrency", "1", *extra]


def _wait_for(condition: Callable[[], bool], proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)


def _as_from_a_shell() -> None:
    """SIGINT as a shell leaves it to a command it starts (delivered, default action):
    whatever an earlier test left in this process's signal mask or dispositions, which a
    child inherits, must not decide this test."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_flushes_the_rejections_and_says_what_the_output_holds(tmp_path: Path) -> None:
    out, log = tmp_path / "out.jsonl", tmp_path / "out.jsonl.rejected.jsonl"
    with ScriptedServer(lambda r: NOTHING, latency=0.1) as server:
        proc = subprocess.Popen(_command(out, tmp_path / "c.sqlite", server.base_url), env=ENV,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                preexec_fn=_as_from_a_shell)
        _wait_for(lambda: len(lines(log)) >= 2, proc)  # written as they happen
        seen = len(lines(log))
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert f"interrupted: 0 record(s) kept in {out}" in " ".join(err.split())
    assert ".partial" not in err and not list(tmp_path.glob("*.partial"))
    logged = lines(log)
    assert len(logged) >= seen and len({r["id"] for r in logged}) == len(logged)
    assert lines(out) == []


def test_a_server_killed_mid_run_is_exit_3_then_a_resume_finishes(tmp_path: Path) -> None:
    out, cache = tmp_path / "out.jsonl", tmp_path / "c.sqlite"
    config = tmp_path / "llm.toml"
    config.write_text("[llm]\nmax_retries = 1\ntimeout = 5\n")
    with ScriptedServer(scripted) as whole:
        subprocess.run(_command(tmp_path / "whole.jsonl", tmp_path / "w.sqlite",
                                whole.base_url), env=ENV, check=True, capture_output=True)
    dead = threading.Event()

    def dying(request: Request) -> str:
        if dead.is_set():  # no answer: close() shuts the connection meanwhile
            time.sleep(1.0)
        return scripted(request)

    server = ScriptedServer(dying, latency=0.3).start()  # ~2 s for the whole run
    proc = subprocess.Popen(_command(out, cache, server.base_url, "--config", str(config)),
                            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: len(lines(out)) >= 2, proc)
    finally:
        dead.set()
        server.close()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 3, err
    kept = len(lines(out))
    assert 2 <= kept < 6
    assert server.base_url in "".join(err.split()), err
    assert f"{kept} record(s) kept in {out}" in " ".join(err.split())
    with ScriptedServer(scripted) as fresh:
        done = subprocess.run(_command(out, cache, fresh.base_url), env=ENV,
                              capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    records = lines(out)
    assert len(records) == 6 and len({r["id"] for r in records}) == 6
    assert out.read_text() == (tmp_path / "whole.jsonl").read_text()
    logged = lines(tmp_path / "out.jsonl.rejected.jsonl")  # the kill left no trace in it
    assert logged and len({r["id"] for r in logged}) == len(logged)
    assert logged == lines(tmp_path / "whole.jsonl.rejected.jsonl")
