"""Audit: ``eval humaneval-x`` / ``eval multipl-e`` against the official harnesses on rows in
the REAL datasets' shapes (tests/data/humaneval_x/make_real_shapes.py). Each test names the
official behaviour (THUDM/CodeGeeX ``codegeex/benchmark/humaneval-x/evaluate_humaneval_x.py``
``process_humaneval_test``, ``codegeex/benchmark/execution.py`` ``check_correctness``,
``codegeex/benchmark/utils.py`` ``IMPORT_HELPER``; nuprl/MultiPL-E ``evaluation/src``), the
row shape, and what codesynth does instead. Where the toolchain is here, the official verdict
is computed by ``official_passes`` (this file's own transcription of those steps, NOT
``humaneval_x_plain``, which builds its program with codesynth's own ``jobs``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Run
from tests.sandbox.test_languages import needs
from tests.test_eval_humaneval_x import DATA, read, write

REAL = DATA / "real_shapes.jsonl"
# codegeex/benchmark/utils.py IMPORT_HELPER (python, go, cpp: cpp has nine, no <cassert>)
HELPER = {
    "python": ["import math", "import re", "import sys", "import copy", "import datetime",
               "import itertools", "import collections", "import heapq", "import statistics",
               "import functools", "import hashlib", "import numpy", "import numpy as np",
               "import string", "from typing import *", "from collections import *"],
    "go": ["math", "strings", "fmt", "strconv", "time", "bytes", "regexp", "sort",
           "math/rand", "crypto/md5"],
    "cpp": ["#include<stdlib.h>", "#include<algorithm>", "#include<math.h>",
            "#include<stdio.h>", "#include<vector>", "#include<string>", "#include<climits>",
            "#include<cstring>", "#include<iostream>"],
}


def rows() -> dict[str, dict[str, Any]]:
    return {r["task_id"]: r for r in map(json.loads, REAL.read_text().splitlines())}


def official_program(row: dict[str, Any], code: str) -> str:
    """evaluate_humaneval_x.process_humaneval_test, step by step."""
    language = row["task_id"].split("/")[0].lower()
    prompt, test = row["prompt"], row["test"]
    if language == "python":  # the generation is cut at its first non-indented line
        kept = []
        for line in code.split("\n"):
            if line.strip() and line[0] not in " \t":
                break
            kept.append(line)
        return "\n".join(HELPER["python"]) + "\n" + prompt + "\n".join(kept) + "\n" + test + "\n"
    if language == "cpp":
        setup = "".join(h + "\n" for h in HELPER["cpp"] if h not in prompt)
        return setup + "\n" + prompt + code + "\n" + test
    if language == "go":  # packages found in the GENERATION's text only, as substrings
        prompt = prompt.replace(row["import"], "")
        setup = row["test_setup"]
        other = [f'"{p}"' for p in HELPER["go"]
                 if p not in setup and p.split("/")[-1] + "." in code]
        imports = "import (\n" + "    ".join(p + "\n" for p in other) + ")\n" if other else ""
        return setup + "\n" + imports + prompt + code + "\n" + test
    return prompt + code + "\n" + test  # java, javascript


def official_passes(row: dict[str, Any], code: str) -> bool:
    """execution.check_correctness's commands and pass rule, in a fresh directory."""
    language = row["task_id"].split("/")[0].lower()
    program = official_program(row, code)
    env = {"PATH": os.environ["PATH"], "HOME": "/tmp", "GO111MODULE": "off", "GOFLAGS": "",
           "GOPATH": "/tmp/go:/usr/share/gocode", "GOPROXY": "off"}
    with tempfile.TemporaryDirectory() as work:
        env["GOCACHE"] = os.path.join(work, "cache")

        def sh(*argv: str) -> subprocess.CompletedProcess[bytes]:
            return subprocess.run(argv, cwd=work, env=env, capture_output=True, timeout=120,
                                  check=False)

        if language == "python":  # exec() of the whole text: passes when nothing raises
            Path(work, "t.py").write_text(program)
            return sh(sys.executable, "t.py").returncode == 0
        if language == "cpp":
            Path(work, "test.cpp").write_text(program)
            return sh("g++", "-std=c++11", "test.cpp").returncode == 0 and \
                sh("./a.out").returncode == 0
        if language == "javascript":  # any output on stdout or stderr fails
            Path(work, "test.js").write_text(program)
            done = sh("node", "test.js")
            return not done.stderr.decode() and not done.stdout.decode()
        if language == "java":  # `java -cp DIR Main`: no -ea
            Path(work, "Main.java").write_text(program)
            return sh("javac", os.path.join(work, "Main.java")).returncode == 0 and \
                sh("java", "-cp", work, "Main").returncode == 0
        if language == "go":
            Path(work, "main_test.go").write_text(program)
            return sh("go", "test", "-timeout=60s", "main_test.go").returncode == 0
    raise AssertionError(language)


def ours(run: Run, tmp_path: Path, samples: list[dict[str, Any]],
         benchmark: str = "humaneval-x", problems: Path = REAL) -> list[bool]:
    out = tmp_path / "r.jsonl"
    code, _, err = run("eval", benchmark, write(tmp_path / "s.jsonl", samples),
                       "--problems", problems, "-o", out, "--workers", "2")
    assert code == 0, err
    return [r["passed"] for r in read(out)]


def check(run: Run, tmp_path: Path, task: str, generations: list[str]) -> None:
    row = rows()[task]
    theirs = [official_passes(row, g) for g in generations]
    mine = ours(run, tmp_path, [{"task_id": task, "generation": g} for g in generations])
    assert mine == theirs, [(g[-160:], m, o) for g, m, o
                            in zip(generations, mine, theirs, strict=True) if m != o]


def test_python_generation_cut_at_first_unindented_line(run: Run, tmp_path: Path) -> None:
    """Official (evaluate_humaneval_x.py, python branch): the generation is cut at its first
    non-blank line starting without a space or tab, so a real model sample that goes on after
    the function (a ``print(...)`` demo, ``if __name__``, another top-level statement) passes
    on the function alone, and a sample that repeats the whole function (``from typing``
    first) is cut to nothing and fails. Row: HumanEval-X Python/0 (test ends with
    ``check(has_close_elements)``). codesynth runs prompt + the whole generation: the demo's
    error fails the first, and the repeated function passes the second."""
    row = rows()["Python/0"]
    right = row["canonical_solution"]
    check(run, tmp_path, "Python/0", [
        right, right + "\n\nprint(has_close_elements([1.0, 2.0], 0.5))\nundefined_helper()\n",
        row["prompt"] + right])


def test_python_import_helper(run: Run, tmp_path: Path) -> None:
    """Official: IMPORT_HELPER['python'] (math, re, sys, copy, ..., numpy as np,
    ``from typing import *``) is put before prompt + generation. Row: Python/0. A sample
    using ``math.fabs`` without importing math passes there; codesynth: NameError, fails."""
    right = rows()["Python/0"]["canonical_solution"]
    check(run, tmp_path, "Python/0", [right.replace("abs(elem - elem2)",
                                                    "math.fabs(elem - elem2)")])


def test_cpp_headers_are_the_harness_nine(run: Run, tmp_path: Path) -> None:
    """Official: IMPORT_HELPER['cpp'] is nine headers WITHOUT <cassert> (each only when the
    prompt lacks it), then prompt + generation + test; the test block's own
    ``#include<assert.h>`` comes after the generation. Row: CPP/0. A generation calling
    ``assert`` is a compile error there ('assert' was not declared); codesynth's CPP_HEADERS
    adds ``#include<cassert>`` first, so it compiles and passes."""
    needs("cpp")
    right = rows()["CPP/0"]["canonical_solution"]
    check(run, tmp_path, "CPP/0", [right, "    assert(threshold > 0);\n" + right])


def test_javascript_any_output_fails(run: Run, tmp_path: Path) -> None:
    """Official (execution.py, js branch): ``node test.js`` fails when it wrote anything to
    stderr or stdout. Row: JavaScript/0. A real sample that ends with a
    ``console.log(...)`` demo fails there; codesynth passes it."""
    needs("javascript")
    right = rows()["JavaScript/0"]["canonical_solution"]
    check(run, tmp_path, "JavaScript/0", [
        right, right + "console.log(hasCloseElements([1.0, 2.0], 0.5))\n"])


def test_java_runs_without_assertions_enabled(run: Run, tmp_path: Path) -> None:
    """Official (execution.py, java branch): ``java -cp DIR Main``, no ``-ea``, so a Java
    ``assert`` in the generation is never evaluated (the test block throws AssertionError
    itself). Row: Java/0. A sample whose own ``assert`` is false passes there; codesynth
    runs with -ea and fails it."""
    needs("java")
    right = rows()["Java/0"]["canonical_solution"]
    check(run, tmp_path, "Java/0", [right, right.replace(
        "        return false;", "        assert numbers.size() > 100;\n        return false;")])


def test_go_imports_come_from_the_generation_text_only(run: Run, tmp_path: Path) -> None:
    """Official (process_humaneval_test, go branch): a package of IMPORT_HELPER['go'] is
    imported when ``name + "."`` is a substring of the GENERATION (not the prompt). Row:
    Go/158 (prompt: 'accepts a list of strings.'; canonical uses only sort): official passes
    the canonical; codesynth searches prompt + generation, imports "strings", and the unused
    import fails the canonical solution. Second sample: a comment 'substrings.' in the
    generation makes the official harness import "strings" (unused: fails); codesynth's
    word-boundary regex does not."""
    needs("go")
    right = rows()["Go/158"]["canonical_solution"]
    comment = "    // the first of the sorted substrings.\n"
    check(run, tmp_path, "Go/158", [right, right.replace(
        "    return words[0]\n", comment + "    return words[0]\n")])


@pytest.mark.xfail(strict=True, reason=(
    'no rand 0.4 offline: Debian ships rand 0.8 (`gen_range(a..b)`, not `gen_range(a,'
    " b)`); HumanEval-X's solutions and tests use neither (README: Rust's crates)"))
def test_rust_rand_is_version_0_4(run: Run, tmp_path: Path) -> None:
    """Official: codegeex/benchmark/rust/Cargo.toml asks rand = "0.4" (Cargo.lock: 0.4.6),
    whose ``Rng::gen_range(low, high)`` takes two arguments; every HumanEval-X Rust row
    imports ``rand::Rng``. Row: Rust/0 with a sample calling ``gen_range(0, 10)``: compiles
    and passes there (canonical otherwise). codesynth builds Debian's rand 0.8
    (``crates.py``: a documented deviation): compile error, fails. (No rand 0.4 here: the
    official verdict is read from its API, not run.)"""
    needs("rust")
    right = rows()["Rust/0"]["canonical_solution"]
    sample = right.replace("    return false;",
                           "    let _n: i32 = rand::thread_rng().gen_range(0, 10);\n"
                           "    return false;")
    assert ours(run, tmp_path, [{"task_id": "Rust/0", "generation": right},
                                {"task_id": "Rust/0", "generation": sample}]) == [True, True]


def test_multipl_e_java_has_javatuples(run: Run, tmp_path: Path) -> None:
    """Official (MultiPL-E evaluation/src/eval_java.py): CLASSPATH and ``-cp`` hold
    /usr/multiple/javatuples-1.2.jar; every real MultiPL-E Java prompt starts with
    ``import org.javatuples.*;`` (tuple-returning problems use Pair/Triplet). Row:
    HumanEval_23_strlen. codesynth: 'package org.javatuples does not exist' for every
    sample, the right one included."""
    needs("java")
    problems = DATA / "real_multipl_e_java.jsonl"
    name = json.loads(problems.read_text())["name"]
    samples = [{"task_id": name, "completion": "        return string.length();\n"},
               {"task_id": name, "completion": "        return string.length() + 1;\n"}]
    assert ours(run, tmp_path, samples, "multipl-e", problems) == [True, False]


def test_multipl_e_rust_is_edition_2015(run: Run, tmp_path: Path) -> None:
    """Official (MultiPL-E eval_rust.py): ``rustc FILE -o BASENAME``, no --edition: Rust
    2015 (TryInto not in the prelude; ``array.into_iter()`` yields references). Row:
    HumanEval_23_strlen (returns isize). ``string.len().try_into().unwrap()`` is a compile
    error there and passes in codesynth (--edition 2021); the by-reference into_iter
    sample passes there and fails in codesynth. Official verdicts computed with rustc."""
    needs("rust")
    problems = DATA / "real_multipl_e_rs.jsonl"
    row = json.loads(problems.read_text())
    completions = ["    string.len() as isize\n", "    string.len().try_into().unwrap()\n",
                   "    for x in [1, 2].into_iter() { let _y: &i32 = x; }\n"
                   "    string.len() as isize\n"]
    theirs = []
    for completion in completions:
        with tempfile.TemporaryDirectory() as work:
            Path(work, "p.rs").write_text(row["prompt"] + completion + "\n" + row["tests"])
            built = subprocess.run(["rustc", "p.rs", "-o", "p"], cwd=work, capture_output=True,
                                   timeout=120, check=False)
            theirs.append(built.returncode == 0 and subprocess.run(
                ["./p"], cwd=work, capture_output=True, timeout=60, check=False).returncode == 0)
    samples = [{"task_id": row["name"], "completion": c} for c in completions]
    assert ours(run, tmp_path, samples, "multipl-e", problems) == theirs


@pytest.mark.xfail(strict=True, reason=(
    'codesynth fails a failed console.assert in every JavaScript test block'
    " (HumanEval-X's tests rely on it); MultiPL-E's tests use node:assert, which"
    " throws, so only a program's own console.assert differs"))
def test_multipl_e_javascript_passes_on_exit_status(run: Run, tmp_path: Path) -> None:
    """Official (MultiPL-E eval_javascript.py): ``node FILE``; OK when it exits 0 (the tests
    use ``require('node:assert')``, which throws). A failed ``console.assert`` only prints
    'Assertion failed' and exits 0: passes there. Row: HumanEval_23_strlen (js). codesynth
    applies HumanEval-X's 'no console.assert failed' rule to MultiPL-E too and fails it.
    Official verdicts computed with node."""
    needs("javascript")
    problems = DATA / "real_multipl_e_js.jsonl"
    row = json.loads(problems.read_text())
    completions = ["  return string.length;\n",
                   "  console.assert(string.length > 100);\n  return string.length;\n",
                   "  return string.length + 1;\n"]
    theirs = []
    for completion in completions:
        with tempfile.TemporaryDirectory() as work:
            Path(work, "p.js").write_text(row["prompt"] + completion + "\n" + row["tests"])
            theirs.append(subprocess.run(["node", "p.js"], cwd=work, capture_output=True,
                                         timeout=60, check=False).returncode == 0)
    samples = [{"task_id": row["name"], "completion": c} for c in completions]
    assert ours(run, tmp_path, samples, "multipl-e", problems) == theirs


def test_real_shapes_canonical_and_wrong_agree(run: Run, tmp_path: Path) -> None:
    """What agrees today (kept as a guard): on the real-shaped rows, every canonical solution
    passes and a wrong comparison fails, in codesynth and in the official procedure
    (HumanEval-X's Rust, declaration with the signature + prompt = doc comment: officially
    judged by humaneval_x_plain's cargo check + cargo test, whose program text is the
    official one)."""
    for language in ("cpp", "javascript", "java", "go", "rust"):
        needs(language)
    swaps = [("< threshold", "> threshold"), ("<threshold", ">threshold"),
             ("return ib < jb", "return ib > jb")]
    samples = []
    for task, row in rows().items():
        if task == "Go/158":
            continue  # see test_go_imports_come_from_the_generation_text_only
        right = row["canonical_solution"]
        wrong = right
        for old, new in swaps:
            wrong = wrong.replace(old, new)
        assert wrong != right, task
        samples += [{"task_id": task, "generation": right}, {"task_id": task, "generation": wrong}]
    from codesynth.benchmarks.humaneval_x import HumanEvalX
    from codesynth.benchmarks.humaneval_x_plain import plain_passes

    mine = ours(run, tmp_path, samples)
    parsed = HumanEvalX().parse(enumerate(rows().values(), 1), str(REAL))
    with tempfile.TemporaryDirectory() as cache:
        theirs = [plain_passes(parsed["Rust/0"].row, s["generation"], cache)
                  if s["task_id"] == "Rust/0" else official_passes(rows()[s["task_id"]],
                                                                   s["generation"])
                  for s in samples]
    assert mine == theirs == [i % 2 == 0 for i in range(len(samples))]


@pytest.mark.xfail(strict=True, reason=(
    "only the test block's tests run (by name, so the program cannot choose what"
    ' runs); tests a model appends to its answer are not run'))
def test_tests_in_the_generation_run_too(run: Run, tmp_path: Path) -> None:
    """Official: Go runs ``go test main_test.go`` (every ``Test*`` function of the file) and
    Rust ``cargo test --bin TASK`` (every ``#[test]`` of the program), so tests a model
    appends to its generation run as well, and one that fails fails the sample. Rows: Go/0,
    Rust/0 with the canonical solution plus a failing test of the generation's own.
    Official verdicts: Go by ``official_passes``, Rust by humaneval_x_plain's cargo check +
    cargo test (HumanEval-X's own Rust steps; its program text is the official one). codesynth
    runs only the test block's tests (names read from the block): passes both."""
    needs("go")
    needs("rust")
    from codesynth.benchmarks.humaneval_x import HumanEvalX
    from codesynth.benchmarks.humaneval_x_plain import plain_passes

    real = rows()
    go = real["Go/0"]["canonical_solution"] + (
        "func TestMine(t *testing.T) {\n    t.Fatal(\"the generation's own test\")\n}\n")
    rust = real["Rust/0"]["canonical_solution"] + (
        "\n#[cfg(test)]\nmod my_tests {\n    #[test]\n    fn mine() { assert!(false); }\n}\n")
    parsed = HumanEvalX().parse(enumerate(real.values(), 1), str(REAL))
    with tempfile.TemporaryDirectory() as cache:
        theirs = [official_passes(real["Go/0"], go),
                  plain_passes(parsed["Rust/0"].row, rust, cache)]
    mine = ours(run, tmp_path, [{"task_id": "Go/0", "generation": go},
                                {"task_id": "Rust/0", "generation": rust}])
    assert mine == theirs


def test_generation_is_the_field_judged(run: Run, tmp_path: Path) -> None:
    """Official (process_humaneval_test): ``code = sample["generation"]``; a ``completion``
    field is never read. Row: CPP/0, a sample holding the right ``generation`` and a wrong
    ``completion`` (files from tools that keep both, the raw text and the cleaned one): it
    passes there. codesynth's check_sample prefers ``completion`` when both are present."""
    needs("cpp")
    right = rows()["CPP/0"]["canonical_solution"]
    sample = {"task_id": "CPP/0", "generation": right,
              "completion": right.replace("<threshold", ">threshold")}
    assert official_passes(rows()["CPP/0"], sample["generation"])
    assert ours(run, tmp_path, [sample]) == [True]


@pytest.mark.xfail(strict=True, reason=(
    "TypeScript compiles against es2022 plus node's globals for every benchmark, not"
    " MultiPL-E's `tsc --target esnext` with the DOM library"))
def test_multipl_e_typescript_is_plain_tsc_esnext(run: Run, tmp_path: Path) -> None:
    """Official (MultiPL-E eval_ts.py): ``tsc --target esnext FILE`` then ``node FILE.js``:
    tsc's default libraries (DOM included: ``structuredClone`` is known) and no Node types
    (the real tests say ``declare var require: any;`` themselves, so ``process`` is
    unknown: TS2580). Row: tests/data/humaneval_x/multipl_e_ts.jsonl (the real tests'
    shape). codesynth compiles with ``--lib es2022`` plus its own ambient Node globals
    (``process: any``): the ``process`` sample passes and the ``structuredClone`` one fails,
    the reverse of the official verdicts (computed with this machine's tsc)."""
    needs("typescript")
    problems = DATA / "multipl_e_ts.jsonl"
    row = json.loads(problems.read_text())
    base = ("  for (let i = 0; i < numbers.length; i++)\n"
            "    for (let j = i + 1; j < numbers.length; j++)\n"
            "      if (Math.abs(numbers[i] - numbers[j]) < threshold) return true;\n"
            "  return false;\n")
    completions = [base, "  if (process.env.CODESYNTH_NEVER) return false;\n" + base,
                   "  numbers = structuredClone(numbers);\n" + base]
    theirs = []
    for completion in completions:
        with tempfile.TemporaryDirectory() as work:
            Path(work, "p.ts").write_text(row["prompt"] + completion + "\n" + row["tests"])
            built = subprocess.run(["tsc", "--target", "esnext", "p.ts"], cwd=work,
                                   capture_output=True, timeout=120, check=False)
            theirs.append(built.returncode == 0 and subprocess.run(
                ["node", "p.js"], cwd=work, capture_output=True, timeout=60,
                check=False).returncode == 0)
    samples = [{"task_id": row["name"], "completion": c} for c in completions]
    assert ours(run, tmp_path, samples, "multipl-e", problems) == theirs
