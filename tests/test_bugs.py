"""``codesynth bugs``: bug-fix pairs proved by execution (fail-to-pass), on HumanEval's
canonical solutions and on small programs; AST and LLM strategies."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from codesynth.humaneval import load_problems
from tests.conftest import Run, squash
from tests.openai_server import Request, ScriptedServer

PAIR_FIELDS = {"id", "task_id", "instruction", "buggy_code", "fixed_code", "diff", "bug_kind",
               "bug_description", "failing_tests", "trace", "tests", "test_style",
               "entry_point", "language", "provenance"}


def write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def humaneval_pairs(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict[str, Any]],
                                                                          dict[str, Any], Path]:
    from codesynth.cli import main

    tmp = tmp_path_factory.mktemp("bugs")
    records = [{"id": p["task_id"], "instruction": p["prompt"],
                "code": p["prompt"] + p["canonical_solution"], "tests": p["test"],
                "test_style": "humaneval", "entry_point": p["entry_point"]}
               for p in load_problems().values()]
    source = write(tmp / "humaneval.jsonl", records)
    out = tmp / "pairs.jsonl"
    assert main(["bugs", str(source), "-o", str(out), "--per-sample", "4",
                 "--timeout", "5"]) == 0
    report = json.loads(Path(str(out) + ".report.json").read_text())
    return read(out), report, tmp


def test_humaneval_gives_at_least_400_verified_pairs_over_10_operators(
        humaneval_pairs: tuple[list[dict[str, Any]], dict[str, Any], Path]) -> None:
    pairs, report, _ = humaneval_pairs
    assert report["inputs"] == 164 and report["originals_failed"] == []
    assert len(pairs) >= 400, report
    kinds = {p["bug_kind"] for p in pairs}
    assert len(kinds) >= 10, kinds
    assert report["pairs"] == len(pairs)
    assert report["bugs_tried"] == report["pairs"] + report["survivors"]
    # Survivors (mutants no test catches) are counted per problem.
    assert sum(report["survivors_by_input"].values()) == report["survivors"]
    for pair in pairs:
        assert set(pair) >= PAIR_FIELDS
        assert pair["buggy_code"] != pair["fixed_code"]
        assert pair["failing_tests"] and pair["trace"]["passed"] is False
        assert pair["diff"].startswith("--- buggy.py\n+++ fixed.py\n")
        assert pair["provenance"]["strategy"] == "ast"
        assert pair["provenance"]["original_status"] == "passed"


def test_every_kept_pair_is_re_verified(
        run: Run, humaneval_pairs: tuple[list[dict[str, Any]], dict[str, Any], Path]) -> None:
    pairs, _, tmp = humaneval_pairs
    rows = [{"id": f"{p['id']}:{side}", "code": p[f"{side}_code"], "tests": p["tests"],
             "test_style": p["test_style"], "entry_point": p["entry_point"]}
            for p in pairs for side in ("buggy", "fixed")]
    out = tmp / "reverified.jsonl"
    code, _, err = run("verify", write(tmp / "both.jsonl", rows), "-o", out, "--timeout", "5")
    assert code == 0, err
    verdicts = {r["id"]: r["result"]["passed"] for r in read(out)}
    assert all(verdicts[f"{p['id']}:fixed"] for p in pairs)
    assert not any(verdicts[f"{p['id']}:buggy"] for p in pairs)


SMALL = {"id": "clip", "code": "def clip(xs, low, high):\n    out = []\n    for x in xs:\n"
                               "        if x < low:\n            out.append(low)\n"
                               "        elif x > high:\n            out.append(high)\n"
                               "        else:\n            out.append(x)\n    return out\n",
         "tests": "assert clip([1, 5, 9], 2, 8) == [2, 5, 8]\nassert clip([], 0, 1) == []\n"
                  "assert clip([2, 8], 2, 8) == [2, 8]\n", "entry_point": "clip"}


def test_same_seed_same_pairs_other_seed_other_pairs(run: Run, tmp_path: Path) -> None:
    source = write(tmp_path / "in.jsonl", [SMALL])
    outputs = []
    for seed, name in ((1, "a"), (1, "b"), (2, "c")):
        out = tmp_path / f"{name}.jsonl"
        code, _, err = run("bugs", source, "-o", out, "--seed", str(seed), "--per-sample", "3")
        assert code == 0, err
        outputs.append([(p["id"], p["bug_kind"], p["buggy_code"],
                         [t["name"] for t in p["failing_tests"]]) for p in read(out)])
    assert outputs[0] == outputs[1] and outputs[0]  # timings aside, identical
    assert outputs[0] != outputs[2]


def test_flipped_tests_are_named_with_their_trace(run: Run, tmp_path: Path) -> None:
    out = tmp_path / "pairs.jsonl"
    code, _, err = run("bugs", write(tmp_path / "in.jsonl", [SMALL]), "-o", out,
                       "--operators", "remove_return", "--per-sample", "1")
    assert code == 0, err
    [pair] = read(out)
    assert pair["bug_kind"] == "remove_return"
    assert "    return\n" in pair["buggy_code"]
    flipped = {t["source"] for t in pair["failing_tests"]}
    assert flipped == set(SMALL["tests"].splitlines())  # clip returns None: all three flip
    assert pair["trace"]["exception"]["type"] == "AssertionError"
    assert pair["trace"]["exception"]["line"] == 1


def test_weak_tests_let_mutants_survive_and_are_reported(run: Run, tmp_path: Path) -> None:
    weak = {**SMALL, "id": "weak", "tests": "assert isinstance(clip([], 0, 1), list)\n"}
    out = tmp_path / "pairs.jsonl"
    code, stdout, err = run("bugs", write(tmp_path / "in.jsonl", [weak]), "-o", out,
                            "--per-sample", "6", "--json")
    assert code == 0, err
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert summary["pairs"] == len(read(out))
    assert summary["survivors_by_input"]["weak"] >= 4  # the tests hardly test anything
    assert summary["survivors"] + summary["pairs"] == summary["bugs_tried"] == 6


def test_originals_that_fail_get_no_bugs(run: Run, tmp_path: Path) -> None:
    broken = {**SMALL, "id": "broken", "tests": "assert clip([1], 2, 3) == [1]\n"}
    out = tmp_path / "pairs.jsonl"
    code, stdout, err = run("bugs", write(tmp_path / "in.jsonl", [broken, SMALL]), "-o", out,
                            "--json")
    assert code == 0, err
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert summary["originals_failed"] == ["broken"]
    assert {p["task_id"] for p in read(out)} == {"clip"}


def test_bad_input_names_file_line_and_field(run: Run, tmp_path: Path) -> None:
    source = write(tmp_path / "in.jsonl", [SMALL, {"id": "x", "code": "y = 1"}])
    code, _, err = run("bugs", source, "-o", tmp_path / "out.jsonl")
    assert code == 2 and "in.jsonl:2:field'tests'" in squash(err)
    assert not (tmp_path / "out.jsonl").exists()


def llm_reply(request: Request) -> str:
    seed = int(request.body.get("seed", 0))
    original = re.search(r"```python\n(.*?)```", request.last_user, re.S)
    assert original is not None
    code = original.group(1)
    if seed == 0:  # a real bug: values under the range are kept
        return "Here you go:\n```python\n" + code.replace("append(low)", "append(x)") + "```"
    if seed == 1:
        return "```python\n" + code + "```"  # unchanged
    if seed == 2:
        return "```python\n" + code.replace("(xs, low, high)", "(xs, low)") + "```"
    return "Sorry, I can't do that."


def test_llm_strategy_keeps_real_bugs_and_rejects_bad_rewrites(run: Run, tmp_path: Path) -> None:
    out = tmp_path / "pairs.jsonl"
    with ScriptedServer(llm_reply) as server:
        code, stdout, err = run("bugs", write(tmp_path / "in.jsonl", [SMALL]), "-o", out,
                                "--strategy", "llm", "--per-sample", "4", "--base-url",
                                server.base_url, "--cache", tmp_path / "cache.sqlite", "--json")
    assert code == 0, err
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert summary["rejected"] == {"unchanged": 1, "signature_changed": 1, "no_code": 1}
    [pair] = read(out)
    assert pair["provenance"]["strategy"] == "llm"
    assert pair["provenance"]["model"] == "scripted-model"
    assert "append(x)\n        elif" in pair["buggy_code"]
    assert pair["bug_kind"] in {"novice", "off_by_one", "missed_edge_case", "wrong_api",
                                "wrong_condition", "wrong_variable"}
