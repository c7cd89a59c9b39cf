"""``eval humaneval-x`` and ``eval multipl-e`` agree with HumanEval-X's and MultiPL-E's own
ways of judging a sample (their program text, their compile command, exit status 0:
``codesynth.benchmarks.humaneval_x_plain``) on a mixed set: the canonical solutions and
mutants of them (operators swapped, a constant changed, a line dropped: wrong results,
crashes and compile errors). The one difference on purpose, an early ``exit(0)``, is tested
in test_eval_humaneval_x.py."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest

from codesynth.benchmarks.humaneval_x import HumanEvalX, MultiPLE
from codesynth.benchmarks.humaneval_x_plain import multipl_e_plain_passes, plain_passes
from tests.conftest import Run
from tests.sandbox.test_languages import needs
from tests.test_eval_humaneval_x import DATA, LANGUAGE, PROBLEMS, read, rows, write

# (old, new): each applied at its first occurrence in the canonical solution, when present
MUTATIONS = [(" < ", " <= "), (" + ", " - "), ("x * x", "x * 2"), ("+=", "-="),
             ("1", "0"), ("return ", "return -"), (";\n", "\n")]


def mutants(solution: str) -> list[str]:
    found = []
    for old, new in MUTATIONS:
        if old in solution:
            mutant = solution.replace(old, new, 1)
            if mutant != solution and mutant not in found:
                found.append(mutant)
    lines = solution.splitlines(keepends=True)
    if len(lines) > 2:
        found.append("".join(lines[:1] + lines[2:]))  # a line dropped
    return found


def test_eval_agrees_with_humaneval_x_harness(run: Run, tmp_path: Path) -> None:
    for language in LANGUAGE.values():
        needs(language)
    problems = HumanEvalX().parse(enumerate(rows(), 1), str(PROBLEMS))
    samples: list[dict[str, Any]] = []
    for row in rows():
        for generation in [row["canonical_solution"], *mutants(row["canonical_solution"])]:
            samples.append({"task_id": row["task_id"], "generation": generation})
    out = tmp_path / "r.jsonl"
    code, _, err = run("eval", "humaneval-x", write(tmp_path / "s.jsonl", samples),
                       "--problems", PROBLEMS, "-o", out, "--workers", "2", "--json")
    assert code == 0, err
    ours = [r["passed"] for r in read(out)]
    with tempfile.TemporaryDirectory() as gocache:
        theirs = [plain_passes(problems[s["task_id"]].row, s["generation"], gocache)
                  for s in samples]
    disagree = [(s["task_id"], s["generation"], mine, official)
                for s, mine, official in zip(samples, ours, theirs, strict=True)
                if mine != official]
    assert not disagree, json.dumps(disagree, indent=1)[:4000]
    assert sum(theirs) >= len(rows()) and not all(theirs)  # a mixed set, canonical all pass
    print(f"{len(samples)} samples, {sum(theirs)} passed, agreement 100%")


MULTIPL_E = {"cpp": "cpp", "ts": "typescript", "rs": "rust", "java": "java",
             "go_test.go": "go", "js": "javascript"}


@pytest.mark.parametrize("suffix", sorted(MULTIPL_E))
def test_eval_agrees_with_multipl_e_harness(run: Run, tmp_path: Path, suffix: str) -> None:
    needs(MULTIPL_E[suffix])
    source = DATA / f"multipl_e_{suffix}.jsonl"
    row = json.loads(source.read_text())
    problem = MultiPLE().parse([(1, row)], str(source))[row["name"]]
    right = json.loads((DATA / f"multipl_e_{suffix}_samples.jsonl").read_text())["completion"]
    samples = [{"task_id": row["name"], "completion": text}
               for text in [right, *mutants(right)]]
    out = tmp_path / "r.jsonl"
    code, _, err = run("eval", "multipl-e", write(tmp_path / "s.jsonl", samples),
                       "--problems", source, "-o", out, "--workers", "2")
    assert code == 0, err
    ours = [r["passed"] for r in read(out)]
    with tempfile.TemporaryDirectory() as gocache:
        theirs = [multipl_e_plain_passes(problem.row, s["completion"], gocache)
                  for s in samples]
    assert ours == theirs, [(s["completion"], m, o) for s, m, o
                            in zip(samples, ours, theirs, strict=True) if m != o]
    assert theirs[0] and not all(theirs)
