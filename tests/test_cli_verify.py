"""``codesynth verify`` end to end: records in, the same records plus ``result`` out.

Bad input is refused before anything runs: exit 2, a message naming file, line and field, and
nothing written at the output path.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from codesynth.cli import main
from codesynth.records import Execution, Status
from tests.conftest import Run, squash

# pytest-style jobs cost ~1 s of CPU each: keep the timeout generous except where it is tested
FAST = ["--workers", "2", "--timeout", "10", "--memory-mb", "256"]

MIXED: list[dict[str, Any]] = [
    {"id": "assert-pass", "language": "python", "code": "def f(x):\n    return x + 1\n",
     "tests": "assert f(1) == 2\nassert f(-1) == 0\n",
     "meta": {"source": "unit", "tags": ["a", "β"], "score": 1.5, "nested": {"k": None}}},
    {"id": "assert-fail", "code": "def f(x):\n    return x\n", "tests": "assert f(1) == 2\n",
     "difficulty": 3},
    {"id": "he-pass", "code": "def add(a, b):\n    return a + b\n",
     "tests": "def check(candidate):\n    assert candidate(2, 3) == 5\n",
     "test_style": "humaneval", "entry_point": "add"},
    {"id": "he-fail", "code": "def add(a, b):\n    return a - b\n",
     "tests": "def check(candidate):\n    assert candidate(2, 3) == 5\n",
     "test_style": "humaneval", "entry_point": "add", "meta": {"note": "flipped"}},
    {"id": "pytest-pass", "code": "def g():\n    return 5\n",
     "tests": "from solution import g\n\n\ndef test_g():\n    assert g() == 5\n",
     "test_style": "pytest"},
    {"id": "pytest-fail", "code": "def g():\n    return 5\n",
     "tests": "from solution import g\n\n\ndef test_g():\n    assert g() == 6\n",
     "test_style": "pytest"},
    {"id": 7, "code": "print(int(input()) * 2)\n", "test_style": "stdio",
     "tests": [{"input": "3\n", "output": "6\n"}, {"input": "-4\n", "output": "-8\n"}]},
    {"id": "stdio-fail", "code": "print(int(input()) + 2)\n", "test_style": "stdio",
     "tests": [{"input": "3\n", "output": "6\n"}]},
    {"id": "error", "code": "def broken(:\n    pass\n", "tests": "assert True\n", "ü": "ß"},
]
EXPECTED_STATUS = ["passed", "failed", "passed", "failed", "passed", "failed", "passed",
                   "failed", "error"]


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]








def run_subprocess(*argv: str | Path, cwd: Path | None = None
                   ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "codesynth", *map(str, argv)],
                          capture_output=True, text=True, encoding="utf-8", timeout=120,
                          cwd=cwd, env={**os.environ, "COLUMNS": "300"})


# ---------------------------------------------------------------------------------------------
# a mixed file, run once


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory: pytest.TempPathFactory
              ) -> tuple[int, str, str, list[dict[str, Any]], Path]:
    tmp = tmp_path_factory.mktemp("mixed")
    source = write_jsonl(tmp / "in.jsonl", MIXED)
    out_path = tmp / "out.jsonl"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["verify", str(source), "-o", str(out_path), *FAST, "--json"])
    return code, out.getvalue(), err.getvalue(), read_jsonl(out_path), out_path


def test_exit_zero_even_when_verdicts_fail(
        mixed_run: tuple[int, str, str, list[dict[str, Any]], Path]) -> None:
    code, _, err, rows, out_path = mixed_run
    assert code == 0, err
    assert not any(row["result"]["passed"] for row in rows if row["id"] == "assert-fail")
    assert not Path(str(out_path) + ".partial").exists()


def test_one_record_per_input_in_input_order(
        mixed_run: tuple[int, str, str, list[dict[str, Any]], Path]) -> None:
    rows = mixed_run[3]
    assert [row["id"] for row in rows] == [record["id"] for record in MIXED]


def test_original_fields_are_kept_exactly(
        mixed_run: tuple[int, str, str, list[dict[str, Any]], Path]) -> None:
    for record, row in zip(MIXED, mixed_run[3], strict=True):
        assert {k: v for k, v in row.items() if k != "result"} == record
        assert list(row) == [*record, "result"]  # same field order, result appended
    assert mixed_run[3][0]["meta"] == MIXED[0]["meta"]
    assert mixed_run[3][6]["id"] == 7  # an integer id stays an integer


def test_verdicts_by_test_style(
        mixed_run: tuple[int, str, str, list[dict[str, Any]], Path]) -> None:
    rows = mixed_run[3]
    statuses = [row["result"]["status"] for row in rows]
    assert statuses == EXPECTED_STATUS, [(r["id"], r["result"]["reason"]) for r in rows]
    for row in rows:
        result = row["result"]
        assert result["passed"] is (result["status"] == "passed")


def test_result_carries_the_trace(
        mixed_run: tuple[int, str, str, list[dict[str, Any]], Path]) -> None:
    by_id = {row["id"]: row["result"] for row in mixed_run[3]}
    for result in by_id.values():
        assert {"passed", "status", "tests", "limits", "isolation"} <= set(result)
        assert isinstance(result["isolation"], str) and result["isolation"]
        assert result["limits"]["timeout"] == 10.0
        assert result["limits"]["memory_mb"] == 256
        assert result["backend"] == "local"
        # the result is an Execution in JSON form
        assert Execution.from_dict(result).to_dict() == result
    assert [t["outcome"] for t in by_id["assert-pass"]["tests"]] == ["passed", "passed"]
    assert [t["outcome"] for t in by_id["assert-fail"]["tests"]] == ["failed"]
    assert by_id["assert-fail"]["exception"]["type"] == "AssertionError"
    assert [t["outcome"] for t in by_id[7]["tests"]] == ["passed", "passed"]
    assert [t["outcome"] for t in by_id["pytest-fail"]["tests"]] == ["failed"]
    assert "SyntaxError" in json.dumps(by_id["error"])


def test_json_summary_counts_by_status(
        mixed_run: tuple[int, str, str, list[dict[str, Any]], Path]) -> None:
    _, out, _, rows, out_path = mixed_run
    lines = out.splitlines()
    assert len(lines) == 1, out  # only the summary on stdout; the table goes to stderr
    summary = json.loads(lines[0])
    assert summary["output"] == str(out_path)
    assert summary["sandbox"] == "local"
    assert summary["total"] == len(MIXED)
    assert set(summary["by_status"]) == {s.value for s in Status}
    for status in Status:
        assert summary["by_status"][status.value] == EXPECTED_STATUS.count(status.value)
    assert summary["pass_rate"] == pytest.approx(4 / len(MIXED))


def test_table_goes_to_stderr(
        mixed_run: tuple[int, str, str, list[dict[str, Any]], Path]) -> None:
    err = mixed_run[2]
    for status in ("passed", "failed", "error", "total"):
        assert status in err


# ---------------------------------------------------------------------------------------------
# more runs


def test_timeout_1_stops_an_infinite_loop(run: Run, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [
        {"id": "loop", "code": "while True:\n    pass\n", "tests": "assert True\n"},
        {"id": "sleep", "code": "import time\ntime.sleep(30)\n", "tests": "assert True\n"},
        MIXED[0],
    ])
    code, out, err = run("verify", source, "-o", tmp_path / "out.jsonl", *FAST,
                         "--timeout", "1", "--json")
    assert code == 0, err
    rows = read_jsonl(tmp_path / "out.jsonl")
    assert [r["id"] for r in rows] == ["loop", "sleep", "assert-pass"]
    assert [r["result"]["status"] for r in rows] == ["timeout", "timeout", "passed"]
    for row in rows[:2]:
        result = row["result"]
        assert result["passed"] is False
        assert result["limits"]["timeout"] == 1.0
        assert "1 s" in result["reason"]
        assert 0.9 <= result["duration"] < 5
    assert json.loads(out)["by_status"]["timeout"] == 2


def test_real_process_with_json_summary(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [MIXED[0], MIXED[1], MIXED[6]])
    proc = run_subprocess("verify", source, "-o", tmp_path / "out.jsonl", *FAST, "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["total"] == 3
    assert summary["by_status"]["passed"] == 2 and summary["by_status"]["failed"] == 1
    rows = read_jsonl(tmp_path / "out.jsonl")
    assert [r["id"] for r in rows] == ["assert-pass", "assert-fail", 7]
    assert [r["result"]["passed"] for r in rows] == [True, False, True]


def test_without_json_stdout_is_empty_and_old_output_is_replaced(run: Run,
                                                                 tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [MIXED[2]])
    out_path = tmp_path / "out.jsonl"
    out_path.write_text("old content\n")
    code, out, err = run("verify", source, "-o", out_path, *FAST)
    assert code == 0, err
    assert out == ""
    [row] = read_jsonl(out_path)
    assert row["id"] == "he-pass" and row["result"]["passed"] is True


def test_defaults_assert_style_and_python(run: Run, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl",
                         [{"id": 1, "code": "x = 2", "tests": "assert x * 2 == 4"}])
    code, _, err = run("verify", source, "-o", tmp_path / "out.jsonl", *FAST)
    assert code == 0, err
    [row] = read_jsonl(tmp_path / "out.jsonl")
    assert row == {"id": 1, "code": "x = 2", "tests": "assert x * 2 == 4",
                   "result": row["result"]}
    assert row["result"]["status"] == "passed"


# ---------------------------------------------------------------------------------------------
# bad input: exit 2, file + line + field, nothing written


def good(record_id: Any, **extra: Any) -> str:
    return json.dumps({"id": record_id, "code": "x = 1\n", "tests": "assert x == 1\n", **extra})


def rec(**fields: Any) -> str:
    return json.dumps(fields)


BAD_CASES: list[tuple[str, list[str], int, str | None, str]] = [
    ("malformed-json", [good("a"), good("b"), '{"id": "c", "code": ', good("d")], 3, None,
     "invalid JSON"),
    ("json-array", [good("a"), '[{"id": "b", "code": "x", "tests": "assert x"}]'], 2, None,
     "expected a JSON object, got list"),
    ("json-string", [good("a"), good("b"), good("c"), '"just text"'], 4, None,
     "expected a JSON object, got str"),
    ("missing-code", [good("a"), good("b"), rec(id="c", tests="assert True")], 3, "code",
     "is missing"),
    ("missing-tests", [rec(id="a", code="x = 1")], 1, "tests", "is missing"),
    ("missing-id", [good("a"), rec(code="x = 1", tests="assert x")], 2, "id", "is missing"),
    ("code-not-string", [good("a"), rec(id="b", code=["x = 1"], tests="assert x")], 2, "code",
     "must be a string"),
    ("tests-int", [good("a"), good("b"), rec(id="c", code="x = 1", tests=42)], 3, "tests",
     "must be a non-empty string"),
    ("tests-blank", [rec(id="a", code="x = 1", tests="  \n")], 1, "tests",
     "must be a non-empty string"),
    ("tests-list-for-assert", [rec(id="a", code="x = 1", tests=["assert x"])], 1, "tests",
     "must be a non-empty string"),
    ("tests-dict-for-pytest", [rec(id="a", code="x = 1", tests={"t": 1}, test_style="pytest")],
     1, "tests", "must be a non-empty string"),
    ("unknown-test-style", [good("a"), good("b", test_style="junit")], 2, "test_style",
     "unknown test style 'junit'"),
    ("humaneval-no-entry-point", [good("a"), good("b", test_style="humaneval")], 2,
     "entry_point", "is required"),
    ("humaneval-empty-entry-point", [good("a", test_style="humaneval", entry_point="")], 1,
     "entry_point", "is required"),
    ("entry-point-not-string", [good("a"), good("b", entry_point=5)], 2, "entry_point",
     "must be a string"),
    ("stdio-tests-string", [good("a"), rec(id="b", code="x", tests="1\n2\n", test_style="stdio")],
     2, "tests", "non-empty list"),
    ("stdio-tests-empty", [rec(id="a", code="x", tests=[], test_style="stdio")], 1, "tests",
     "non-empty list"),
    ("stdio-output-not-string",
     [rec(id="a", code="x", test_style="stdio",
          tests=[{"input": "1", "output": "1"}, {"input": "1", "output": 2}])],
     1, "tests[1]", "string 'input' and 'output'"),
    ("stdio-missing-output",
     [good("a"), rec(id="b", code="x", test_style="stdio", tests=[{"input": "1"}])],
     2, "tests[0]", "string 'input' and 'output'"),
    ("stdio-case-not-object",
     [rec(id="a", code="x", test_style="stdio", tests=["1 2"])], 1, "tests[0]",
     "string 'input' and 'output'"),
    ("unsupported-language", [good("a"), good("b"), good("c", language="cobol")], 3, "language",
     "unsupported language 'cobol'"),
    ("id-empty", [good("")], 1, "id", "non-empty string or an integer"),
    ("id-bool", [good("a"), good(True)], 2, "id", "non-empty string or an integer"),
    ("id-float", [good(1.5)], 1, "id", "non-empty string or an integer"),
    ("bad-record-after-blank-lines", ["", good("a"), "   ", "", rec(id="b", code="x")], 5,
     "tests", "is missing"),
]


@pytest.mark.parametrize("preexisting", [False, True], ids=["no-old-output", "old-output"])
@pytest.mark.parametrize(("lines", "line", "field", "fragment"),
                         [case[1:] for case in BAD_CASES], ids=[case[0] for case in BAD_CASES])
def test_bad_input_exits_2_and_writes_nothing(
        run: Run, tmp_path: Path, lines: list[str], line: int, field: str | None,
        fragment: str, preexisting: bool) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out_path = tmp_path / "out.jsonl"
    if preexisting:
        out_path.write_text('{"previous": "run"}\n')
    code, out, err = run("verify", source, "-o", out_path, *FAST)
    assert code == 2, err
    assert out == ""
    message = squash(err)
    assert squash(f"error: {source}:{line}:") in message, err
    if field is not None:
        assert squash(f"field '{field}'") in message, err
    assert squash(fragment) in message, err
    assert "Traceback" not in err
    if preexisting:
        assert out_path.read_text() == '{"previous": "run"}\n'
    else:
        assert not out_path.exists()
    assert not (tmp_path / "out.jsonl.partial").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["in.jsonl"] + (["out.jsonl"] if preexisting else []))


@pytest.mark.parametrize("content", ["", "\n\n   \n"], ids=["empty", "blank-lines"])
def test_empty_input_exits_2(run: Run, tmp_path: Path, content: str) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(content)
    code, _, err = run("verify", source, "-o", tmp_path / "out.jsonl", *FAST)
    assert code == 2
    assert squash(str(source)) in squash(err)
    assert "empty" in squash(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_nonexistent_input_exits_2(run: Run, tmp_path: Path) -> None:
    source = tmp_path / "missing.jsonl"
    code, _, err = run("verify", source, "-o", tmp_path / "out.jsonl", *FAST)
    assert code == 2
    assert squash(f"{source}: no such file") in squash(err)
    assert list(tmp_path.iterdir()) == []


def test_input_is_a_directory_exits_2(run: Run, tmp_path: Path) -> None:
    code, _, err = run("verify", tmp_path, "-o", tmp_path / "out.jsonl", *FAST)
    assert code == 2
    assert squash("is a directory") in squash(err)
    assert list(tmp_path.iterdir()) == []


def test_output_directory_missing_exits_2(run: Run, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [MIXED[0]])
    target = tmp_path / "nowhere" / "out.jsonl"
    code, _, err = run("verify", source, "-o", target, *FAST)
    assert code == 2
    assert squash(str(tmp_path / "nowhere")) in squash(err)
    assert squash("does not exist") in squash(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_non_utf8_input_exits_2(run: Run, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(b'{"id": "a", "code": "s = \'caf\xe9\'", "tests": "assert s"}\n')
    code, _, err = run("verify", source, "-o", tmp_path / "out.jsonl", *FAST)
    assert code == 2
    assert squash(str(source)) in squash(err) and "UTF-8" in squash(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


@pytest.mark.parametrize(("options", "fragment"), [
    (["--timeout", "0"], "timeout"),
    (["--timeout", "nan"], "timeout"),
    (["--memory-mb", "8"], "memory_mb"),
    (["--max-processes", "0"], "max_processes"),
    (["--workers", "0"], "--workers"),
    (["--sandbox", "no-such-backend"], "unknown sandbox"),
])
def test_bad_options_exit_2_and_write_nothing(run: Run, tmp_path: Path, options: list[str],
                                               fragment: str) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [MIXED[0]])
    code, _, err = run("verify", source, "-o", tmp_path / "out.jsonl", *options)
    assert code == 2
    assert squash(fragment) in squash(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_bad_input_in_a_real_process(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(good("a") + "\n" + good("b", test_style="humaneval") + "\n")
    out_path = tmp_path / "out.jsonl"
    out_path.write_text("keep me\n")
    proc = run_subprocess("verify", source, "-o", out_path, *FAST)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert f"{source}:2: field 'entry_point' is required" in squash_lines(proc.stderr)
    assert out_path.read_text() == "keep me\n"
    assert not (tmp_path / "out.jsonl.partial").exists()


def squash_lines(text: str) -> str:
    return " ".join(text.split())


def test_usage_errors_in_a_real_process(tmp_path: Path) -> None:
    proc = run_subprocess("verify", tmp_path / "in.jsonl")  # -o is required
    assert proc.returncode == 2
    assert "-o" in proc.stderr
    version = run_subprocess("--version")
    assert version.returncode == 0 and version.stdout.startswith("codesynth ")


# ---------------------------------------------------------------------------------------------
# bugs


def test_output_path_is_a_directory_exits_2_before_running(run: Run, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [MIXED[0]])
    target = tmp_path / "outdir"
    target.mkdir()
    code, _, err = run("verify", source, "-o", target, *FAST)
    assert code == 2
    assert squash(str(target)) in squash(err)
    assert not (tmp_path / "outdir.partial").exists()


def test_markup_like_values_in_error_messages(run: Run, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(good("a", test_style="[/b]") + "\n")
    code, _, err = run("verify", source, "-o", tmp_path / "out.jsonl", *FAST)
    assert code == 2
    assert "'[/b]'" in squash(err)


def test_markup_like_paths_in_error_messages(run: Run, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run("verify", "data[train].jsonl", "-o", "out.jsonl", *FAST)
    assert code == 2
    assert squash("data[train].jsonl: no such file") in squash(err)


def test_lone_surrogate_escape_round_trips(run: Run, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "s", "code": "x = \'\\ud800\'\\n", "tests": "assert len(x) == 1"}\n')
    code, _, err = run("verify", source, "-o", tmp_path / "out.jsonl", *FAST)
    # either refuse the record up front (exit 2) or keep it intact in the output
    if code == 2:
        assert squash(f"{source}:1:") in squash(err)
        assert not (tmp_path / "out.jsonl.partial").exists()
    else:
        assert code == 0
        [row] = read_jsonl(tmp_path / "out.jsonl")
        assert row["code"] == "x = '\ud800'\n"


def test_duplicate_ids_are_verified_with_a_warning(run: Run, tmp_path: Path) -> None:
    # Several samples of one task often share an id: every record still runs, in order.
    source = write_jsonl(tmp_path / "in.jsonl", [json.loads(good(i)) for i in "abcb"])
    out_path = tmp_path / "out.jsonl"
    code, _, err = run("verify", source, "-o", out_path, *FAST)
    assert code == 0, err
    rows = [json.loads(line) for line in out_path.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["a", "b", "c", "b"]
    assert squash("1 duplicate id") in squash(err)
    assert squash("'b' on line 4 (first on line 2)") in squash(err)
