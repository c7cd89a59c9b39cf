"""Memory of a long `codesynth verify` run stays flat: RSS of the CLI at 10k and at 100k records.

Generates N small records (half pass, half fail, a few with larger traces), runs
`codesynth verify` on them as a user would, samples the CLI process's resident memory while it
runs, and prints RSS after 10k records and at the end. The runners are long-lived too; their
RSS is reported alongside.

    python benchmarks/verify_memory.py [--records 100000] [--checkpoint 10000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def write_records(path: Path, count: int) -> None:
    with path.open("w") as out:
        for i in range(count):
            ok = i % 2 == 0
            code = f"def f(x):\n    return x + {1 if ok else 2}\n"
            if i % 97 == 0:
                code += "print('x' * 2000)\n"
            out.write(json.dumps({"id": i, "code": code, "tests": "assert f(1) == 2\n",
                                  "meta": {"i": i}}) + "\n")


def rss_kb(pid: int, field: str = "VmRSS") -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def runner_pids(cli: int) -> list[int]:
    """The runners started by ``cli``: its children (stubs) and their children (runners)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes()
                status = (entry / "status").read_text()
            except OSError:
                continue
            if b"codesynth.sandbox.runner" in cmd:
                ppid = next(int(line.split()[1]) for line in status.splitlines()
                            if line.startswith("PPid:"))
                parents[int(entry.name)] = ppid
    stubs = {pid for pid, ppid in parents.items() if ppid == cli}
    return sorted(stubs | {pid for pid, ppid in parents.items() if ppid in stubs})


def count_lines(path: Path) -> int:
    try:
        with path.open("rb") as handle:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    except OSError:
        return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--checkpoint", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        write_records(src, args.records)
        partial = out.with_name(out.name + ".partial")
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "codesynth", "verify", str(src), "-o",
                                 str(out), "--json"], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        at_checkpoint: tuple[int, int] | None = None
        samples: list[int] = []
        runner_rss: list[int] = []
        while proc.poll() is None:
            time.sleep(0.5)
            samples.append(rss_kb(proc.pid))
            runner_rss.append(sum(rss_kb(p) for p in runner_pids(proc.pid)))
            done = count_lines(partial)
            if at_checkpoint is None and done >= args.checkpoint:
                at_checkpoint = (done, samples[-1])
        elapsed = time.perf_counter() - start
        summary = json.loads((proc.stdout.read() if proc.stdout else "").strip() or "{}")
        assert proc.returncode == 0, proc.returncode
        assert count_lines(out) == args.records
    final_rss = max(samples[-3:]) if samples else 0
    print(f"codesynth verify, {args.records} records in {elapsed:.0f} s "
          f"({1000 * elapsed / args.records:.2f} ms/record), statuses {summary.get('by_status')}")
    if at_checkpoint:
        print(f"  CLI RSS after {at_checkpoint[0]:>7} records: {at_checkpoint[1] / 1024:7.1f} MiB")
    print(f"  CLI RSS after {args.records:>7} records: {final_rss / 1024:7.1f} MiB "
          f"(peak sampled {max(samples) / 1024:.1f} MiB)")
    print(f"  runners' RSS (all workers), peak sampled: {max(runner_rss) / 1024:.1f} MiB")
    if at_checkpoint:
        growth = (final_rss - at_checkpoint[1]) / 1024
        print(f"  growth from {at_checkpoint[0]} to {args.records} records: {growth:+.1f} MiB")


if __name__ == "__main__":
    main()
