"""``--reruns K``: programs whose outcome changes between runs are flaky, per test."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from codesynth.flaky import changes
from codesynth.records import Execution, Status, TestOutcome
from tests.conftest import Run

# With 16 runs, a fair coin shows both faces except with probability 2 * 2**-16.
RANDOM = {"id": "coin", "code": "import os\n\ndef coin():\n    return os.urandom(1)[0] % 2 == 0\n",
          "tests": "assert 1 + 1 == 2\nassert coin()\n"}
CLOCK = {"id": "clock", "code": "import time\n\ndef odd_microsecond():\n"
                                "    return time.time_ns() // 1000 % 2 == 1\n",
         "tests": "assert odd_microsecond()\n"}
STEADY = {"id": "steady", "code": "def add(a, b):\n    return a + b\n",
          "tests": "assert add(1, 2) == 3\n"}
FAILING = {"id": "failing", "code": "def add(a, b):\n    return a - b\n",
           "tests": "assert add(1, 2) == 3\n"}


def test_reruns_catch_random_and_time_dependent_programs(run: Run, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in (RANDOM, CLOCK, STEADY, FAILING)))
    out = tmp_path / "out.jsonl"
    code, _, err = run("verify", source, "-o", out, "--reruns", "15")
    assert code == 0, err
    rows = {r["id"]: r["result"] for r in map(json.loads, out.read_text().splitlines())}
    coin = rows["coin"]["flaky"]
    assert coin["runs"] == 16 and set(coin["statuses"]) == {"passed", "failed"}
    assert coin["tests"] == ["tests.py:2"]  # per test: the first assert never moved
    assert rows["clock"]["flaky"]["tests"] == ["tests.py:1"]
    assert "flaky" not in rows["steady"] and "flaky" not in rows["failing"]
    assert rows["failing"]["status"] == "failed"


def outcome(status: Status, *tests: str) -> Execution:
    return Execution(status=status, tests=tuple(
        TestOutcome(name=f"t{i}", outcome=o) for i, o in enumerate(tests)))


def test_changes_per_test_and_status_only() -> None:
    same = outcome(Status.PASSED, "passed", "passed")
    assert changes([same, same, same]) is None
    moved = changes([same, outcome(Status.FAILED, "passed", "failed")])
    assert moved == {"runs": 2, "statuses": ["passed", "failed"], "tests": ["t1"]}
    # No per-test outcomes (a timeout): the status moved, named "*".
    assert changes([outcome(Status.PASSED), outcome(Status.TIMEOUT)])["tests"] == ["*"]
    # A run with no verdict is no evidence either way.
    assert changes([same, outcome(Status.SANDBOX_ERROR)]) is None
    # A test one run reports and another does not (it was not reached).
    assert changes([same, outcome(Status.FAILED, "failed")])["tests"] == ["t0", "t1"]


def test_filter_drops_flaky_and_weakly_tested_records(tmp_path: Path) -> None:
    """The filter stage: flaky records out unless allowed; min_test_strength."""
    from codesynth.pipeline.config import Pipeline
    from codesynth.pipeline.stages import select
    from codesynth.pipeline.state import StageFile

    def row(ident: str, task: str, **result: object) -> dict[str, object]:
        return {"id": ident, "task_id": task, "kept": True, "code": "x = 1\n",
                "verification": {"tests_total": 2}, "result": {"passed": True, **result}}

    verified = StageFile(tmp_path / "03-verify.jsonl")
    for record in (row("a", "t1", flaky={"runs": 3, "statuses": ["passed", "failed"],
                                         "tests": ["tests.py:1"]}),
                   row("b", "t1", test_strength={"score": 0.5}),
                   row("c", "t2", test_strength={"score": 0.9}),
                   row("d", "t3")):
        verified.write(record)
    verified.close()

    def reasons(**options: object) -> list[object]:
        out = StageFile(tmp_path / f"04-{len(list(tmp_path.iterdir()))}.jsonl")
        pipeline = Pipeline(path=tmp_path / "p.toml", name="p", output=tmp_path,
                            filter=dict(options))
        select(verified, out, pipeline, lambda counts: None)
        out.close()
        return [r["reason"] for r in out.read()]

    assert reasons() == ["flaky", None, None, None]
    assert reasons(allow_flaky=True) == [None, "task_has_a_solution", None, None]
    assert reasons(min_test_strength=0.8) == ["flaky", "weak_tests", None, "weak_tests"]


def test_a_flaky_verdict_leaves_the_cache(run: Run, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("CODESYNTH_EXEC_CACHE", str(tmp_path / "exec.sqlite"))
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in (RANDOM, STEADY)))
    code, _, err = run("verify", source, "-o", tmp_path / "1.jsonl", "--reruns", "15")
    assert code == 0, err
    code, _, err = run("verify", source, "-o", tmp_path / "2.jsonl")
    assert code == 0, err
    again = [json.loads(line)["result"] for line in (tmp_path / "2.jsonl").read_text()
             .splitlines()]
    assert again[0].get("cache") is None and again[1]["cache"] == "hit"


def test_new_result_fields_round_trip_and_stay_optional() -> None:
    full = Execution(status=Status.PASSED, flaky={"runs": 2, "statuses": ["passed", "failed"],
                                                  "tests": ["*"]}, cache="hit",
                     test_strength={"mutants": 3, "killed": 2, "equivalent": 1, "score": 1.0,
                                    "survivors": [], "seed": 0})
    data = json.loads(json.dumps(full.to_dict()))
    assert Execution.from_dict(data) == full
    plain = Execution(status=Status.FAILED)
    assert not {"flaky", "cache", "test_strength"} & set(plain.to_dict())
    older = {k: v for k, v in data.items() if k not in ("flaky", "cache", "test_strength")}
    assert Execution.from_dict(older) == dataclasses.replace(full, flaky=None, cache=None,
                                                             test_strength=None)
