"""``codesynth repairs``: (failed attempt, its error, a passing fix) and chains, from real
verification results of several candidates per task."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import Run, squash

TESTS = "assert middle([3, 1, 2]) == 2\nassert middle([5]) == 5\nassert middle([4, 9, 7]) == 7\n"
FIX = "def middle(xs):\n    return sorted(xs)[len(xs) // 2]\n"
OTHER_FIX = "def middle(xs):\n    ys = list(xs)\n    ys.sort()\n    return ys[len(ys) // 2]\n"
ATTEMPTS = [
    "def middle(xs):\n    return xs[len(xs) // 2]\n",  # forgets to sort
    "def middle(xs):\n    return sorted(xs)[len(xs) // 2 + 1]\n",  # off by one: IndexError
    FIX,
    OTHER_FIX,
]


def verified(run: Run, tmp_path: Path, records: list[dict[str, Any]]) -> Path:
    source, out = tmp_path / "candidates.jsonl", tmp_path / "verified.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in records))
    code, _, err = run("verify", source, "-o", out)
    assert code == 0, err
    return out


def test_repair_pairs_and_chains_from_verified_candidates(run: Run, tmp_path: Path) -> None:
    records = [{"id": f"c{i}", "task_id": "middle", "instruction": "Return the median.",
                "code": code, "tests": TESTS} for i, code in enumerate(ATTEMPTS)]
    records.append({"id": "other", "task_id": "lonely", "code": "x = 1\n",
                    "tests": "assert x == 2"})  # no passing candidate: no pair
    out = tmp_path / "repairs.jsonl"
    code, stdout, err = run("repairs", verified(run, tmp_path, records), "-o", out, "--json")
    assert code == 0, err
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert summary == {"input": str(tmp_path / "verified.jsonl"), "output": str(out),
                       "tasks": 2, "repair": 2, "chain": 1, "tasks_without_fix": 1}
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    pairs = [r for r in rows if r["kind"] == "repair"]
    assert [p["buggy_code"] for p in pairs] == ATTEMPTS[:2]
    for pair in pairs:
        assert pair["fixed_code"] == FIX  # the closest passing candidate, not OTHER_FIX
        assert pair["instruction"] == "Return the median." and pair["tests"] == TESTS
        assert (pair["test_style"], pair["entry_point"]) == ("assert", None)  # the default
        assert pair["error"]["status"] in ("failed", "error")
        assert pair["diff"].startswith("--- buggy.py\n+++ fixed.py\n")
    assert pairs[0]["error"]["failing_tests"][0]["source"] == "assert middle([3, 1, 2]) == 2"
    assert any("IndexError" in (t["message"] or "")
               for t in pairs[1]["error"]["failing_tests"])
    chain = next(r for r in rows if r["kind"] == "chain")
    assert [s["code"] for s in chain["steps"]] == ATTEMPTS[:2]
    assert chain["fixed_code"] == FIX
    assert chain["provenance"]["source_ids"] == ["c0", "c1", "c2"]


def test_repairs_from_humaneval_eval_results(run: Run, tmp_path: Path) -> None:
    from codesynth.humaneval import load_problems

    problem = load_problems()["HumanEval/0"]
    samples = tmp_path / "samples.jsonl"
    wrong = problem["canonical_solution"].replace("<", ">=", 1)
    samples.write_text(json.dumps({"task_id": "HumanEval/0", "completion": wrong}) + "\n"
                       + json.dumps({"task_id": "HumanEval/0",
                                     "completion": problem["canonical_solution"]}) + "\n")
    results = tmp_path / "results.jsonl"
    code, _, err = run("eval", "humaneval", samples, "-o", results, "--problems",
                       tmp_path / "missing.jsonl.gz")
    assert code == 2  # a wrong --problems path is a clear error...
    code, _, err = run("eval", "humaneval", samples, "-o", results)
    assert code == 0, err
    out = tmp_path / "repairs.jsonl"
    code, _, err = run("repairs", results, "-o", out)
    assert code == 0, err
    [pair] = [json.loads(line) for line in out.read_text().splitlines()]
    assert pair["buggy_code"] == problem["prompt"] + wrong
    assert pair["fixed_code"] == problem["prompt"] + problem["canonical_solution"]
    # the task's fields come from the benchmark problem, the ids from the result rows' lines
    assert pair["instruction"] == problem["prompt"]
    assert pair["tests"] == problem["test"]
    assert (pair["test_style"], pair["entry_point"]) == ("humaneval", "has_close_elements")
    assert pair["provenance"]["source_ids"] == ["HumanEval/0#1", "HumanEval/0#2"]


def test_eval_results_with_chains_fill_every_task_field(run: Run, tmp_path: Path) -> None:
    from codesynth.humaneval import load_problems

    problem = load_problems()["HumanEval/2"]
    samples = tmp_path / "samples.jsonl"
    completions = ["    return number\n", "    return 0.0\n", problem["canonical_solution"]]
    samples.write_text("".join(json.dumps({"task_id": "HumanEval/2", "completion": c}) + "\n"
                               for c in completions))
    results, out = tmp_path / "results.jsonl", tmp_path / "repairs.jsonl"
    code, _, err = run("eval", "humaneval", samples, "-o", results)
    assert code == 0, err
    code, _, err = run("repairs", results, "-o", out)
    assert code == 0, err
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["kind"] for r in rows] == ["repair", "repair", "chain"]
    for row in rows:
        assert row["instruction"] == problem["prompt"] and row["tests"] == problem["test"]
        assert (row["test_style"], row["entry_point"]) == ("humaneval", "truncate_number")
        assert None not in row["provenance"]["source_ids"]
    assert rows[2]["provenance"]["source_ids"] == [
        "HumanEval/2#1", "HumanEval/2#2", "HumanEval/2#3"]


def test_records_without_results_are_refused_with_file_line_field(run: Run,
                                                                  tmp_path: Path) -> None:
    source = tmp_path / "plain.jsonl"
    source.write_text(json.dumps({"id": "a", "task_id": "t", "code": "x = 1"}) + "\n")
    code, _, err = run("repairs", source, "-o", tmp_path / "out.jsonl")
    assert code == 2
    assert "plain.jsonl:1:field'result'" in squash(err)
    assert not (tmp_path / "out.jsonl").exists()
