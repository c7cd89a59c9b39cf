"""How HumanEval-X's and MultiPL-E's own harnesses judge a sample, for agreement tests and
the speed anchor: the program text they build (prompt + generation + test), a fresh
directory, their compile command, a run, plain subprocesses with no isolation; a sample
passes when every command exits 0 (HumanEval-X's JavaScript: and prints nothing, its
``execution.py``'s rule). An early ``exit(0)`` therefore passes here (it does not in
codesynth: the difference is on purpose, see the README's multi-language section)."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from codesynth.benchmarks.base import Problem
from codesynth.harness.drivers import crates
from codesynth.harness.drivers.go import as_main_package
from codesynth.languages import SANDBOX_PATH

# a command, and what it adds to the environment ("{work}": the work directory)
Step = tuple[list[str], dict[str, str]]


def _passes(source: str, program: str, steps: list[Step], timeout: float,
            silent: bool = False) -> bool:
    """Write ``program`` to ``source`` in a fresh directory and run ``steps`` there, one after
    another while each exits 0 (plain subprocesses, no isolation); with ``silent``, the last
    step must also print nothing (HumanEval-X's rule for JavaScript: its execution.py fails a
    run with any output on stderr or stdout, so a failed ``console.assert`` fails)."""
    env = {"PATH": SANDBOX_PATH, "HOME": "/tmp", "LANG": "C.UTF-8"}
    with tempfile.TemporaryDirectory() as work_dir:
        Path(work_dir, source).write_text(program)
        for argv, extra in steps:
            try:
                added = {key: value.replace("{work}", work_dir) for key, value in extra.items()}
                done = subprocess.run(argv, cwd=work_dir, env={**env, **added},
                                      capture_output=True, timeout=timeout, check=False)
            except subprocess.TimeoutExpired:
                return False
            if done.returncode != 0:
                return False
        if silent and (done.stdout or done.stderr):
            return False
    return True


def _go_env(gocache: str, gopath: str) -> dict[str, str]:
    return {"GOCACHE": gocache, "GO111MODULE": "off", "GOFLAGS": "", "GOPATH": gopath,
            "GOPROXY": "off", "CGO_ENABLED": "0"}


def plain_passes(row: dict[str, Any], generation: str, gocache: str,
                 timeout: float = 120.0, rust: str = "cargo",
                 rust_project: str | None = None) -> bool:
    """Whether HumanEval-X's way of running ``generation`` for the problem ``row`` (a row
    parsed by the ``humaneval-x`` benchmark) exits 0 at every step. Rust: its harness's
    ``cargo check`` + ``cargo test`` in one Cargo project (``rust_project``; by default in
    ``gocache``, kept warm like the Go cache), or with ``rust="rustc"`` the
    cheaper ``rustc --test`` with the same crates and the test binary."""
    from codesynth.benchmarks.humaneval_x import HumanEvalX

    language = row["_language"]
    job = HumanEvalX().jobs(Problem(row["task_id"], row["prompt"], row),
                            {"completion": generation}, "plain")[0]
    program = job.code + "\n" + row["test"]
    if language == "cpp":
        libraries = ["-lcrypto", "-lssl"] if "162" in row["task_id"] else []  # MD5 (its rule)
        return _passes("test.cpp", program, [(["g++", "-std=c++11", "test.cpp", "-o", "test",
                                               *libraries], {}), (["./test"], {})], timeout)
    if language == "java":
        return _passes("Main.java", program, [(["javac", "Main.java"], {}),
                                              (["java", "-ea", "-cp", ".", "Main"], {})],
                       timeout)
    if language == "go":
        # GOPATH: Debian's testify (/usr/share/gocode)
        return _passes("main_test.go", as_main_package(program), [
            (["go", "test", "."], _go_env(gocache, "{work}/go:/usr/share/gocode"))], timeout)
    if language == "rust" and rust == "rustc":
        return _passes("main.rs", program, [
            (["rustc", "--edition", "2021", "--test", *crates.flags(), "main.rs", "-o", "test"],
             {}), (["./test", "--test-threads=1"], {})], timeout)
    if language == "rust":
        project = rust_project or os.path.join(gocache, "rust-project")
        return _cargo_passes(row["task_id"], program, project, timeout)
    return _passes("test.js", program, [(["node", "test.js"], {})], timeout, silent=True)


def _cargo_passes(task_id: str, program: str, project: str, timeout: float) -> bool:
    """HumanEval-X's Rust: one Cargo project depending on rand, regex and md5 (here Debian's
    sources, offline; see ``harness/drivers/crates``), the program written to
    ``src/bin/<task>.rs``, then ``cargo check --bin <task>`` and ``cargo test --bin <task>``
    (both ``--message-format json``); it passes when both exit 0. The project's ``target``
    stays between samples (its dependencies build on the first one)."""
    name = task_id.lower().replace("/", "_")
    env = crates.cargo_project(project, "rust")
    os.makedirs(os.path.join(project, "src", "bin"), exist_ok=True)
    Path(project, "src", "bin", f"{name}.rs").write_text(program)
    for step in ("check", "test"):
        try:
            done = subprocess.run(["cargo", step, "--offline", "--bin", name,
                                   "--message-format", "json"], cwd=project, env=env,
                                  capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return False
        if done.returncode != 0:
            return False
    return True


def multipl_e_plain_passes(row: dict[str, Any], completion: str, gocache: str,
                           timeout: float = 120.0) -> bool:
    """Whether MultiPL-E's way of running ``completion`` for the problem ``row`` (a row parsed
    by the ``multipl-e`` benchmark: program = prompt + completion + tests, run by the
    language's compiler and runtime) exits 0 at every step."""
    language = row["_language"]
    program = row["prompt"] + completion + row["tests"]
    if language == "cpp":
        return _passes("test.cpp", program, [(["g++", "-std=c++17", "test.cpp", "-o", "test"],
                                              {}), (["./test"], {})], timeout)
    if language == "java":
        return _passes("Problem.java", program, [
            (["javac", "Problem.java"], {}), (["java", "-ea", "-cp", ".", "Problem"], {})],
            timeout)
    if language == "go":
        return _passes("problem_test.go", program, [
            (["go", "test", "problem_test.go"], _go_env(gocache, "{work}/go"))], timeout)
    if language == "rust":
        return _passes("main.rs", program, [
            (["rustc", "main.rs", "-o", "test"], {}), (["./test"], {})],  # (Rust 2015)
            timeout)
    if language == "typescript":
        return _passes("test.ts", program, [
            (["tsc", "--target", "es2022", "--lib", "es2022", "test.ts"], {}),
            (["node", "test.js"], {})], timeout)
    return _passes("test.js", program, [(["node", "test.js"], {})], timeout)
