"""Test strength on HumanEval's 164 canonical solutions, and what it costs.

For each problem, the same K seeded mutants of the canonical solution run against the
official tests and against a weakened copy (only the first assertion of ``check``). Prints
how often the official tests score higher, the mean scores, the equivalent mutants found,
and the cost: mutants per second and seconds per record (mutants, probes and all).

    python benchmarks/test_strength.py [--mutants 20] [--limit 164] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("CODESYNTH_EXEC_CACHE", "off")  # measure the work, not the cache

from codesynth.humaneval import load_problems, problem_job  # noqa: E402
from codesynth.records import Job, Limits  # noqa: E402
from codesynth.sandbox import open_sandbox  # noqa: E402
from codesynth.test_strength import first_assertion_only, measure  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants", type=int, default=20)
    parser.add_argument("--limit", type=int, default=164)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sandbox", default="local")
    args = parser.parse_args()
    problems = list(load_problems().values())[:args.limit]
    official = [problem_job(p, p["canonical_solution"], p["task_id"]) for p in problems]
    weak = [Job(id=j.id, code=j.code, tests=first_assertion_only(j.tests),
                test_style=j.test_style, entry_point=j.entry_point) for j in official]
    limits = Limits(timeout=3.0)
    with open_sandbox(args.sandbox, workers=args.workers, limits=limits) as sandbox:
        originals = list(sandbox.run_many(official, limits))
        assert all(e.passed for e in originals), "a canonical solution fails its tests"
        durations = [e.duration for e in originals]
        start = time.perf_counter()
        strong = measure(sandbox, official, limits, args.mutants, durations=durations)
        seconds = time.perf_counter() - start
        weakened = measure(sandbox, weak, limits, args.mutants, durations=durations)
    mutants = sum(len(s.mutants) for s in strong)
    pairs = [(s.score, w.score) for s, w in zip(strong, weakened, strict=True)
             if s.score is not None and w.score is not None]
    higher = sum(a > b for a, b in pairs)
    equal = sum(a == b for a, b in pairs)
    print(f"problems: {len(problems)}, with mutants: {len(pairs)}, mutants: {mutants} "
          f"(K={args.mutants}), equivalent (official tests): "
          f"{sum(s.equivalent for s in strong)}")
    print(f"official tests score higher than the first assertion alone: {higher} of "
          f"{len(pairs)} ({higher / max(len(pairs), 1):.1%}); equal: {equal}; lower: "
          f"{len(pairs) - higher - equal}")
    print(f"mean score: official {sum(a for a, _ in pairs) / max(len(pairs), 1):.3f}, "
          f"first assertion only {sum(b for _, b in pairs) / max(len(pairs), 1):.3f}")
    print(f"cost (official tests, mutants + probes, {args.workers} workers): "
          f"{mutants / seconds:.1f} mutants/s, {seconds / len(problems) * 1000:.0f} ms per record")


if __name__ == "__main__":
    main()
