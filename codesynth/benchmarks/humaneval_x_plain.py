"""How HumanEval-X's and MultiPL-E's own harnesses judge a sample, for agreement tests and
the speed anchor: the program text they build (prompt + generation + test), a fresh
directory, their compile command, a run, plain subprocesses with no isolation; a sample
passes when every command exits 0. An early ``exit(0)`` therefore passes here (it does not
in codesynth: the difference is on purpose, see the README's multi-language section)."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Any

from codesynth.benchmarks.base import Problem
from codesynth.harness.drivers.go import as_main_package
from codesynth.languages import SANDBOX_PATH


def plain_passes(row: dict[str, Any], generation: str, gocache: str,
                 timeout: float = 120.0) -> bool:
    """Whether HumanEval-X's way of running ``generation`` for the problem ``row`` (a row
    parsed by the ``humaneval-x`` benchmark) exits 0 at every step."""
    from codesynth.benchmarks.humaneval_x import HumanEvalX

    language = row["_language"]
    job = HumanEvalX().jobs(Problem(row["task_id"], row["prompt"], row),
                            {"completion": generation}, "plain")[0]
    program = job.code + "\n" + row["test"]
    env = {"PATH": SANDBOX_PATH, "HOME": "/tmp", "LANG": "C.UTF-8"}
    with tempfile.TemporaryDirectory() as work_dir:
        def run(argv: list[str], **extra: str) -> bool:
            try:
                done = subprocess.run(argv, cwd=work_dir, env={**env, **extra},
                                      capture_output=True, timeout=timeout, check=False)
            except subprocess.TimeoutExpired:
                return False
            return done.returncode == 0

        if language == "cpp":
            Path(work_dir, "test.cpp").write_text(program)
            return run(["g++", "-std=c++11", "test.cpp", "-o", "test"]) and run(["./test"])
        if language == "java":
            Path(work_dir, "Main.java").write_text(program)
            return run(["javac", "Main.java"]) and run(["java", "-ea", "-cp", ".", "Main"])
        if language == "go":
            Path(work_dir, "main_test.go").write_text(as_main_package(program))
            return run(["go", "test", "."], GOCACHE=gocache, GO111MODULE="off", GOFLAGS="",
                       GOPATH=f"{work_dir}/go:/usr/share/gocode", GOPROXY="off",
                       CGO_ENABLED="0")
        if language == "rust":
            Path(work_dir, "main.rs").write_text(program)
            return run(["rustc", "--edition", "2021", "--test", "main.rs", "-o", "test"]) \
                and run(["./test", "--test-threads=1"])
        Path(work_dir, "test.js").write_text(program)
        return run(["node", "test.js"])


def multipl_e_plain_passes(row: dict[str, Any], completion: str, gocache: str,
                           timeout: float = 120.0) -> bool:
    """Whether MultiPL-E's way of running ``completion`` for the problem ``row`` (a row parsed
    by the ``multipl-e`` benchmark: program = prompt + completion + tests, run by the
    language's compiler and runtime) exits 0 at every step."""
    language = row["_language"]
    program = row["prompt"] + completion + row["tests"]
    env = {"PATH": SANDBOX_PATH, "HOME": "/tmp", "LANG": "C.UTF-8"}
    with tempfile.TemporaryDirectory() as work_dir:
        def run(argv: list[str], **extra: str) -> bool:
            try:
                done = subprocess.run(argv, cwd=work_dir, env={**env, **extra},
                                      capture_output=True, timeout=timeout, check=False)
            except subprocess.TimeoutExpired:
                return False
            return done.returncode == 0

        if language == "cpp":
            Path(work_dir, "test.cpp").write_text(program)
            return run(["g++", "-std=c++17", "test.cpp", "-o", "test"]) and run(["./test"])
        if language == "java":
            Path(work_dir, "Problem.java").write_text(program)
            return run(["javac", "Problem.java"]) and run(["java", "-ea", "-cp", ".", "Problem"])
        if language == "go":
            Path(work_dir, "problem_test.go").write_text(program)
            return run(["go", "test", "problem_test.go"], GOCACHE=gocache, GO111MODULE="off",
                       GOFLAGS="", GOPATH=f"{work_dir}/go", GOPROXY="off", CGO_ENABLED="0")
        if language == "rust":
            Path(work_dir, "main.rs").write_text(program)
            return run(["rustc", "--edition", "2021", "main.rs", "-o", "test"]) \
                and run(["./test"])
        if language == "typescript":
            Path(work_dir, "test.ts").write_text(program)
            return run(["tsc", "--target", "es2022", "--lib", "es2022", "test.ts"]) \
                and run(["node", "test.js"])
        Path(work_dir, "test.js").write_text(program)
        return run(["node", "test.js"])
