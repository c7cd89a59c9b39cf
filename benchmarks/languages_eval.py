"""HumanEval-X-style evaluation per language: ours (isolated) vs a plain harness.

    python benchmarks/languages_eval.py [--samples 4] [--languages cpp,java,rust,go,javascript]

Work: the hand-made HumanEval-X problems of tests/data/humaneval_x (two per language), each
with ``--samples`` distinct samples (the canonical solution plus a comment naming the
sample, so no two samples are the same program and no cache can answer).

Ours: every sample through the local sandbox as ``eval humaneval-x`` runs it (``native``
style: built and run inside the job, isolation and limits included), one worker.
Anchor, in the same run: HumanEval-X's own way, a fresh directory per sample, its compile
command and a run, plain subprocesses, no isolation, one at a time: ``g++ -std=c++11``,
``javac`` + ``java -ea``, ``go test`` (GOPATH mode, a warm GOCACHE as on a developer's
machine), ``rustc --test`` (what ``cargo test`` runs, without cargo) and ``node``.
Both print wall ms per sample (the ratio is the anchor's over ours) and CPU ms per sample:
the plain harness's child processes, and ours' job trees (``Execution.cpu_time``: the
compiler and the program inside the job; the runner's own share is not in it). On a shared
VM the CPU figures are the steadier ones.
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
from codesynth.benchmarks.humaneval_x import HumanEvalX  # noqa: E402
from codesynth.benchmarks.humaneval_x_plain import plain_passes  # noqa: E402
from codesynth.languages import BUILTIN, toolchain  # noqa: E402
from codesynth.records import Limits  # noqa: E402
from codesynth.sandbox import open_sandbox  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "humaneval_x"
COMMENT = {"cpp": "//", "java": "//", "go": "//", "rust": "//", "javascript": "//"}


Work = list[tuple[dict[str, Any], str]]


def samples(language: str, count: int) -> Work:
    benchmark = HumanEvalX()
    with gzip.open(DATA / "humaneval_x.jsonl.gz", "rt") as handle:
        rows = [json.loads(line) for line in handle]
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


def ours(language: str, work: Work) -> tuple[float, float]:
    benchmark = HumanEvalX()
    box = open_sandbox("local", workers=1, limits=Limits(timeout=60.0, memory_mb=1024,
                                                         max_processes=64))
    try:
        jobs = [benchmark.jobs(Problem(row["task_id"], row["prompt"], row), {
            "completion": generation}, f"j{i}")[0] for i, (row, generation) in enumerate(work)]
        box.run(jobs[0])  # the runner's start is not per-sample work
        start, cpu = time.perf_counter(), 0.0
        for job in jobs:
            execution = box.run(job)
            assert execution.passed, (job.id, execution.reason)
            cpu += execution.cpu_time
        return time.perf_counter() - start, cpu
    finally:
        box.close()


def plain(language: str, work: Work, gocache: str) -> tuple[float, float]:
    start, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    for row, generation in work:
        assert plain_passes(row, generation, gocache), row["task_id"]
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter() - start, (after.ru_utime + after.ru_stime
                                         - before.ru_utime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=4, help="per problem (2 problems)")
    parser.add_argument("--languages", default="cpp,java,rust,go,javascript")
    args = parser.parse_args()
    gocache = tempfile.mkdtemp(prefix="plain-gocache-")
    print(f"{'language':<11} {'samples':>7} {'ours ms/sample':>15} {'plain ms/sample':>16} "
          f"{'ratio':>6} {'ours CPU ms':>12} {'plain CPU ms':>13} {'CPU ratio':>9}")
    for language in args.languages.split(","):
        if toolchain(BUILTIN[language]) is None:
            print(f"{language:<11} (toolchain absent)")
            continue
        work = samples(language, args.samples)
        if language == "go":  # the plain harness's cache warms on its first sample
            plain(language, work[:1], gocache)
        theirs, their_cpu = plain(language, work, gocache)
        mine, my_cpu = ours(language, work)
        n = len(work)
        print(f"{language:<11} {n:>7} {1000 * mine / n:>15.0f} {1000 * theirs / n:>16.0f} "
              f"{theirs / mine:>6.2f} {1000 * my_cpu / n:>12.0f} {1000 * their_cpu / n:>13.0f} "
              f"{their_cpu / max(my_cpu, 1e-9):>9.2f}", flush=True)
    os.system(f"rm -rf {gocache}")  # noqa: S605 - our own temporary directory


if __name__ == "__main__":
    main()
