"""CPU per job, by process: where a verdict's cost goes, for this checkout and another one.

One local worker runs HumanEval's canonical solutions (after a warm-up); the CPU time of the
runner, of the zygote, and of the jobs' processes (the runner's reaped children), and their
page faults, are read from ``/proc/<pid>/stat`` before and after, divided by the number of
jobs. With ``--compare DIR`` another checkout (say the commit before a change) runs the same
jobs in the same run, in a child interpreter, and both are printed.

    python benchmarks/job_cpu.py [--rounds 2] [--compare DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

MEASURE = r"""
import json, os, sys, time
from codesynth.humaneval import load_problems
from codesynth.records import Job, Limits
from codesynth.sandbox.local import LocalSandbox

def ticks(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return [int(fields[i]) for i in (11, 12, 13, 14, 7, 8)]  # utime stime cutime cstime, faults

problems = load_problems().values()
jobs = [Job(id=p["task_id"], code=p["prompt"] + p["canonical_solution"],
            tests=p["test"] + f"\ncheck({p['entry_point']})\n") for p in problems]
box = LocalSandbox(workers=1, limits=Limits(timeout=10))
list(box.run_many(jobs[:40]))  # warm
stub = box._pool._runners[0].proc.pid
runner = int(open(f"/proc/{stub}/task/{stub}/children").read().split()[0])
children = open(f"/proc/{runner}/task/{runner}/children").read().split()
helper = int(children[0]) if children else None  # the zygote (or the old design's factory)
before = ticks(runner), ticks(helper) if helper else [0] * 6
start, count = time.perf_counter(), 0
for _ in range(int(sys.argv[1])):
    for result in box.run_many(jobs):
        count += 1
        assert result.passed, (result.id, result.reason)
wall = time.perf_counter() - start
after = ticks(runner), ticks(helper) if helper else [0] * 6
box.close()
hz = os.sysconf("SC_CLK_TCK")
def ms(which, a, b):
    spent = sum(after[which][i] - before[which][i] for i in range(a, b))
    return 1000 * spent / hz / count
print(json.dumps({"jobs": count, "wall_ms": 1000 * wall / count, "runner_ms": ms(0, 0, 2),
                  "helper_ms": ms(1, 0, 2), "jobs_user_ms": ms(0, 2, 3),
                  "jobs_system_ms": ms(0, 3, 4),
                  "job_faults": (after[0][5] - before[0][5]) / count}))
"""


def measure(root: Path, rounds: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(root), "CODESYNTH_EXEC_CACHE": "off"}
    done = subprocess.run([sys.executable, "-c", MEASURE, str(rounds)], capture_output=True,
                          text=True, check=True, cwd=root, env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])


def show(name: str, figures: dict[str, float]) -> None:
    total = figures["runner_ms"] + figures["helper_ms"] + figures["jobs_user_ms"] + \
        figures["jobs_system_ms"]
    print(f"  {name}: {total:.2f} ms of CPU per job (runner {figures['runner_ms']:.2f}, "
          f"zygote/factory {figures['helper_ms']:.2f}, job processes "
          f"{figures['jobs_user_ms']:.2f} user + {figures['jobs_system_ms']:.2f} system, "
          f"{figures['job_faults']:.0f} page faults); wall {figures['wall_ms']:.2f} ms/job "
          f"on one worker")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="passes over the 164 problems")
    parser.add_argument("--compare", type=Path, default=None,
                        help="another checkout of codesynth, measured in the same run")
    args = parser.parse_args()
    ours = measure(REPO, args.rounds)
    print(f"HumanEval canonical solutions, {int(ours['jobs'])} jobs, one local worker")
    show("this checkout", ours)
    if args.compare is not None:
        time.sleep(1)
        other = measure(args.compare.resolve(), args.rounds)
        show(str(args.compare), other)
        ratio = (ours["runner_ms"] + ours["helper_ms"] + ours["jobs_user_ms"]
                 + ours["jobs_system_ms"]) / (other["runner_ms"] + other["helper_ms"]
                                              + other["jobs_user_ms"] + other["jobs_system_ms"])
        print(f"  this checkout takes {ratio:.2f}x the CPU per job of {args.compare}")


if __name__ == "__main__":
    main()
