"""Selection among candidates by behaviour (clusters, dual agreement) when the tests are weak
and model-written: on our own set, and in the pipeline (``keep = "best"``) with test
strength, flaky candidates dropped and the dataset card's test strength section."""

from __future__ import annotations

import collections
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codesynth import selection
from codesynth.records import Job, Limits
from codesynth.sandbox import open_sandbox
from tests.conftest import Run
from tests.openai_server import Request, ScriptedServer
from tests.selection_set import TASKS, records

REPO = Path(__file__).resolve().parent.parent
LIMITS = Limits(timeout=5.0, memory_mb=256)


@pytest.fixture(scope="module")
def local() -> Iterator[Any]:
    with open_sandbox("local", workers=2, limits=LIMITS) as box:
        yield box


def rates(local: Any, seed: int) -> tuple[int, int, int]:
    """(tasks, first passing correct, selected correct) on the set shuffled by ``seed``."""
    rows = records(seed)
    executions = local.run_many([Job(id=r["id"], code=r["code"], tests=r["tests"],
                                     entry_point=r["entry_point"]) for r in rows], LIMITS)
    tasks: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    for row, execution in zip(rows, executions, strict=True):
        assert execution.passed, row["id"]  # the weak tests let every candidate through
        tasks[row["task_id"]].append({**row, "result": execution.to_dict()})
    chosen = selection.select(local, list(tasks.items()), LIMITS)
    first = sum(next(r for r in rows if r["result"]["passed"])["correct"]
                for rows in tasks.values())
    picked = 0
    for rows, (index, _) in zip(tasks.values(), chosen, strict=True):
        assert index is not None
        picked += rows[index]["correct"]
    return len(tasks), first, picked


def test_selection_beats_first_passing_on_weak_model_written_tests(local: Any) -> None:
    totals = [0, 0, 0]
    for seed in (7, 8, 9):
        for i, value in enumerate(rates(local, seed)):
            totals[i] += value
    tasks, first, picked = totals
    print(f"\nweak-test set: {tasks} task orderings; first passing correct {first}/{tasks} "
          f"({first / tasks:.0%}), selected correct {picked}/{tasks} ({picked / tasks:.0%})")
    assert tasks == 3 * len(TASKS)
    assert picked > first and picked >= 0.9 * tasks


def test_clusters_and_scores() -> None:
    rows = [{"result": {"passed": True, "tests": [{"outcome": "passed"}] * 2}},
            {"result": {"passed": True, "tests": [{"outcome": "passed"}] * 2}},
            {"result": {"passed": True, "tests": [{"outcome": "passed"}] * 2}},
            {"result": {"passed": False, "tests": [{"outcome": "failed"}] * 2}}]
    behaviours = [["1", "!ValueError"], ["2", "!ValueError"], ["1", "!IndexError"], None]
    scored = selection.score(rows, behaviours)
    assert [s.cluster for s in scored] == [0, 1, 0, 2]  # which exception: the same output
    assert [s.score for s in scored] == [4, 2, 4, 0]
    assert selection.best(rows, scored) == 0


# --- the pipeline -------------------------------------------------------------------------

CATALOG = {
    "clamp": ("Write a function `clamp(x, lo, hi)` that limits x to the range from lo to hi.",
              "assert clamp(5, 0, 10) == 5\n",
              [TASKS["clamp"][2][0], *TASKS["clamp"][1]]),  # sample 0 is wrong
    "count_words": ("Write a function `count_words(s)` that counts the words of s (runs of "
                    "characters other than whitespace).",
                    "assert count_words('a b') == 2\n",
                    [TASKS["count_words"][2][0], *TASKS["count_words"][1]]),
    "coin": ("Write a function `coin()` that flips a fair coin and returns True for heads.",
             "assert coin()\n",
             ["import os\n\ndef coin():\n    return os.urandom(1)[0] % 2 == 0\n"] * 4),
}
ORDER = list(CATALOG)
EDGES = {"clamp": "(-5, 0, 10)\n(15, 0, 10)\n(3, 3, 3)\n", "count_words": "('',)\n('  a  b ',)\n"}
ASKED: list[str] = []


def reply(request: Request) -> str:
    prompt, seed = request.last_user, int(request.body.get("seed", 0))
    if "edge-case inputs" in prompt:
        ASKED.append(prompt)
        return "```python\n" + next(v for k, v in EDGES.items() if f"`{k}(" in prompt) + "```"
    if "new, diverse programming tasks" in prompt:
        instruction = CATALOG[ORDER[seed % len(ORDER)]][0]
        return f"1. Instruction: {instruction}\n"
    key = next(k for k, (instruction, _, _) in CATALOG.items() if instruction in prompt)
    _, tests, samples = CATALOG[key]
    if "assert statements" in prompt:
        return f"```python\n{tests}```"
    return f"```python\n{samples[seed % len(samples)]}```"


def pipeline(tmp_path: Path, base_url: str, keep: str) -> Path:
    path = tmp_path / f"{keep}.toml"
    path.write_text(f"""
[run]
name = "{keep}"
output = "{tmp_path / ('run-' + keep)}"

[llm]
base_url = "{base_url}"
concurrency = 2

[sandbox]
timeout = 5
memory_mb = 512

[[generate]]
method = "self-instruct"
n = 3
seeds = "{REPO / 'seeds'}"
params = {{ tasks_per_request = 1 }}

[solve]
samples = 4

[verify]
test_strength = 8
reruns = 16
edge_cases = 4

[filter]
keep = "{keep}"

[decontaminate]
benchmarks = ["humaneval"]
execution = false

[export]
formats = ["jsonl"]
""")
    return path


def test_pipeline_keep_best_picks_the_agreeing_solution(run: Run, tmp_path: Path) -> None:
    kept: dict[str, dict[str, str]] = {}
    asked_before = len(ASKED)  # other tests' runs of this server reply also count there
    for keep in ("one", "best"):
        with ScriptedServer(reply) as server:
            code, out, err = run("run", pipeline(tmp_path, server.base_url, keep), "--json")
        assert code == 0, err
        run_dir = tmp_path / f"run-{keep}"
        rows = [json.loads(line) for line in
                (run_dir / "dataset/verified.jsonl").read_text().splitlines()]
        kept[keep] = {r["entry_point"]: r["code"] for r in rows}
        verified = [json.loads(line) for line in
                    (run_dir / "stages/03-verify.jsonl").read_text().splitlines()]
        for row in verified:  # every coin that passed once is caught by the reruns
            if row["entry_point"] == "coin" and row["result"]["passed"]:
                assert row["result"]["flaky"]["tests"] == ["tests.py:1"]
        assert "coin" not in kept[keep]  # flaky: filtered out by default
        summary = json.loads(out.strip().splitlines()[-1])
        rejected = summary["stages"]["filter"]["rejected"]
        if any(r["entry_point"] == "coin" and r["kept"] for r in verified):
            assert rejected["flaky"] >= 1
        card = (run_dir / "dataset/README.md").read_text()
        assert "## Test strength" in card and "mean" in card
        for row in rows:
            assert row["result"]["test_strength"]["mutants"] >= 1
    assert len(ASKED) - asked_before == 4  # one edge-case request per task with parameters,
    # per run
    # keep = "one" takes the first passing sample: the wrong one the weak tests let through.
    assert kept["one"]["clamp"] == CATALOG["clamp"][2][0]
    assert kept["one"]["count_words"] == CATALOG["count_words"][2][0]
    # keep = "best": a member of the largest cluster of agreeing candidates.
    assert kept["best"]["clamp"] in TASKS["clamp"][1]
    assert kept["best"]["count_words"] in TASKS["count_words"][1]


def test_repairs_take_fixes_from_the_agreeing_cluster(run: Run, tmp_path: Path) -> None:
    tests, correct, wrong = TASKS["clamp"]
    failed = "def clamp(x, lo, hi):\n    return x + 1\n"
    rows = [{"id": f"c{i}", "task_id": "clamp", "code": code, "tests": tests,
             "entry_point": "clamp"} for i, code in enumerate([failed, wrong[0], *correct])]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, _, err = run("verify", source, "-o", tmp_path / "verified.jsonl")
    assert code == 0, err
    fixes = {}
    for flag in ((), ("--select-fixes",)):
        out = tmp_path / f"repairs{len(flag)}.jsonl"
        code, _, err = run("repairs", tmp_path / "verified.jsonl", "-o", out, *flag)
        assert code == 0, err
        [pair] = [json.loads(line) for line in out.read_text().splitlines()]
        assert pair["buggy_code"] == failed
        fixes[bool(flag)] = pair["fixed_code"]
    assert fixes[False] == wrong[0]  # the closest passing program: wrong, weak tests
    assert fixes[True] in correct


HOSTILE_CLAMP = """\
import builtins, json
_calls = []
def clamp(x, lo, hi):
    _calls.append((x, lo, hi))
    return x
def _right(x, lo, hi):
    return min(max(x, lo), hi)
_real = builtins.print
def _print(*args, **kwargs):
    if args and isinstance(args[0], str) and '@@codesynth-probe@@' in args[0]:
        return _real('\\n@@codesynth-probe@@' + json.dumps([repr(_right(*c)) for c in _calls]))
    return _real(*args, **kwargs)
builtins.print = _print
"""


def test_a_candidate_cannot_print_its_way_into_the_majority(local: Any) -> None:
    """A wrong candidate that patches ``print`` to print the right outputs (computed on the
    side) does not reach the probe, which runs in the judge: it stays alone in its cluster."""
    tests, correct, _ = TASKS["clamp"]
    rows = [{"id": f"c{i}", "code": code, "tests": tests, "entry_point": "clamp"}
            for i, code in enumerate([HOSTILE_CLAMP, *correct[:2]])]
    executions = local.run_many([Job(id=r["id"], code=r["code"], tests=tests) for r in rows],
                                LIMITS)
    for row, execution in zip(rows, executions, strict=True):
        assert execution.passed
        row["result"] = execution.to_dict()
    [(index, scored)] = selection.select(local, [("clamp", rows)], LIMITS)
    assert index is not None and rows[index]["code"] in correct
    assert scored[0].cluster_size == 1
    assert scored[1].cluster_size == scored[2].cluster_size == 2
