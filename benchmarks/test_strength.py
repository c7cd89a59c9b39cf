"""Test strength on HumanEval's 164 canonical solutions, and what it costs.

For each problem, the same K seeded mutants of the canonical solution run against the
official tests and against a weakened copy (only the first assertion of ``check``). Prints
how often the official tests score higher, the mean scores, the equivalent mutants found,
and the cost: mutants per second and milliseconds per record (mutants, probes and all).

On a shared machine, run the set in slices and report them together:

    python benchmarks/test_strength.py [--mutants 20] [--start 0] [--limit 164] [--workers 2]
        [--save rows.jsonl]                  # append each problem's figures
    python benchmarks/test_strength.py --report rows.jsonl   # the figures over every slice
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

os.environ.setdefault("CODESYNTH_EXEC_CACHE", "off")  # measure the work, not the cache

from codesynth.humaneval import load_problems, problem_job  # noqa: E402
from codesynth.records import Job, Limits  # noqa: E402
from codesynth.sandbox import open_sandbox  # noqa: E402
from codesynth.test_strength import first_assertion_only, measure  # noqa: E402


def report(rows: list[dict[str, Any]]) -> None:
    pairs = [(r["official"], r["weak"]) for r in rows
             if r["official"] is not None and r["weak"] is not None]
    higher = sum(a > b for a, b in pairs)
    equal = sum(a == b for a, b in pairs)
    mutants = sum(r["mutants"] for r in rows)
    seconds = sum(r["seconds"] for r in rows)
    print(f"problems: {len(rows)}, with mutants: {len(pairs)}, mutants: {mutants}, "
          f"equivalent (found by probes, official tests): {sum(r['equivalent'] for r in rows)}")
    print(f"official tests score higher than the first assertion alone: {higher} of "
          f"{len(pairs)} ({higher / max(len(pairs), 1):.1%}); equal: {equal} (of which both "
          f"1.0: {sum(a == b == 1.0 for a, b in pairs)}); lower: {len(pairs) - higher - equal}")
    print(f"mean score: official {sum(a for a, _ in pairs) / max(len(pairs), 1):.3f}, "
          f"first assertion only {sum(b for _, b in pairs) / max(len(pairs), 1):.3f}")
    plain = sum(r["verify_seconds"] for r in rows)
    print(f"cost (official tests, mutants + probes): {mutants / seconds:.1f} mutants/s, "
          f"{seconds / len(rows) * 1000:.0f} ms per record; anchor, plain verification of "
          f"the same records in the same run: {plain / len(rows) * 1000:.1f} ms per record "
          f"(x{seconds / plain:.0f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants", type=int, default=20)
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--limit", type=int, default=164)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sandbox", default="local")
    parser.add_argument("--save", help="append each problem's figures to this JSONL file")
    parser.add_argument("--report", help="print the figures of the rows saved in this file")
    args = parser.parse_args()
    if args.report:
        with open(args.report) as handle:
            report([json.loads(line) for line in handle if line.strip()])
        return
    problems = list(load_problems().values())[args.start:args.start + args.limit]
    official = [problem_job(p, p["canonical_solution"], p["task_id"]) for p in problems]
    weak = [Job(id=j.id, code=j.code, tests=first_assertion_only(j.tests),
                test_style=j.test_style, entry_point=j.entry_point) for j in official]
    limits = Limits(timeout=3.0)
    with open_sandbox(args.sandbox, workers=args.workers, limits=limits) as sandbox:
        start = time.perf_counter()
        originals = list(sandbox.run_many(official, limits))
        plain = time.perf_counter() - start
        assert all(e.passed for e in originals), "a canonical solution fails its tests"
        durations = [e.duration for e in originals]
        start = time.perf_counter()
        strong = measure(sandbox, official, limits, args.mutants, durations=durations)
        seconds = time.perf_counter() - start
        weakened = measure(sandbox, weak, limits, args.mutants, durations=durations)
    share = seconds / max(sum(len(s.mutants) for s in strong), 1)
    rows = [{"task_id": s.job.id, "official": s.score, "weak": w.score,
             "mutants": len(s.mutants), "equivalent": s.equivalent,
             "seconds": share * len(s.mutants), "verify_seconds": plain / len(strong)}
            for s, w in zip(strong, weakened, strict=True)]
    if args.save:
        with open(args.save, "a") as handle:
            handle.writelines(json.dumps(row) + "\n" for row in rows)
    report(rows)


if __name__ == "__main__":
    main()
