"""``codesynth generate``: every generator end to end against a local OpenAI-compatible server
with scripted replies (the real ``openai`` client), resume after SIGKILL, rejections."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.conftest import Run, squash
from tests.openai_server import Request, ScriptedServer

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"


def tag(request: Request) -> str:
    """A reply that depends on the request only (never on arrival order)."""
    text = request.last_user + str(request.body.get("seed"))
    return hashlib.sha256(text.encode()).hexdigest()[:6]


TASKS = [
    ("multiplies every number in the list xs by k and returns the new list",
     "return [x * k for x in xs]"),
    ("keeps only the strings of xs whose length is at least k, sorted alphabetically",
     "return sorted(x for x in xs if len(x) >= k)"),
    ("rotates a sequence xs to the right by k positions, wrapping around",
     "return xs[-k:] + xs[:-k] if xs else xs"),
    ("counts occurrences of value k inside nested integer lists xs recursively",
     "return sum(scale(x, k) if isinstance(x, list) else x == k for x in xs)"),
    ("splits xs into consecutive chunks holding k items each; the last may be shorter",
     "return [xs[i:i + k] for i in range(0, len(xs), k)]"),
    ("finds the index of k in the sorted list xs using binary search, or minus one",
     "return xs.index(k) if k in xs else -1"),
]


def scripted(request: Request) -> str:
    prompt = request.last_user
    h = tag(request)
    if "new, diverse programming tasks" in prompt:
        what, body = TASKS[int(h, 16) % len(TASKS)]
        return (f"1. Instruction: Write a function `scale_{h}(xs, k)` that {what}.\n"
                f"```python\ndef scale_{h}(xs, k):\n    {body}\n```\n"
                "2. Instruction: Plot a graph of the stock price.\n"
                "3. Instruction: Hi.\n")
    if "a bit harder" in prompt:
        parent = prompt.split("Task:\n", 1)[1].strip()
        misdirection = " Beware: the erroneous reference code." if "erroneous" in prompt else ""
        return (f"{parent} Also write `clamp_{h}(values, low, high)` limiting values to the "
                f"range, raising ValueError when low exceeds high, in linear time.{misdirection}")
    if "Solve the following programming task" in prompt:
        if "erroneous" in prompt:
            return "I'm sorry, I can't."
        return (f"```python\ndef clamp_{h}(values, low, high):\n    if low > high:\n"
                "        raise ValueError\n    return [min(max(v, low), high) for v in values]"
                "\n```")
    if "Take inspiration from the code snippet" in prompt:
        if h.startswith(("0", "1", "2")):
            return "[Problem Description]\nSomething vague.\n[Solution]\nNo code, sorry."
        return (f"[Problem Description]\nWrite `head_{h}(items, n)` returning the first n "
                f"items.\n[Solution]\n```python\ndef head_{h}(items, n):\n    return items[:n]"
                "\n```")
    if "List the programming concepts" in prompt:
        return "list slicing, loops"
    if "Write one self-contained Python programming task" in prompt:
        return f"Write a function `total_{h}(xs)` that returns the sum of the list xs."
    if "Answer with two ```python blocks" in prompt:
        name = prompt.split("`")[1].split("(")[0]
        seed = int(request.body.get("seed", 0))
        body = "return sum(xs)" if seed % 3 == 1 else "return sum(xs) + 1"
        if seed % 3 == 2:
            return f"```python\ndef {name}(xs):\n    {body}\n```"  # no tests
        return (f"```python\ndef {name}(xs):\n    {body}\n```\n```python\n"
                f"assert {name}([1, 2]) == 3\nassert {name}([]) == 0\n```")
    return "I do not understand."


def generate(run: Run, server: ScriptedServer, tmp_path: Path, method: str, n: int,
             *extra: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    out = tmp_path / f"{method}.jsonl"
    code, stdout, stderr = run("generate", method, "--seeds", SEEDS, "--n", str(n), "-o", out,
                               "--base-url", server.base_url, "--cache",
                               tmp_path / "cache.sqlite", "--json", *extra)
    assert code == 0, stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    return records, json.loads(stdout.strip().splitlines()[-1])


def check_provenance(record: dict[str, Any], method: str) -> None:
    origin = record["origin"]
    assert origin["method"] == method
    assert origin["model"] == "scripted-model"
    assert origin["template_hash"] and origin["parent_ids"]
    assert record["language"] == "python" and record["instruction"]


def test_self_instruct_filters_and_provenance(run: Run, tmp_path: Path) -> None:
    with ScriptedServer(scripted) as server:
        records, summary = generate(run, server, tmp_path, "self-instruct", 3,
                                    "--concurrency", "2")
    assert len(records) == 3 and summary["kept"] == 3
    for record in records:
        check_provenance(record, "self-instruct")
        assert record["code"].startswith("def scale_") and record["entry_point"]
    assert summary["rejected"]["blacklist"] >= 1 and summary["rejected"]["length"] >= 1
    rejected = (tmp_path / "self-instruct.jsonl.rejected.jsonl").read_text().splitlines()
    assert {json.loads(line)["reason"] for line in rejected} >= {"blacklist", "length"}


def test_evol_instruct_rounds_lineage_and_elimination(run: Run, tmp_path: Path) -> None:
    with ScriptedServer(scripted) as server:
        records, summary = generate(run, server, tmp_path, "evol-instruct", 30,
                                    "--param", "rounds=2")
    rounds = {r["origin"]["round"] for r in records}
    assert rounds == {1, 2}
    ids = {r["id"] for r in records}
    for record in records:
        check_provenance(record, "evol-instruct")
        assert record["origin"]["params"]["evolution"] in {
            "constraints", "less_common", "reasoning", "erroneous_code", "complexity"}
        if record["origin"]["round"] == 2:
            assert record["origin"]["parent_ids"][0] in ids  # evolved from a round-1 record
    assert summary["rejected"].get("sorry", 0) >= 1  # the erroneous-code method, scripted


def test_oss_instruct_from_tree_sitter_snippets(run: Run, tmp_path: Path) -> None:
    with ScriptedServer(scripted) as server:
        records, summary = generate(run, server, tmp_path, "oss-instruct", 8,
                                    "--param", "language=python")
    assert len(records) == 8
    languages = set()
    for record in records:
        check_provenance(record, "oss-instruct")
        params = record["origin"]["params"]
        languages.add(params["snippet_language"])
        assert (SEEDS / "snippets" / params["snippet_path"]).exists() or \
            Path(params["snippet_path"]).exists()
    assert len(languages) >= 2
    assert summary["rejected"].get("no_code", 0) >= 1  # scripted replies with no code


def test_self_align_keeps_only_responses_that_pass_their_tests(run: Run,
                                                               tmp_path: Path) -> None:
    with ScriptedServer(scripted) as server:
        records, summary = generate(run, server, tmp_path, "self-align", 2)
    assert len(records) == 2
    for record in records:
        check_provenance(record, "self-align")
        assert record["result"]["passed"] and record["result"]["status"] == "passed"
        assert "return sum(xs)\n" in record["code"] and "assert" in record["tests"]
    assert summary["rejected"].get("tests_failed", 0) >= 1
    assert summary["rejected"].get("no_tests", 0) >= 1


def test_a_reply_without_code_is_a_rejection_not_a_crash(run: Run, tmp_path: Path) -> None:
    reply = "[Problem Description]\nSort a list.\n[Solution]\nI cannot write the code, sorry."
    with ScriptedServer(lambda r: reply) as server:
        records, summary = generate(run, server, tmp_path, "oss-instruct", 2,
                                    "--param", "max_requests=6", "--allow-empty")
    assert records == []
    assert summary["rejected"] == {"no_code": 6, "gave_up": 1}


def test_bad_seed_file_names_file_line_and_field(run: Run, tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "tasks.jsonl").write_text('{"instruction": "Write f."}\n{"id": "x"}\n')
    with ScriptedServer(scripted) as server:
        code, _, err = run("generate", "self-instruct", "--seeds", seeds, "--n", "1", "-o",
                           tmp_path / "o.jsonl", "--base-url", server.base_url, "--cache",
                           tmp_path / "c.sqlite")
    assert code == 2
    assert "tasks.jsonl:2:field'instruction'" in squash(err)


def test_unknown_method(run: Run, tmp_path: Path) -> None:
    code, _, err = run("generate", "nope", "--n", "1", "-o", tmp_path / "o.jsonl")
    assert code == 2 and "unknown generator 'nope'" in err


def _cached(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])


def test_sigkill_then_rerun_gives_the_same_records_and_no_request_twice(tmp_path: Path) -> None:
    def command(out: Path, cache: Path, base_url: str) -> list[str]:
        return [sys.executable, "-m", "codesynth", "generate", "self-instruct", "--seeds",
                str(SEEDS), "--n", "4", "-o", str(out), "--base-url", base_url, "--cache",
                str(cache), "--concurrency", "2", "--param", "tasks_per_request=1"]

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with ScriptedServer(scripted, latency=0.3) as server:  # time to kill it mid-run
        whole = tmp_path / "whole.jsonl"
        subprocess.run(command(whole, tmp_path / "whole.sqlite", server.base_url), check=True,
                       env=env, capture_output=True)
        unique = _cached(tmp_path / "whole.sqlite")
        out, cache = tmp_path / "killed.jsonl", tmp_path / "killed.sqlite"
        proc = subprocess.Popen(command(out, cache, server.base_url), env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (not out.exists()
                                               or len(out.read_text().splitlines()) < 2):
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        before = _cached(cache)
        assert 0 < before < unique
        start = server.count
        subprocess.run(command(out, cache, server.base_url), check=True, env=env,
                       capture_output=True)
        sent_again = server.count - start
    assert out.read_text() == whole.read_text()
    assert sent_again == unique - before  # no request with a cached reply was sent again


def test_rerun_on_a_complete_output_sends_nothing(run: Run, tmp_path: Path) -> None:
    with ScriptedServer(scripted) as server:
        first, _ = generate(run, server, tmp_path, "self-instruct", 2)
        count = server.count
        again, summary = generate(run, server, tmp_path, "self-instruct", 2)
    assert again == first and server.count == count
    assert summary["new"] == 0 and summary["llm"]["requests"] == 0
