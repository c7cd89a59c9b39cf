"""``codesynth run``: the whole pipeline against a scripted OpenAI-compatible server, resumed
after SIGKILLs at several points, with dedup, execution-based decontamination and export."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Run, squash
from tests.openai_server import Request, ScriptedServer

REPO = Path(__file__).resolve().parent.parent

CATALOG = {
    "scale_list": ("Write a function `scale_list(xs, k)` that multiplies every number of xs "
                   "by k and returns the new list.",
                   "def scale_list(xs, k):\n    return [x * k for x in xs]\n",
                   "assert scale_list([1, 2], 3) == [3, 6]\nassert scale_list([], 2) == []\n"),
    "count_vowels": ("Write a function `count_vowels(s)` that counts the vowels (a, e, i, o, "
                     "u) in the string s, ignoring case.",
                     "def count_vowels(s):\n    return sum(c in 'aeiou' for c in s.lower())\n",
                     "assert count_vowels('Hello') == 2\nassert count_vowels('xyz') == 0\n"),
    # HumanEval/0 reworded: new names, new docstring. No 10-gram in common with it.
    "near_pair": ("Write a function `near_pair(values, gap)` that tells whether some two "
                  "entries of the list sit nearer than gap apart.",
                  "def near_pair(values, gap):\n    for i, a in enumerate(values):\n"
                  "        for j, b in enumerate(values):\n"
                  "            if i != j and abs(a - b) < gap:\n                return True\n"
                  "    return False\n",
                  "assert near_pair([1.0, 2.0, 3.9], 0.5) is False\n"
                  "assert near_pair([1.0, 1.2], 0.5) is True\n"),
    "total": ("Write a function `total(xs)` that returns the sum of the numbers in xs.",
              "def total(xs):\n    return sum(xs)\n",
              "assert total([1, 2, 3]) == 6\nassert total([]) == 0\n"),
    "total_again": ("Create `total(xs)`: add up every value of the list xs, then give back "
                    "that amount to the caller.",
                    "def total(xs):\n    return sum(xs)\n",
                    "assert total([4]) == 4\n"),
}
ORDER = list(CATALOG)


def reply(request: Request) -> str:
    prompt, seed = request.last_user, int(request.body.get("seed", 0))
    if "new, diverse programming tasks" in prompt:
        key = ORDER[seed % len(ORDER)]
        instruction, code, _ = CATALOG[key]
        return f"1. Instruction: {instruction}\n```python\n{code}```\n"
    key = next(k for k, (instruction, _, _) in CATALOG.items() if instruction in prompt)
    _, code, tests = CATALOG[key]
    if "assert statements" in prompt:
        return f"```python\n{tests}```"
    if seed == 0:
        return "```python\n" + code.replace("return", "return 0 and", 1) + "```"
    return f"Here:\n```python\n{code}```"


def pipeline(tmp_path: Path, base_url: str, n: int = 5, name: str = "p") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(f"""
[run]
name = "{name}"
output = "{tmp_path / ('run-' + name)}"

[llm]
base_url = "{base_url}"
concurrency = 2

[sandbox]
timeout = 5
memory_mb = 512

[[generate]]
method = "self-instruct"
n = {n}
seeds = "{REPO / 'seeds'}"
params = {{ tasks_per_request = 1 }}

[solve]
samples = 3

[decontaminate]
benchmarks = ["humaneval"]

[export]
formats = ["jsonl", "hf", "parquet"]

[bugs]
per_sample = 2
""")
    return path


def dataset(run_dir: Path) -> dict[str, str]:
    folder = run_dir / "dataset"
    return {p.name: p.read_text() for p in sorted(folder.glob("*.jsonl"))}


MEASURED = ("duration", "cpu_time", "memory_peak_mb", "isolation")


def stable(files: dict[str, str]) -> dict[str, list[Any]]:
    """A dataset without what measures the run rather than the program: the timings of the
    verify traces in ``result`` (two runs, interrupted or not, measure differently)."""
    result: dict[str, list[Any]] = {}
    for name, text in files.items():
        rows = [json.loads(line) for line in text.splitlines()]
        for row in rows:
            trace = row.get("result") or {}
            for part in (trace, *trace.get("tests", ())):
                for key in MEASURED:
                    part.pop(key, None)
        result[name] = rows
    return result


def test_pipeline_end_to_end(run: Run, tmp_path: Path) -> None:
    with ScriptedServer(reply) as server:
        code, out, err = run("run", pipeline(tmp_path, server.base_url), "--json")
    assert code == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    stages = summary["stages"]
    assert stages["generate"]["out"] == 5
    assert stages["solve"]["in"] == 15 and stages["verify"]["rejected"] == {"tests_failed": 5}
    assert stages["filter"]["out"] == 5  # one passing solution per task
    assert stages["dedup"]["rejected"] == {"exact_duplicate_code": 1}
    # Execution catches the reworded HumanEval/0 solution; n-gram overlap does not.
    report = summary["decontamination"]
    assert report["ngram"] == [] and [m[1] for m in report["execution"]] == ["HumanEval/0"]
    assert stages["decontaminate"]["out"] == 3
    run_dir = tmp_path / "run-p"
    rows = [json.loads(line) for line in (run_dir / "dataset/verified.jsonl").read_text()
            .splitlines()]
    assert sorted(r["entry_point"] for r in rows) == ["count_vowels", "scale_list", "total"]
    from codesynth.pipeline.export import FIELDS

    for row in rows:
        provenance = row["provenance"]
        assert provenance["origin"]["method"] == "self-instruct"
        assert provenance["verification"]["passed"] is True
        # The verify format: the verify stage's trace of this very candidate.
        assert list(row) == list(FIELDS["verified"])
        assert row["result"]["passed"] is True and row["result"]["status"] == "passed"
        assert [t["outcome"] for t in row["result"]["tests"]] == ["passed"] * len(
            row["tests"].splitlines())
    sft = json.loads((run_dir / "dataset/sft.jsonl").read_text().splitlines()[0])
    assert set(sft) == {"id", "instruction", "response", "provenance"}
    chat = json.loads((run_dir / "dataset/chat.jsonl").read_text().splitlines()[0])
    assert [m["role"] for m in chat["messages"]] == ["user", "assistant"]
    import datasets

    loaded = datasets.load_from_disk(str(run_dir / "dataset/hf/sft"))
    assert loaded.num_rows == 3 and (run_dir / "dataset/chat.parquet").exists()
    card = (run_dir / "dataset/README.md").read_text()
    assert "self-instruct" in card and "HumanEval" not in card.split("## Decontamination")[0]
    assert "solve a benchmark problem when executed: 1" in card
    pairs = (run_dir / "dataset/bugfix_pairs.jsonl").read_text().splitlines()
    assert stages["bugs"]["out"] == len(pairs) >= 1
    # The card: every stage (bugs included), every file, every field of every file.
    assert f"| bugs | {stages['bugs']['in']} | {len(pairs)} |" in card
    files = card.split("## Files")[1].split("## Fields")[0]
    for name in ("sft.jsonl", "hf/sft", "sft.parquet", "chat.jsonl", "verified.jsonl",
                 "verified.parquet", "bugfix_pairs.jsonl"):
        assert f"`{name}`" in files
    fields = card.split("## Fields")[1]
    for shape, path in (("sft", "sft.jsonl"), ("chat", "chat.jsonl"),
                        ("verified", "verified.jsonl"), ("bugfix_pairs", "bugfix_pairs.jsonl")):
        first = json.loads((run_dir / "dataset" / path).read_text().splitlines()[0])
        assert list(first) == list(FIELDS[shape])
        section = fields.split(f"### {shape}")[1].split("###")[0]
        assert all(f"| `{name}` |" in section for name in first)
    assert json.loads((run_dir / "summary.json").read_text())["completed"] is True


def test_resume_after_sigkill_at_several_points_gives_the_same_dataset(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with ScriptedServer(reply, latency=0.05) as server:
        whole = pipeline(tmp_path, server.base_url, name="whole")
        subprocess.run([sys.executable, "-m", "codesynth", "run", str(whole)], env=env,
                       check=True, capture_output=True)
        killed = pipeline(tmp_path, server.base_url, name="killed")
        run_dir = tmp_path / "run-killed"
        stage_files = ["01-generate", "02-solve", "03-verify", "06-decontaminate"]
        for stage in stage_files:
            proc = subprocess.Popen([sys.executable, "-m", "codesynth", "run", str(killed)],
                                    env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            target = run_dir / "stages" / f"{stage}.jsonl"
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and proc.poll() is None and not (
                    target.exists() and target.read_text().count("\n") >= 1):
                time.sleep(0.02)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        subprocess.run([sys.executable, "-m", "codesynth", "run", str(killed)], env=env,
                       check=True, capture_output=True)
    assert stable(dataset(run_dir)) == stable(dataset(tmp_path / "run-whole"))
    assert stable(dataset(run_dir))["verified.jsonl"]


def test_a_changed_configuration_is_refused(run: Run, tmp_path: Path) -> None:
    with ScriptedServer(reply) as server:
        assert run("run", pipeline(tmp_path, server.base_url, n=2))[0] == 0
        code, _, err = run("run", pipeline(tmp_path, server.base_url, n=3))
        assert code == 2 and "anotherconfiguration" in squash(err)
        assert run("run", pipeline(tmp_path, server.base_url, n=3), "--restart")[0] == 0


@pytest.mark.parametrize(("text", "message"), [
    ("[run]\nname = 1\n", "bad.toml:2:[run]name:expectedanon-emptystring,got1"),
    ("[run]\nname = 'x'\n", "bad.toml:[[generate]]:atleastone[[generate]]step"),
    ("[[generate]]\nmethod = 'self-instruct'\nn = 1\n[solve]\nsampels = 2\n",
     "bad.toml:5:[solve]sampels:unknownkey;didyoumean'samples'?"),
    ("[[generate]]\nmethod = 'seed-tasks'\nn = 1\n[wat]\n", "bad.toml:4:[wat]:unknownsection"),
    ("[[generate\n", "notavalidpipelinefile"),
    ("[[generate]]\nmethod = 'seed-tasks'\n", "bad.toml:1:[[generate]]#1:nisrequired"),
])
def test_bad_pipeline_files_are_clear_errors(run: Run, tmp_path: Path, text: str,
                                             message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    code, _, err = run("run", path)
    assert code == 2 and message in squash(err), err


def test_execution_decontamination_catches_what_ngrams_miss() -> None:
    from codesynth.pipeline.decontam import NgramIndex, load_benchmarks

    problems = load_benchmarks(["humaneval"])
    index = NgramIndex(problems, 10)
    _, code, _ = CATALOG["near_pair"]
    reworded = {"id": "x", "instruction": CATALOG["near_pair"][0], "code": code}
    assert index.match(reworded) is None
    verbatim = {"id": "y", "instruction": "", "code": problems[0].solution}
    assert index.match(verbatim) == "HumanEval/0"


def records(values: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return values


def test_seed_tasks_bring_their_own_tests(run: Run, tmp_path: Path) -> None:
    seeds = [json.loads(line) for line in (REPO / "seeds/tasks.jsonl").read_text().splitlines()]

    def solver(request: Request) -> str:
        task = next(t for t in seeds if t["instruction"] in request.last_user)
        assert "assert statements" not in request.last_user  # never asked for tests
        return f"```python\n{task['code']}```"

    path = tmp_path / "seed.toml"
    path.write_text(f"""
[run]
output = "{tmp_path / 'run'}"
[llm]
base_url = "BASE"
[[generate]]
method = "seed-tasks"
n = 3
seeds = "{REPO / 'seeds'}"
[solve]
samples = 1
[decontaminate]
execution = false
[export]
formats = ["jsonl"]
""")
    with ScriptedServer(solver) as server:
        path.write_text(path.read_text().replace("BASE", server.base_url))
        code, out, err = run("run", path, "--json")
    assert code == 0, err
    stages = json.loads(out.strip().splitlines()[-1])["stages"]
    assert stages["verify"] == {"in": 3, "out": 3, "rejected": {}}
    rows = (tmp_path / "run/dataset/verified.jsonl").read_text().splitlines()
    assert [json.loads(r)["tests"] for r in rows] == [t["tests"] for t in seeds[:3]]
