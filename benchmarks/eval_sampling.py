"""Sampling + scoring with `codesynth eval evalplus`, against EvalPlus's own scoring step on
the same samples, in the same run.

The problems are an EvalPlus-format set generated here (--problems functions of a few kinds,
each with 10 base inputs and 40 plus inputs; HumanEval+ itself cannot be downloaded on this
machine). The model is a local OpenAI-compatible server (tests/openai_server.py) that answers
each (prompt, sample) with a fixed completion: the reference, or one of two mutants (one that
the plus inputs catch, one that the base inputs catch already).

- codesynth: `codesynth eval evalplus --base-url ... -n N --mode completion` as a fresh command:
  N requests per problem through the LLM layer, the samples file, then base and plus runs
  of every sample in the sandbox. Wall time of the whole command.
- EvalPlus: its scoring step alone on the samples file codesynth wrote: the expected outputs
  (`trusted_exec` on the reference, as `get_groundtruth` does), then `check_correctness` of
  every sample in a `ProcessPoolExecutor` with --workers processes, as `evalplus.evaluate`
  does (fast_check on, the default). No sampling is timed on its side.

Both must give the same base/plus verdict for every sample.

    python benchmarks/eval_sampling.py [--problems 60] [--n 5] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from tests.openai_server import Request, ScriptedServer  # noqa: E402

# (signature, docstring, reference body, mutant caught by plus only, mutant caught by base)
KINDS: list[tuple[str, str, str, str, str]] = [
    ("def f{i}(xs: list, k: int) -> int:", "Sum of xs plus {i} times k.",
     "    return sum(xs) + {i} * k\n",
     "    return sum(xs) + {i} * k if xs else 0\n",
     "    return sum(xs) - {i} * k\n"),
    ("def f{i}(s: str, n: int) -> str:", "s repeated n times, then reversed.",
     "    return (s * n)[::-1]\n",
     "    return (s * n)[::-1] if n < 7 else s\n",
     "    return s * n\n"),
    ("def f{i}(xs: list) -> list:", "The distinct values of xs, sorted, each times {i}.",
     "    return [x * {i} for x in sorted(set(xs))]\n",
     "    return [x * {i} for x in sorted(set(xs))] if len(xs) < 8 else []\n",
     "    return [x * {i} for x in xs]\n"),
]


def inputs(kind: int, count: int, seed: int) -> list[list[Any]]:
    import random

    rng = random.Random(seed)
    made = []
    for _ in range(count):
        if kind == 0:
            made.append([[rng.randint(-50, 50) for _ in range(rng.randint(0, 12))],
                         rng.randint(-9, 9)])
        elif kind == 1:
            made.append(["".join(rng.choice("abc") for _ in range(rng.randint(0, 5))),
                         rng.randint(0, 9)])
        else:
            made.append([[rng.randint(0, 9) for _ in range(rng.randint(0, 12))]])
    return made


def base_safe(kind: int, args: list[Any]) -> bool:
    """An input on which the plus-only mutant is still right (base inputs are such)."""
    if kind == 0:
        return bool(args[0])
    if kind == 1:
        return bool(args[1] < 7)
    return len(args[0]) < 8


def make_problems(count: int) -> list[dict[str, Any]]:
    problems = []
    for i in range(count):
        kind = i % len(KINDS)
        signature, doc, reference, _, _ = KINDS[kind]
        problems.append({
            "task_id": f"Synthetic/{i}", "entry_point": f"f{i}",
            "prompt": f'{signature.format(i=i)}\n    """{doc.format(i=i)}"""\n',
            "canonical_solution": reference.format(i=i),
            "base_input": [a for a in inputs(kind, 60, i) if base_safe(kind, a)][:10],
            "plus_input": inputs(kind, 40, 10_000 + i), "atol": 0})
    return problems


def answer(problems: list[dict[str, Any]]) -> Any:
    by_prompt = {p["prompt"]: (i, p) for i, p in enumerate(problems)}

    def reply(request: Request) -> str:
        i, problem = by_prompt[request.prompt]
        _, _, reference, plus_bug, base_bug = KINDS[i % len(KINDS)]
        seed = int(request.body.get("seed", 0))
        body = (reference, reference, reference, plus_bug, base_bug)[seed % 5]
        return body.format(i=i) + "\n\ndef trailing():\n    pass\n"  # cut by the stop words

    return reply


def evalplus_scoring(problems_file: Path, samples_file: Path, workers: int
                     ) -> tuple[float, list[tuple[str, str]]]:
    from evalplus.evaluate import check_correctness
    from evalplus.gen.util import trusted_exec

    started = time.perf_counter()
    problems = {}
    for line in problems_file.read_text().splitlines():
        row = json.loads(line)
        problems[row["task_id"]] = row
    expected = {}
    for task, problem in problems.items():
        code = problem["prompt"] + problem["canonical_solution"]
        oracle: dict[str, Any] = {}
        for part in ("base", "plus"):
            oracle[part], oracle[f"{part}_time"] = trusted_exec(
                code, problem[f"{part}_input"], problem["entry_point"], record_time=True)
        expected[task] = oracle
    samples = [json.loads(line) for line in samples_file.read_text().splitlines()]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(check_correctness, "humaneval", index, problems[s["task_id"]],
                               problems[s["task_id"]]["prompt"] + s["completion"],
                               expected[s["task_id"]], False, True, str(index))
                   for index, s in enumerate(samples)]
        verdicts = [(f.result()["base"][0], f.result()["plus"][0]) for f in futures]
    return time.perf_counter() - started, verdicts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=60)
    parser.add_argument("--n", type=int, default=5, help="samples per problem")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--latency", type=float, default=0.05,
                        help="seconds the server takes per request (a model's decoding)")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight")
    args = parser.parse_args()
    try:
        import evalplus.evaluate  # noqa: F401
    except ImportError as exc:
        sys.exit(f"evalplus's scoring step cannot be imported ({exc}): pip install evalplus")
    problems = make_problems(args.problems)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        problems_file = directory / "synthetic_plus.jsonl"
        problems_file.write_text("".join(json.dumps(p) + "\n" for p in problems))
        runs = {}
        for label, extra in (("overlapped", []), ("sequential", ["--no-overlap"])):
            runs[label] = ours_run(args, problems, problems_file, directory / label, extra)
        samples = directory / "overlapped" / "samples.jsonl"
        theirs, verdicts = evalplus_scoring(problems_file, samples, args.workers)
    ours, summary, rows = runs["overlapped"]
    sequential, sequential_summary, sequential_rows = runs["sequential"]
    mine = [(r["base_status"], r["plus_status"]) for r in rows]
    differ = sum(a != b for a, b in zip(mine, verdicts, strict=True))
    same = mine == [(r["base_status"], r["plus_status"]) for r in sequential_rows]
    count = len(rows)
    print(f"{args.problems} problems x {args.n} samples = {count} samples "
          f"(base + plus each), {args.workers} workers, {args.latency:.2f} s per request "
          f"at the server")
    for name, (seconds, info) in (("overlapped", (ours, summary)),
                                  ("sequential", (sequential, sequential_summary))):
        print(f"codesynth eval evalplus, {name} (sampling + scoring): {seconds:.2f} s "
              f"({1000 * seconds / count:.1f} ms/sample; sampling "
              f"{info['sampling_seconds']:.2f} s, scoring after it {info['scoring_seconds']:.2f}"
              " s)")
    print(f"evalplus scoring step alone:                  {theirs:.2f} s "
          f"({1000 * theirs / count:.1f} ms/sample)")
    print(f"overlap gain (sequential / overlapped): {sequential / ours:.2f}x; same verdicts: "
          f"{same}")
    print(f"ratio (evalplus scoring / codesynth sampling + scoring): {theirs / ours:.2f}x")
    print(f"pass@1 base {summary['pass_at_k']['base']['pass@1']:.3f}, "
          f"plus {summary['pass_at_k']['plus']['pass@1']:.3f}; verdicts that differ from "
          f"evalplus: {differ} of {count}")


def ours_run(args: argparse.Namespace, problems: list[dict[str, Any]], problems_file: Path,
             directory: Path, extra: list[str]) -> tuple[float, dict[str, Any],
                                                          list[dict[str, Any]]]:
    """One fresh ``codesynth eval evalplus --model`` command (its own LLM and execution
    caches): wall time, the JSON summary, the result rows."""
    directory.mkdir()
    with ScriptedServer(reply=answer(problems), latency=args.latency) as server:
        command = [sys.executable, "-m", "codesynth", "eval", "evalplus", "--problems",
                   str(problems_file), "--base-url", server.base_url, "--model",
                   "scripted-model", "-n", str(args.n), "--mode", "completion",
                   "--concurrency", str(args.concurrency), "--samples-out",
                   str(directory / "samples.jsonl"), "--cache",
                   str(directory / "cache.sqlite"), "-o", str(directory / "results.jsonl"),
                   "--workers", str(args.workers), "--timeout", "10", "-k", "1", "--json",
                   *extra]
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": REPO, "CODESYNTH_EXEC_CACHE":
                                   str(directory / "exec-cache.sqlite")})
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            sys.exit(f"codesynth failed ({done.returncode}):\n{done.stderr[-2000:]}")
    rows = [json.loads(line) for line in (directory / "results.jsonl").read_text().splitlines()]
    return seconds, json.loads(done.stdout), rows


if __name__ == "__main__":
    main()
