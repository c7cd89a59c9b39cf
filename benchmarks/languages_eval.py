"""HumanEval-X-style evaluation per language: ours (isolated) vs a plain harness.

    python benchmarks/languages_eval.py [--samples 4] [--languages cpp,java,rust,go,javascript]
                                        [--k 10 --distinct 3]

Work: the hand-made HumanEval-X problems of tests/data/humaneval_x (two per language), each
with ``--samples`` distinct samples (the canonical solution plus a comment naming the
sample, so no two samples are the same program and no cache can answer).

Ours: every sample through the local sandbox as ``eval humaneval-x`` runs it (``native``
style: built and run inside the job, isolation and limits included), one worker.
Anchor, in the same run: HumanEval-X's own way, a fresh directory per sample, its compile
command and a run, plain subprocesses, no isolation, one at a time: ``g++ -std=c++11``,
``javac`` + ``java -ea``, ``go test`` (GOPATH mode, a warm GOCACHE as on a developer's
machine), ``node``, and for Rust its ``cargo check --bin T`` + ``cargo test --bin T`` in one
Cargo project depending on rand, regex and md5 (Debian's sources, its target warm after a
first sample); the ``rust/rustc`` row is a stricter anchor for the same samples: ``rustc
--test`` with the same prebuilt crates, then the test binary, without cargo. Rust's work
includes two problems in the real ones' shape (their declarations import the three crates).
Both print wall ms per sample (the ratio is the anchor's over ours) and CPU ms per sample:
the plain harness's child processes, and ours' job trees (``Execution.cpu_time``: the
compiler and the program inside the job; the runner's own share is not in it). On a shared
VM the CPU figures are the steadier ones.

Second table (``--k``, 0 to skip): a pass@k-like workload with duplicates, said plainly:
per problem ``--k`` samples of which only ``--distinct`` programs differ (0,0,0,0,1,1,1,2,2,2
for 10 and 3), as sampling at a low temperature gives. Ours runs them as ``eval`` does, one
``run_many`` through the execution cache (a fresh, empty database: identical jobs in one
run execute once, the copies are marked ``duplicate``; nothing is read from an earlier run);
the plain harness compiles and runs every sample, as HumanEval-X's does.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from codesynth.benchmarks.base import Problem  # noqa: E402
from codesynth.benchmarks.humaneval_x import HumanEvalX, MultiPLE  # noqa: E402
from codesynth.benchmarks.humaneval_x_plain import (  # noqa: E402
    multipl_e_plain_passes,
    plain_passes,
)
from codesynth.languages import BUILTIN, toolchain  # noqa: E402
from codesynth.records import Limits  # noqa: E402
from codesynth.sandbox import open_sandbox  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "humaneval_x"
COMMENT = {"cpp": "//", "java": "//", "go": "//", "rust": "//", "javascript": "//"}


Work = list[tuple[dict[str, Any], str]]
MULTIPL_E = {"cpp": "cpp", "java": "java", "rust": "rs", "go": "go_test.go",
             "javascript": "js", "typescript": "ts"}


def samples(language: str, count: int) -> Work:
    benchmark = HumanEvalX()
    with gzip.open(DATA / "humaneval_x.jsonl.gz", "rt") as handle:
        rows = [json.loads(line) for line in handle]
    if language == "rust":  # + two in the real problems' shape: they import rand, regex, md5
        rows += [{**json.loads(line), "task_id": f"Rust/{10 + i}"} for i, line in enumerate(
            (DATA / "humaneval_rust_crates.jsonl").read_text().splitlines())]
    problems = benchmark.parse(enumerate(rows, 1), "fixtures")
    out = []
    for problem in problems.values():
        if problem.row["_language"] != language:
            continue
        for index in range(count):
            generation = problem.row["canonical_solution"] + \
                f"\n{COMMENT[language]} sample {index}\n"
            out.append((problem.row, generation))
    return out


def multipl_e_samples(language: str, count: int) -> Work:
    """MultiPL-E's format (``name, language, prompt, tests``; program = prompt + completion +
    tests): the fixture's problem with ``count`` distinct copies of its sample."""
    stem = DATA / f"multipl_e_{MULTIPL_E[language]}"
    rows = [json.loads(line) for line in Path(f"{stem}.jsonl").read_text().splitlines()]
    problems = MultiPLE().parse(enumerate(rows, 1), "fixtures")
    completions = {row["task_id"]: row["completion"] for row in map(
        json.loads, Path(f"{stem}_samples.jsonl").read_text().splitlines())}
    return [(problem.row, completions[name] + f"\n{COMMENT.get(language, '//')} sample {i}\n")
            for name, problem in problems.items() for i in range(count)]


def duplicated(language: str, k: int, distinct: int) -> Work:
    """``k`` samples per problem, ``distinct`` different programs among them."""
    variants = samples(language, distinct)
    out = []
    for first in range(0, len(variants), distinct):
        out += [variants[first + i * distinct // k] for i in range(k)]
    return out


def ours(language: str, work: Work, dedupe: bool = False, multipl_e: bool = False,
         java_warm: bool = True) -> tuple[float, float]:
    from codesynth.exec_cache import cached

    benchmark = MultiPLE() if multipl_e else HumanEvalX()
    os.environ["CODESYNTH_JAVA_WARM"] = "1" if java_warm else "0"
    box = open_sandbox("local", workers=1, limits=Limits(timeout=60.0, memory_mb=1024,
                                                         max_processes=64))
    try:
        jobs = [benchmark.jobs(Problem(row.get("task_id", row.get("name")), row["prompt"], row), {
            "completion": generation}, f"j{i}")[0] for i, (row, generation) in enumerate(work)]
        # the runner's start (and its warm javac's) is not per-sample work
        box.run(benchmarks_warm_job(jobs[0]))
        # (a warm javac build's CPU is in its Execution.cpu_time: the job is charged for it)
        start, cpu = time.perf_counter(), 0.0
        if dedupe:
            with tempfile.TemporaryDirectory() as empty:
                front = cached(box, True, Path(empty) / "exec-cache.sqlite")
                executions = list(front.run_many(jobs))
        else:
            executions = [box.run(job) for job in jobs]
        for job, execution in zip(jobs, executions, strict=True):
            assert execution.passed, (job.id, execution.reason)
            cpu += execution.cpu_time if execution.cache is None else 0.0
        return time.perf_counter() - start, cpu
    finally:
        box.close()


def benchmarks_warm_job(job: Any) -> Any:
    """The first job again under another id and with a comment added: it starts the runner
    (and the toolchain's files into the page cache) without being one of the samples."""
    import dataclasses

    return dataclasses.replace(job, id="warm", code=job.code + "\n// warm-up\n")


def plain(language: str, work: Work, gocache: str, multipl_e: bool = False,
          rust: str = "cargo") -> tuple[float, float]:
    start, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    for row, generation in work:
        if multipl_e:
            passed = multipl_e_plain_passes(row, generation, gocache)
        else:
            passed = plain_passes(row, generation, gocache, rust=rust)
        assert passed, row.get("task_id", row.get("name"))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter() - start, (after.ru_utime + after.ru_stime
                                         - before.ru_utime - before.ru_stime)


HEADER = (f"{'language':<11} {'samples':>7} {'ours ms/sample':>15} {'plain ms/sample':>16} "
          f"{'ratio':>6} {'ours CPU ms':>12} {'plain CPU ms':>13} {'CPU ratio':>9}")


def row(label: str, n: int, mine: tuple[float, float], theirs: tuple[float, float]) -> None:
    """One line of a table: wall and CPU seconds in all, ours and the plain harness's."""
    (wall, cpu), (their_wall, their_cpu) = mine, theirs
    print(f"{label:<11} {n:>7} {1000 * wall / n:>15.0f} {1000 * their_wall / n:>16.0f} "
          f"{their_wall / wall:>6.2f} {1000 * cpu / n:>12.0f} {1000 * their_cpu / n:>13.0f} "
          f"{their_cpu / max(cpu, 1e-9):>9.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=4, help="per problem (2 problems)")
    parser.add_argument("--languages", default="cpp,java,rust,go,javascript")
    parser.add_argument("--k", type=int, default=10, help="pass@k table: samples per problem")
    parser.add_argument("--distinct", type=int, default=3, help="pass@k table: programs")
    parser.add_argument("--multipl-e", type=int, default=4, dest="multipl_e",
                        help="MultiPL-E table: distinct samples of its fixture problem (0: skip)")
    args = parser.parse_args()
    gocache = tempfile.mkdtemp(prefix="plain-gocache-")
    languages = []
    for name in args.languages.split(","):
        if toolchain(BUILTIN[name]) is None:
            print(f"{name:<11} (toolchain absent)")
        else:
            languages.append(name)
    print(HEADER)
    for language in languages:
        work = samples(language, args.samples)
        if language in ("go", "rust"):  # Go's cache, Cargo's target: warm after a sample
            plain(language, work[:1], gocache)
        theirs = plain(language, work, gocache)
        # java: ours with the worker's warm javac, then with javac in each job (both vs plain)
        for label, warm in ((language, True), *((("java/in-job", False),)
                                                 if language == "java" else ())):
            mine = ours(language, work, java_warm=warm)
            row(label, len(work), mine, theirs)
            if language == "rust":  # the stricter anchor: rustc --test, no cargo
                row("rust/rustc", len(work), mine, plain(language, work, gocache,
                                                         rust="rustc"))
    if args.k:
        print(f"\npass@k-like: {args.k} samples per problem, {args.distinct} distinct programs"
              " (ours: identical jobs run once; plain: every sample)")
        print(HEADER)
        for language in languages:
            work = duplicated(language, args.k, args.distinct)
            row(language, len(work), ours(language, work, dedupe=True),
                plain(language, work, gocache))
    if args.multipl_e:
        print(f"\nMultiPL-E's format: {args.multipl_e} distinct samples, against MultiPL-E's own "
              "compile-and-run (C++: its prompts include <bits/stdc++.h>)")
        print(HEADER)
        for language in (name for name in languages if name in MULTIPL_E):
            work = multipl_e_samples(language, args.multipl_e)
            if language == "go":
                plain(language, work[:1], gocache, multipl_e=True)
            row(language, len(work), ours(language, work, multipl_e=True),
                plain(language, work, gocache, multipl_e=True))
    os.system(f"rm -rf {gocache}")  # noqa: S605 - our own temporary directory


if __name__ == "__main__":
    main()
