"""``codesynth run`` when the model fails: a server that dies mid-run stops the run (exit 3,
with the cause) and leaves its stage incomplete; a re-run against a working server does the
missing work and gives the dataset of an uninterrupted run. A run that keeps nothing fails
(exit 1) unless allowed. Progress moves while the model is slow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import Run, squash
from tests.openai_server import Fault, Request, ScriptedServer, fixed
from tests.test_pipeline import REPO, dataset, pipeline, reply, stable

ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def cli(path: Path, *extra: str,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "codesynth", "run", str(path), *extra],
                          env=env or ENV, capture_output=True, text=True, timeout=300)


def fast_failing(path: Path) -> None:
    """One attempt per request: a dead server is found out at once."""
    path.write_text(path.read_text().replace("concurrency = 2", "concurrency = 2\n"
                                             "max_retries = 0\ntimeout = 5"))


@pytest.mark.parametrize("deaths_after", [2, 12], ids=["in-generate", "in-solve"])
def test_a_server_that_dies_stops_the_run_and_a_rerun_finishes_it(tmp_path: Path,
                                                                  deaths_after: int) -> None:
    with ScriptedServer(reply) as server:
        whole = pipeline(tmp_path, server.base_url, name="whole")
        fast_failing(whole)
        assert cli(whole).returncode == 0
        uninterrupted = server.count
    run_dir = tmp_path / "run-broken"
    server = ScriptedServer(reply, latency=0.25).start()  # slow: the run outlasts the poll
    try:
        broken = pipeline(tmp_path, server.base_url, name="broken")
        fast_failing(broken)
        proc = subprocess.Popen([sys.executable, "-m", "codesynth", "run", str(broken)],
                                env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True)
        deadline = time.monotonic() + 120
        while server.answered < deaths_after and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        server.close()  # the server dies: connections refused from now on
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 3, err
    assert "Traceback" not in err
    assert "runthesamecommandagain" in squash(err), err
    state = json.loads((run_dir / "state.json").read_text())
    assert "solve" not in state["completed"]
    assert not (run_dir / "dataset").exists()
    with ScriptedServer(reply) as server:  # another server (another port): the same run
        fixed_file = pipeline(tmp_path, server.base_url, name="broken")
        fast_failing(fixed_file)
        done = cli(fixed_file)
        assert done.returncode == 0, done.stderr
        assert 0 < server.count < uninterrupted  # only the missing work was asked
    assert stable(dataset(run_dir)) == stable(dataset(tmp_path / "run-whole"))
    assert stable(dataset(run_dir))["verified.jsonl"]


@pytest.mark.parametrize("failing", ["new, diverse programming tasks", "count_vowels"],
                         ids=["in-generate", "in-solve"])
def test_requests_that_fail_for_good_leave_the_stage_to_retry(tmp_path: Path,
                                                              failing: str) -> None:
    """The server answers, but not some requests (HTTP 500 every time): no answer is no
    verdict. The stage stays incomplete (exit 3); a re-run asks those again, and gives the
    dataset of a run where they never failed."""

    def flaky(request: Request) -> str | Fault:
        if failing in request.last_user and int(request.body.get("seed", 0)) == 1:
            return Fault(500, "the GPU fell over")
        return reply(request)

    with ScriptedServer(reply) as server:
        whole = pipeline(tmp_path, server.base_url, name="whole")
        fast_failing(whole)
        assert cli(whole).returncode == 0
    run_dir = tmp_path / "run-flaky"
    with ScriptedServer(flaky) as server:
        path = pipeline(tmp_path, server.base_url, name="flaky")
        fast_failing(path)
        failed = cli(path)
    assert failed.returncode == 3, failed.stderr
    assert "gotnoanswerfromthemodel" in squash(failed.stderr)
    assert "GPUfellover" in squash(failed.stderr) and "Traceback" not in failed.stderr
    state = json.loads((run_dir / "state.json").read_text())
    assert "solve" not in state["completed"]
    with ScriptedServer(reply) as server:
        path = pipeline(tmp_path, server.base_url, name="flaky")
        fast_failing(path)
        done = cli(path)
    assert done.returncode == 0, done.stderr
    assert stable(dataset(run_dir)) == stable(dataset(tmp_path / "run-whole"))


def test_a_stage_marked_complete_with_failed_requests_is_done_again(tmp_path: Path) -> None:
    """Runs of an earlier codesynth marked a generate stage whose requests all failed as
    complete: it is done again (with what follows it), not taken as a verdict."""
    with ScriptedServer(reply) as server:
        path = pipeline(tmp_path, server.base_url, name="old")
        fast_failing(path)
        assert cli(path).returncode == 0
        run_dir = tmp_path / "run-old"
        state = json.loads((run_dir / "state.json").read_text())
        state["completed"] = ["generate"]
        state["counts"] = {"generate": {"in": 40, "out": 0,
                                        "rejected": {"self-instruct:request_failed": 40}}}
        (run_dir / "state.json").write_text(json.dumps(state))
        (run_dir / "stages/01-generate.jsonl").write_text("")
        for stage in run_dir.glob("stages/0[2-9]-*.jsonl"):
            stage.unlink()
        before = dataset(run_dir)
        done = cli(path, "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["stages"]["generate"]["out"] == 5
    assert stable(dataset(run_dir)) == stable(before)


SEED_ONLY = """
[run]
output = "{output}"
{extra}
[llm]
base_url = "{base_url}"
[[generate]]
method = "seed-tasks"
n = 2
seeds = "{seeds}"
[solve]
samples = 1
[decontaminate]
execution = false
[export]
formats = ["jsonl"]
"""


def test_a_run_that_keeps_nothing_fails_unless_allowed(run: Run, tmp_path: Path) -> None:
    def write(extra: str = "") -> Path:
        path = tmp_path / "empty.toml"
        path.write_text(SEED_ONLY.format(output=tmp_path / "run", base_url=server.base_url,
                                         seeds=REPO / "seeds", extra=extra))
        return path

    with ScriptedServer(fixed("```python\ndef wrong():\n    return 0\n```")) as server:
        code, _, err = run("run", write())
        assert code == 1, err
        assert "error:therunkept0records" in squash(err)
        assert "--allow-empty" in err
        code, _, err = run("run", write(), "--allow-empty")
        assert code == 0 and "warning:therunkept0records" in squash(err), err
        code, _, err = run("run", write("allow_empty = true"))
        assert code == 0, err
    assert (tmp_path / "run/dataset/verified.jsonl").read_text() == ""


def test_progress_moves_while_the_model_is_slow(tmp_path: Path) -> None:
    """Stderr not a terminal: a plain line now and then, with requests, elapsed and rate,
    although no task is finished yet."""

    def slow(request: Request) -> str:
        time.sleep(0.6)
        return reply(request)

    with ScriptedServer(slow) as server:
        path = pipeline(tmp_path, server.base_url, n=2, name="slow")
        done = cli(path, env={**ENV, "CODESYNTH_PROGRESS_INTERVAL": "0.25"})
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("solve: in ")]
    assert len(lines) >= 3, done.stderr
    asked = [line for line in lines if "requests" in line and "tokens" in line]
    assert len(asked) >= 2 and "in 0/" in asked[0]  # moving before any task is done
    assert len({line.split("requests ")[1].split(",")[0] for line in asked}) > 1
    elapsed = [line.split("elapsed ")[1][:7] for line in lines]
    assert len(set(elapsed)) > 1  # the clock moves between lines


def test_the_terminal_row_recomputes_rate_and_eta_while_waiting() -> None:
    import io

    from rich.console import Console

    from codesynth.pipeline.stages import Counts
    from codesynth.pipeline.view import View

    view = View(Console(file=io.StringIO(), force_terminal=True, width=200), interval=60)
    with view:
        tick = view.start("solve", 10)
        tick(Counts(inputs=1))
        tick(Counts(inputs=3))
        task = view.progress.tasks[0]
        row = view.by_task[task.id]
        first = (row.rate(), row.eta(), row.elapsed())
        time.sleep(0.3)  # no reply meanwhile
        second = (row.rate(), row.eta(), row.elapsed())
    assert first[0] is not None and second[0] is not None
    assert second[0] < first[0] and second[1] > first[1] and second[2] > first[2]
