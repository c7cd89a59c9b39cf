"""``--executor ray`` against a real Ray cluster of two nodes on this machine (a head and a
worker, separate processes started and stopped here): verify, eval and a whole pipeline write
what a local run writes; killing a node, or the driver, mid-run loses and duplicates nothing.

Outputs are compared as the resume tests compare them: every byte but the fields that measure
a run (time, memory, the worker's uid), which two local runs do not share either.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codesynth.humaneval import load_problems
from tests.conftest import BACKENDS, in_ci, open_or_skip, squash
from tests.openai_server import Request, ScriptedServer
from tests.test_generate import SEEDS, scripted
from tests.test_model_endpoints import Meter, finish, load, servers
from tests.test_pipeline import dataset, pipeline, reply, stable
from tests.test_resume_verify import (
    WORKER_UID,
    codesynth,
    complete_lines,
    normalized_file,
    partial_of,
    records,
    write_jsonl,
)

try:
    import ray  # noqa: F401 - only to know whether the extra is installed
except ImportError:  # pragma: no cover - CI installs codesynth[ray]: there this fails
    if in_ci():
        raise
    pytest.skip("Ray is not installed (pip install 'codesynth[ray]')", allow_module_level=True)

from tests.ray_cluster import RayCluster  # noqa: E402

# A loaded 2-core machine starts a Ray node in 10-60 s: more than the suite's 300 s per test
# may be needed by the first test (it starts the cluster) and by the node-kill test.
pytestmark = pytest.mark.timeout(900)

FAST = ["--timeout", "10", "--memory-mb", "256"]
LOCAL = [*FAST, "--workers", "2"]  # the same cores as the two one-CPU nodes


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RayCluster]:
    nodes = RayCluster(tmp_path_factory.mktemp("ray"))
    try:
        nodes.start_head()
        nodes.add_node()
        yield nodes
    finally:
        nodes.stop()


def on_ray(cluster: RayCluster) -> list[str]:
    return ["--executor", "ray", "--ray-address", cluster.address]


@pytest.mark.parametrize("backend", BACKENDS)
def test_verify_on_two_nodes_writes_the_local_output(cluster: RayCluster, tmp_path: Path,
                                                     backend: str) -> None:
    if backend == "docker":
        open_or_skip("docker", workers=1).close()  # no engine here: skipped, and said why
    source = write_jsonl(tmp_path / "in.jsonl", records(150))
    local, remote = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    chosen = ["--sandbox", backend]
    done = codesynth("verify", source, "-o", local, *LOCAL, *chosen, "--json")
    assert done.returncode == 0, done.stderr
    spread = codesynth("verify", source, "-o", remote, *FAST, *chosen, *on_ray(cluster),
                       "--json")
    assert spread.returncode == 0, spread.stderr
    assert f"ray executor: 2 node(s), 2 {backend} sandbox worker(s)" in spread.stderr
    assert normalized_file(remote) == normalized_file(local)
    ours, theirs = json.loads(spread.stdout), json.loads(done.stdout)
    assert ours["by_status"] == theirs["by_status"] and ours["total"] == 150


def test_serve_on_two_nodes_gives_the_cli_verdicts(cluster: RayCluster, tmp_path: Path) -> None:
    """``codesynth serve --executor ray`` spreads its jobs over the cluster: the verdicts of
    ``/v1/verify`` are ``codesynth verify``'s on this machine."""
    from tests.serve_server import serve
    from tests.test_cli_verify import EXPECTED_STATUS, MIXED
    from tests.test_serve import comparable

    source = write_jsonl(tmp_path / "in.jsonl", MIXED)
    done = codesynth("verify", source, "-o", tmp_path / "local.jsonl", *LOCAL)
    assert done.returncode == 0, done.stderr
    cli = [json.loads(line) for line in (tmp_path / "local.jsonl").read_text().splitlines()]
    with serve(*FAST, "--workers", "2", *on_ray(cluster)) as server:
        status, body, _ = server.post("/v1/verify", {"records": MIXED})
    assert status == 200, body
    served = body["records"]
    assert [r["result"]["status"] for r in served] == EXPECTED_STATUS
    for ours, theirs in zip(served, cli, strict=True):
        assert comparable(ours["result"]) == comparable(theirs["result"])


def test_eval_on_two_nodes_scores_as_locally(cluster: RayCluster, tmp_path: Path) -> None:
    problems = list(load_problems().items())[:40]
    samples = []
    for index, (task_id, problem) in enumerate(problems):
        samples.append({"task_id": task_id, "completion": problem["canonical_solution"]})
        samples.append({"task_id": task_id, "completion": "    return None\n"
                        if index % 3 == 0 else problem["canonical_solution"]})
    source = write_jsonl(tmp_path / "samples.jsonl", samples)
    problem_file = write_jsonl(tmp_path / "problems.jsonl", [p for _, p in problems])
    local, remote = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    common = ["eval", "humaneval", source, "--problems", problem_file, "-k", "1,2", "--json"]
    done = codesynth(*common, "-o", local, *LOCAL)
    assert done.returncode == 0, done.stderr
    spread = codesynth(*common, "-o", remote, *FAST, *on_ray(cluster))
    assert spread.returncode == 0, spread.stderr
    assert normalized_file(remote, "trace") == normalized_file(local, "trace")
    ours, theirs = json.loads(spread.stdout), json.loads(done.stdout)
    assert ours["pass_at_k"] == theirs["pass_at_k"]
    assert 0 < ours["pass_at_k"]["pass@1"] < ours["pass_at_k"]["pass@2"]


def test_a_pipeline_on_the_cluster_builds_the_local_dataset(cluster: RayCluster,
                                                            tmp_path: Path) -> None:
    with ScriptedServer(reply) as server:
        local = pipeline(tmp_path, server.base_url, name="local")
        remote = pipeline(tmp_path, server.base_url, name="ray")
        remote.write_text(remote.read_text() + f'\n[executor]\nname = "ray"\n'
                                                f'address = "{cluster.address}"\n')
        done = codesynth("run", local, "--json")
        assert done.returncode == 0, done.stderr
        spread = codesynth("run", remote, "--json")
        assert spread.returncode == 0, spread.stderr
    assert "ray executor: 2 node(s)" in spread.stderr
    ours, theirs = json.loads(spread.stdout), json.loads(done.stdout)
    assert ours["digest"] == theirs["digest"]  # [executor] changes where, never what
    assert ours["stages"] == theirs["stages"]
    ours_files, theirs_files = dataset(tmp_path / "run-ray"), dataset(tmp_path / "run-local")
    assert ours_files and stable(ours_files) == stable(theirs_files)


MEASURES = ("duration", "cpu_time", "memory_peak_mb")


LOAD_DEPENDENT = ("reason", "signal", "limit")  # of a timeout: which limit ended it


def measured_out(value: Any) -> Any:
    """A record without what measures a run, wherever it sits (pairs and chains nest
    traces): time, memory, the worker's uid in ``isolation``, and which limit stopped a
    program that timed out (a looping mutant ends at the CPU or the wall limit depending on
    the machine's load: two local runs differ there too; that it timed out does not)."""
    if isinstance(value, dict):
        drop = MEASURES + (LOAD_DEPENDENT if value.get("status") == "timeout" else ())
        return {key: (WORKER_UID.sub("uid N", item) if key == "isolation" else
                      measured_out(item)) for key, item in value.items()
                if key not in drop}
    if isinstance(value, list):
        return [measured_out(item) for item in value]
    return value


def rows_of(path: Path) -> list[Any]:
    return [measured_out(json.loads(line)) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("command", ["bugs", "lintseq", "repairs"])
def test_the_other_commands_on_two_nodes_write_the_local_output(
        cluster: RayCluster, tmp_path: Path, command: str) -> None:
    problems = list(load_problems().values())[:12]
    rows = [{"id": p["task_id"], "task_id": p["task_id"], "instruction": p["prompt"],
             "code": p["prompt"] + p["canonical_solution"], "tests": p["test"],
             "test_style": "humaneval", "entry_point": p["entry_point"]} for p in problems]
    if command == "repairs":  # its input: verified candidates, some failing, per task
        rows += [{**row, "id": f"{row['id']}-bad", "code": row["instruction"] + "    return None\n"}
                 for row in rows]
        done = codesynth("verify", write_jsonl(tmp_path / "c.jsonl", rows), "-o",
                         tmp_path / "v.jsonl", *LOCAL)
        assert done.returncode == 0, done.stderr
        source = tmp_path / "v.jsonl"
    else:
        source = write_jsonl(tmp_path / "in.jsonl", rows)
    options = {"bugs": ["--per-sample", "3", "--timeout", "2"],  # the sandbox: these options
               "lintseq": ["--samples", "2", "--verified"], "repairs": ["--select-fixes"]}
    local, remote = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    done = codesynth(command, source, "-o", local, *LOCAL, *options[command])
    assert done.returncode == 0, done.stderr
    spread = codesynth(command, source, "-o", remote, *FAST, *on_ray(cluster),
                       *options[command])
    assert spread.returncode == 0, spread.stderr
    assert "ray executor: 2 node(s)" in spread.stderr
    assert rows_of(local) and rows_of(remote) == rows_of(local)


class Counted:
    """``scripted`` for several servers at once, measuring the requests they hold together."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = self.peak = 0

    def __call__(self, request: Request) -> str:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        try:
            time.sleep(0.02)
            return scripted(request)
        finally:
            with self.lock:
                self.now -= 1


def test_generate_on_the_cluster_with_two_model_servers_writes_the_local_output(
        cluster: RayCluster, tmp_path: Path) -> None:
    counted = Counted()
    started = [ScriptedServer(counted).start() for _ in range(2)]
    try:
        common = ["generate", "self-align", "--seeds", SEEDS, "--n", "4",
                  "--base-url", started[0].base_url, "--json"]
        done = codesynth(*common, "-o", tmp_path / "local.jsonl", "--cache",
                         tmp_path / "local.sqlite", *LOCAL)
        assert done.returncode == 0, done.stderr
        alone = started[0].count
        counted.peak = 0
        spread = codesynth(*common, "-o", tmp_path / "ray.jsonl", "--cache",
                           tmp_path / "ray.sqlite", *FAST, *on_ray(cluster),
                           "--endpoint", started[1].base_url, "--model-concurrency", "2")
        assert spread.returncode == 0, spread.stderr
    finally:
        for server in started:
            server.close()
    assert "ray executor: 2 node(s)" in spread.stderr
    assert started[1].count > 0 and started[0].count > alone  # both servers answered
    assert 1 <= counted.peak <= 2  # --model-concurrency, over both servers
    assert rows_of(tmp_path / "ray.jsonl") == rows_of(tmp_path / "local.jsonl")
    rows = rows_of(tmp_path / "local.jsonl")  # verified in the sandbox: on the nodes
    assert len(rows) == 4 and all(row["result"]["passed"] for row in rows)


THREADS = """
import sys, threading
from codesynth.executors import open_sandbox
from codesynth.records import Job, Limits
box = open_sandbox("ray", "local", sys.argv[1], limits=Limits(timeout=10, memory_mb=256))
seen = {}
def one(t):
    jobs = [Job(id=f"{t}-{i}", code=f"print({t * 1000 + i})", tests="assert True")
            for i in range(60)]
    seen[t] = [e.stdout.strip() for e in box.run_many(jobs)]
threads = [threading.Thread(target=one, args=(t,)) for t in range(4)]
for thread in threads: thread.start()
for thread in threads: thread.join(300)
box.close()
for t in range(4):
    assert seen.get(t) == [str(t * 1000 + i) for i in range(60)], (t, seen.get(t))
print("ok")
"""


def test_threads_sharing_one_ray_sandbox_each_get_their_own_results_in_order(
        cluster: RayCluster) -> None:
    # Generators call run_many from several threads at once (asyncio.to_thread).
    done = subprocess.run([sys.executable, "-c", THREADS, cluster.address], text=True,
                          capture_output=True, timeout=600)
    assert done.returncode == 0 and done.stdout.split()[-1:] == ["ok"], done.stderr[-3000:]


def run_until(argv: list[str], partial: Path, lines: int) -> subprocess.Popen[str]:
    """``codesynth *argv`` in its own session, returned once ``partial`` has ``lines`` lines."""
    proc = subprocess.Popen([sys.executable, "-m", "codesynth", *argv], text=True,
                            start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "COLUMNS": "300"})
    deadline = time.monotonic() + 180
    while complete_lines(partial) < lines:
        if proc.poll() is not None or time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            _, err = proc.communicate(timeout=30)
            pytest.fail(f"no kill point reached (exit {proc.returncode}): {err[-3000:]}")
        time.sleep(0.02)
    return proc


def test_killing_a_node_mid_run_loses_and_duplicates_nothing(cluster: RayCluster,
                                                             tmp_path: Path) -> None:
    rows = records(400, sleep=0.03)
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    reference, out = tmp_path / "reference.jsonl", tmp_path / "out.jsonl"
    done = codesynth("verify", source, "-o", reference, *LOCAL)
    assert done.returncode == 0, done.stderr

    doomed = cluster.add_node()  # head, worker, and this one: killed mid-run
    proc = run_until(["verify", str(source), "-o", str(out), *FAST, *on_ray(cluster),
                      "--json"], partial_of(out), 40)
    cluster.kill(doomed)
    killed_at = complete_lines(partial_of(out))
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr[-3000:]
    assert "ray executor: 3 node(s)" in stderr
    assert killed_at < len(rows)  # the kill landed mid-run
    assert "runs again" in stderr  # the dead node had batches: they ran elsewhere
    assert normalized_file(out) == normalized_file(reference)
    assert len(out.read_bytes().splitlines()) == len(rows)
    assert json.loads(stdout)["total"] == len(rows)


def test_a_killed_driver_resumes_on_the_cluster(cluster: RayCluster, tmp_path: Path) -> None:
    rows = records(300, sleep=0.02)
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    reference, out = tmp_path / "reference.jsonl", tmp_path / "out.jsonl"
    done = codesynth("verify", source, "-o", reference, *LOCAL)
    assert done.returncode == 0, done.stderr
    argv = ["verify", str(source), "-o", str(out), *FAST, *on_ray(cluster)]
    proc = run_until(argv, partial_of(out), 30)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    before = partial_of(out).read_bytes()
    assert not out.exists()

    again = codesynth(*argv, "--json")
    assert again.returncode == 0, again.stderr
    assert "resuming" in again.stderr
    text = out.read_bytes()
    assert text.startswith(before[:before.rindex(b"\n") + 1])  # kept, byte for byte
    assert normalized_file(out) == normalized_file(reference)
    assert json.loads(again.stdout)["resumed"] == before.count(b"\n")


def test_two_drivers_share_the_model_servers_under_one_cluster_wide_limit(
        cluster: RayCluster) -> None:
    meter = Meter()
    started = servers(meter)
    try:
        urls = [server.base_url for server in started]
        options = ["--count", "30", "--concurrency", "3", *on_ray(cluster)]
        drivers = [load(urls, *options, "--tag", tag) for tag in ("a", "b")]
        results = [finish(proc, tag, 30) for proc, tag in zip(drivers, ("a", "b"), strict=True)]
    finally:
        for server in started:
            server.close()
    assert meter.peak == 3  # each driver alone would hold 3: together, still 3
    assert all(server.count >= 10 for server in started), [s.count for s in started]
    assert all(sum(r["sent"].values()) == 30 for r in results)  # type: ignore[union-attr]


# ---------------------------------------------------------------------------------------------
# no cluster: the local executor needs no Ray; mistakes are said before any work


def test_the_local_executor_never_imports_ray(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", records(5))
    code = ("import sys\nfrom codesynth.cli import main\n"
            f"code = main(['verify', {str(source)!r}, '-o', {str(tmp_path / 'o.jsonl')!r}, "
            "'--executor', 'local', '--workers', '1'])\n"
            "assert code == 0, code\nassert 'ray' not in sys.modules, 'ray imported'\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("argv, message", [
    (["--executor", "nosuch"], "unknown executor 'nosuch' (known: local, ray)"),
    (["--ray-address", "127.0.0.1:1"], "--ray-address applies to --executor ray only"),
])
def test_a_bad_executor_is_said_and_nothing_runs(tmp_path: Path, argv: list[str],
                                                 message: str) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", records(3))
    done = codesynth("verify", source, "-o", tmp_path / "o.jsonl", *argv)
    assert done.returncode == 2, done.stderr
    assert squash(message) in squash(done.stderr)
    assert not (tmp_path / "o.jsonl").exists()


def test_without_ray_installed_the_ray_executor_says_how_to_get_it(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", records(3))
    code = ("import sys\nsys.modules['ray'] = None\nfrom codesynth.cli import main\n"
            f"sys.exit(main(['verify', {str(source)!r}, '-o', "
            f"{str(tmp_path / 'o.jsonl')!r}, '--executor', 'ray']))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "COLUMNS": "300"})
    assert done.returncode == 2, done.stderr
    assert "pip install 'codesynth[ray]'" in done.stderr


@pytest.mark.parametrize("table, key, message", [
    ('name = "slurm"', "name", "unknown executor 'slurm' (known: local, ray)"),
    ('address = "127.0.0.1:6379"', "address", 'applies to name = "ray" only'),
    ('name = "ray"\naddress = 3', "address", "expected a non-empty string, got 3"),
])
def test_a_pipeline_with_a_bad_executor_is_refused_at_its_line(
        tmp_path: Path, table: str, key: str, message: str) -> None:
    path = pipeline(tmp_path, "http://127.0.0.1:9/v1")
    path.write_text(path.read_text() + f"\n[executor]\n{table}\n")
    lines = path.read_text().splitlines()
    start = lines.index("[executor]")
    line = next(n for n, text in enumerate(lines, 1) if n > start and text.startswith(key))
    done = codesynth("run", path)
    assert done.returncode == 2, done.stderr
    assert squash(f"{path}:{line}: [executor] {key}: {message}") in squash(done.stderr)
    assert not (tmp_path / "run-p").exists()
