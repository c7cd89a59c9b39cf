"""The execution cache on a pass@k workload with duplicate samples, against no cache, in the
same run.

HumanEval problems, N samples each, drawn (seeded) from a small pool per problem: the
canonical solution, two of its mutants and a stub, as a sampler at low temperature repeats
itself. The same jobs run three ways on one sandbox: without the cache, with a new cache
(identical samples run once), and again with that cache filled (every verdict read back).
pass@1 must agree across the three.

    python benchmarks/exec_cache.py [--problems 40] [--samples 10] [--workers 2]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from codesynth.exec_cache import CachedSandbox, ExecutionStore
from codesynth.humaneval import load_problems, problem_job
from codesynth.metrics import mean_pass_at_k
from codesynth.records import Job, Limits
from codesynth.sandbox import open_sandbox
from codesynth.test_strength import mutants_of


def workload(problems: int, samples: int) -> list[tuple[str, Job]]:
    jobs = []
    for problem in list(load_problems().values())[:problems]:
        canonical = problem_job(problem, problem["canonical_solution"], problem["task_id"])
        pool = [canonical.code, *(m.code for m in mutants_of(canonical, 2, 0)),
                problem["prompt"] + "    return None\n"]
        rng = random.Random(problem["task_id"])
        for index in range(samples):
            code = rng.choice(pool)
            jobs.append((problem["task_id"], Job(id=f"{problem['task_id']}#{index}", code=code,
                                                 tests=canonical.tests, test_style="humaneval",
                                                 entry_point=canonical.entry_point)))
    return jobs


def timed(sandbox: object, jobs: list[tuple[str, Job]], limits: Limits
          ) -> tuple[float, float]:
    start = time.perf_counter()
    results = list(sandbox.run_many([job for _, job in jobs], limits))  # type: ignore[attr-defined]
    seconds = time.perf_counter() - start
    counts: dict[str, tuple[int, int]] = {}
    for (task, _), execution in zip(jobs, results, strict=True):
        n, c = counts.get(task, (0, 0))
        counts[task] = (n + 1, c + int(execution.passed))
    return seconds, mean_pass_at_k(counts, [1])["pass@1"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=40)
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    jobs = workload(args.problems, args.samples)
    distinct = len({(j.code, j.tests) for _, j in jobs})
    limits = Limits(timeout=3.0)
    with tempfile.TemporaryDirectory() as directory, \
            open_sandbox("local", workers=args.workers, limits=limits) as sandbox:
        plain, p_plain = timed(sandbox, jobs, limits)
        cached = CachedSandbox(sandbox, ExecutionStore(Path(directory) / "exec.sqlite"))
        cold, p_cold = timed(cached, jobs, limits)
        warm, p_warm = timed(cached, jobs, limits)
    assert p_plain == p_cold == p_warm, (p_plain, p_cold, p_warm)
    n = len(jobs)
    print(f"pass@k workload: {args.problems} problems x {args.samples} samples = {n} jobs, "
          f"{distinct} distinct; pass@1 {p_plain:.3f} in all three runs")
    print(f"no cache (anchor):          {plain:6.2f} s  {plain / n * 1000:6.2f} ms/sample")
    print(f"cache, empty (dedup only):  {cold:6.2f} s  {cold / n * 1000:6.2f} ms/sample  "
          f"x{plain / cold:.1f}")
    print(f"cache, filled (all hits):   {warm:6.2f} s  {warm / n * 1000:6.2f} ms/sample  "
          f"x{plain / warm:.1f}")


if __name__ == "__main__":
    main()
