"""``codesynth eval humaneval-x`` and ``eval multipl-e`` on hand-made fixtures in the
official formats (tests/data/humaneval_x, written by its make_fixtures.py): correct
generations pass, wrong ones and ones that exit(0) early fail, bad rows are input errors."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Run
from tests.sandbox.test_languages import needs

DATA = Path(__file__).parent / "data" / "humaneval_x"
PROBLEMS = DATA / "humaneval_x.jsonl.gz"
EXIT_EARLY = {"CPP": "    exit(0);\n", "JavaScript": "  process.exit(0);\n",
              "Java": "        System.exit(0);\n", "Rust": "    std::process::exit(0);\n"}
LANGUAGE = {"CPP": "cpp", "JavaScript": "javascript", "Java": "java", "Go": "go",
            "Rust": "rust"}


def rows() -> list[dict[str, Any]]:
    with gzip.open(PROBLEMS, "rt") as handle:
        return [json.loads(line) for line in handle]


def write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_humaneval_x_scores_each_language(run: Run, tmp_path: Path) -> None:
    for prefix in LANGUAGE.values():
        needs(prefix)
    samples = []
    for row in rows():
        prefix = row["task_id"].split("/")[0]
        right = row["canonical_solution"]
        samples.append({"task_id": row["task_id"], "generation": right})
        if row["task_id"].endswith("/1"):  # sum_squares: x * x -> x + x is wrong
            samples.append({"task_id": row["task_id"], "generation": right.replace(
                "x * x", "x + x").replace("(long long)x * x", "(long long)x + x").replace(
                "(long) x * x", "(long) x + x")})
            if prefix in EXIT_EARLY:
                samples.append({"task_id": row["task_id"],
                                "generation": EXIT_EARLY[prefix] + right})
    out = tmp_path / "r.jsonl"
    code, stdout, err = run("eval", "humaneval-x", write(tmp_path / "s.jsonl", samples),
                            "--problems", PROBLEMS, "-o", out, "--workers", "2", "--json")
    assert code == 0, err
    results = read(out)
    assert [r["task_id"] for r in results] == [s["task_id"] for s in samples]
    expected = []
    for sample in samples:
        expected.append(sample["generation"] in {r["canonical_solution"] for r in rows()})
    assert [r["passed"] for r in results] == expected, [
        (r["task_id"], r["result"][:200]) for r in results]
    for result in results:
        assert result["trace"]["in_process_tests"] is True
        assert result["trace"]["runtime"].split(":")[0] in LANGUAGE.values()
    summary = json.loads(stdout)
    assert summary["problems_attempted"] == 10


@pytest.mark.parametrize("language", ["cpp", "ts", "rs", "java", "go_test.go", "js"])
def test_multipl_e_format(run: Run, tmp_path: Path, language: str) -> None:
    problems = DATA / f"multipl_e_{language}.jsonl"
    row = json.loads(problems.read_text())
    needs({"ts": "typescript", "rs": "rust", "go_test.go": "go", "js": "javascript"}.get(
        language, language))
    right = json.loads((DATA / f"multipl_e_{language}_samples.jsonl").read_text())
    wrong = {**right, "completion": right["completion"].replace("< threshold", "> threshold")}
    out = tmp_path / "r.jsonl"
    code, _, err = run("eval", "multipl-e", write(tmp_path / "s.jsonl", [right, wrong]),
                       "--problems", problems, "-o", out, "--workers", "2")
    assert code == 0, err
    results = read(out)
    assert [r["passed"] for r in results] == [True, False], [r["result"] for r in results]
    assert results[0]["task_id"] == row["name"]


def test_unknown_language_is_an_input_error(run: Run, tmp_path: Path) -> None:
    problems = write(tmp_path / "p.jsonl", [{"task_id": "Cobol/0", "prompt": "x", "test": "y"}])
    samples = write(tmp_path / "s.jsonl", [{"task_id": "Cobol/0", "generation": "z"}])
    code, _, err = run("eval", "humaneval-x", samples, "--problems", problems)
    assert code == 2
    assert "unknown language 'Cobol'" in err and "p.jsonl" in err
