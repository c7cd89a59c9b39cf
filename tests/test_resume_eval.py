"""``codesynth eval humaneval`` continues a killed run: the result rows already written are
kept, the remaining samples are run, and pass@k is computed over all of them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from codesynth.humaneval import load_problems
from tests.conftest import Run, squash
from tests.test_resume_verify import (
    codesynth,
    kill_midway,
    meta_of,
    normalized_file,
    partial_of,
    unfinished,
    write_jsonl,
)

WORKERS = ["--workers", "2", "--memory-mb", "512", "--timeout", "5"]
# once per program, after the function (in the body, it would run on every call)
SLOW = "\n\nimport time\ntime.sleep(0.02)\n"  # enough for a kill to land mid-run


@pytest.fixture(scope="module")
def problems() -> dict[str, dict[str, Any]]:
    return load_problems()


def canonical_samples(problems: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Every problem twice: its canonical solution, and a broken one (every third), so pass@1
    and pass@2 differ; some lines appear twice."""
    samples = []
    for index, (task_id, problem) in enumerate(problems.items()):
        good = {"task_id": task_id, "completion": problem["canonical_solution"] + SLOW}
        bad = {"task_id": task_id, "completion": "    return None\n" + SLOW}
        samples += [good, bad if index % 3 == 0 else good]
    return samples


def test_sigkill_then_resume_gives_the_uninterrupted_results_and_pass_at_k(
        tmp_path: Path, problems: dict[str, dict[str, Any]]) -> None:
    samples = canonical_samples(problems)
    source = write_jsonl(tmp_path / "samples.jsonl", samples)
    reference, out = tmp_path / "reference.jsonl", tmp_path / "results.jsonl"
    done = codesynth("eval", "humaneval", source, "-o", reference, "-k", "1,2", *WORKERS,
                     "--json")
    assert done.returncode == 0, done.stderr
    expected = json.loads(done.stdout)

    argv = ["eval", "humaneval", str(source), "-o", str(out), "-k", "1,2", *WORKERS]
    kept = kill_midway(argv, partial_of(out), 20)
    assert 20 <= kept < len(samples)
    assert not out.exists() and meta_of(out).exists()

    again = codesynth(*argv, "--json")
    assert again.returncode == 0, again.stderr
    assert normalized_file(out, "trace") == normalized_file(reference, "trace")
    summary = json.loads(again.stdout)
    assert summary["resumed"] >= kept
    assert summary["pass_at_k"] == pytest.approx(expected["pass_at_k"])  # old + new records
    assert summary["pass_at_k"]["pass@1"] < summary["pass_at_k"]["pass@2"] == 1.0
    assert summary["by_status"]["timeout"] == 0  # every verdict is deterministic here
    for name in ("total", "by_status", "pass_rate", "problems_attempted", "pass_at_k_skipped"):
        assert summary[name] == expected[name], name
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "reference.jsonl", "results.jsonl", "samples.jsonl"]


TINY_PROBLEMS = [
    {"task_id": "T/0", "prompt": "def inc(x):\n", "entry_point": "inc",
     "test": "def check(candidate):\n    assert candidate(1) == 2\n"},
    {"task_id": "T/1", "prompt": "def neg(x):\n", "entry_point": "neg",
     "test": "def check(candidate):\n    assert candidate(2) == -2\n"},
]
TINY_SAMPLES = [{"task_id": "T/0", "completion": "    return x + 1\n"},
                {"task_id": "T/1", "completion": "    return x\n"},
                {"task_id": "T/0", "completion": "    return x + 1\n"},
                {"task_id": "T/1", "completion": "    return -x\n"}]


def test_a_torn_partial_resumes_and_another_problem_set_is_refused(
        run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    problems = write_jsonl(tmp_path / "tiny.jsonl", TINY_PROBLEMS)
    other = write_jsonl(tmp_path / "other.jsonl", TINY_PROBLEMS[::-1])
    source = write_jsonl(tmp_path / "s.jsonl", TINY_SAMPLES)
    reference, out = tmp_path / "reference.jsonl", tmp_path / "r.jsonl"
    command = ["eval", "humaneval", source, "-o", out, "-k", "1,2", *WORKERS]
    code, expected, err = run("eval", "humaneval", source, "--problems", problems, "-o",
                              reference, "-k", "1,2", *WORKERS, "--json")
    assert code == 0, err

    with monkeypatch.context() as patch:
        unfinished(patch)
        code, _, err = run(*command, "--problems", problems)
    assert code == 130, err
    whole = reference.read_bytes()
    first_end = whole.index(b"\n") + 1
    kept = partial_of(out).read_bytes().splitlines(keepends=True)[0]
    partial_of(out).write_bytes(kept + whole[first_end:first_end + 30])  # row 2, torn

    code, _, err = run(*command, "--problems", other)
    assert code == 2
    assert "differentrun" in squash(err) and "problems.path" in err
    assert partial_of(out).read_bytes() == kept + whole[first_end:first_end + 30]  # untouched

    code, got, err = run(*command, "--problems", problems, "--json")
    assert code == 0, err
    assert out.read_bytes().startswith(kept)
    assert normalized_file(out, "trace") == normalized_file(reference, "trace")
    summary, wanted = json.loads(got), json.loads(expected)
    assert summary["resumed"] == 1
    assert summary["pass_at_k"] == wanted["pass_at_k"] == {"pass@1": 0.75, "pass@2": 1.0}
    assert summary["by_status"] == wanted["by_status"]
    assert summary["total"] == wanted["total"] == 4
