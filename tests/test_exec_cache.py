"""The execution cache: verdicts read back instead of run, in order, keyed by everything a
verdict depends on; identical jobs in one run run once; ``--no-cache``."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codesynth.exec_cache import CachedSandbox, ExecutionStore, job_key, runtime_digest
from codesynth.records import Execution, Job, Limits, Status
from codesynth.sandbox import open_sandbox
from tests.conftest import Run

LIMITS = Limits(timeout=3.0, memory_mb=256)
ADD = "def add(a, b):\n    return a + b\n"
PROGRAMS = [
    Job(id="ok", code=ADD, tests="assert add(1, 2) == 3\n"),
    Job(id="bad", code=ADD, tests="assert add(1, 2) == 4\n"),
    Job(id="err", code="def add(a, b)\n", tests="assert add(1, 2) == 3\n"),
    Job(id="hang", code="while True:\n    pass\n", tests="assert True\n"),
    Job(id="io", code="print('hi')\n", tests="assert True\n"),
]


class Counting:
    """A real sandbox that counts the jobs it is given (to see which ones the cache ran)."""

    def __init__(self, sandbox: Any) -> None:
        self.sandbox, self.ran = sandbox, []
        self.name = sandbox.name

    def run_many(self, jobs: Iterable[Job], limits: Limits | None = None
                 ) -> Iterator[Execution]:
        def counted() -> Iterator[Job]:
            for job in jobs:
                self.ran.append(job.id)
                yield job
        return self.sandbox.run_many(counted(), limits)  # type: ignore[no-any-return]

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def local() -> Iterator[Any]:
    with open_sandbox("local", workers=2, limits=LIMITS) as box:
        yield box


def test_hits_are_read_back_marked_and_equal(local: Any, tmp_path: Path) -> None:
    counting = Counting(local)
    cache = CachedSandbox(counting, ExecutionStore(tmp_path / "c.sqlite"))
    first = list(cache.run_many(PROGRAMS, LIMITS))
    assert [e.status for e in first] == [Status.PASSED, Status.FAILED, Status.ERROR,
                                         Status.TIMEOUT, Status.PASSED]
    assert all(e.cache is None for e in first) and len(counting.ran) == 5
    counting.ran.clear()
    second = list(cache.run_many(PROGRAMS, LIMITS))
    # Everything but the timeout (a loaded machine can cause one) comes from the cache.
    assert counting.ran == ["hang"]
    assert [e.cache for e in second] == ["hit", "hit", "hit", None, "hit"]
    for before, after in zip(first, second, strict=True):
        if after.cache == "hit":
            assert after.to_dict() == {**before.to_dict(), "cache": "hit"}
    assert second[4].stdout == "hi\n"
    assert cache.stats.hits == 4


def test_one_job_at_a_time_is_stored_too(local: Any, tmp_path: Path) -> None:
    """``run`` (one job) stores its verdict like ``run_many``: the second run is a hit."""
    counting = Counting(local)
    cache = CachedSandbox(counting, ExecutionStore(tmp_path / "c.sqlite"))
    assert cache.run(PROGRAMS[0], LIMITS).cache is None
    again = cache.run(PROGRAMS[0], LIMITS)
    assert again.cache == "hit" and again.status is Status.PASSED
    assert counting.ran == ["ok"]


def test_the_key_covers_what_a_verdict_depends_on(local: Any) -> None:
    runtime = runtime_digest(local)
    job = PROGRAMS[0]
    key = job_key(job, LIMITS, runtime)
    variants = [
        (Job(id="other id", code=job.code, tests=job.tests), LIMITS, runtime),
        (Job(id="x", code=job.code + "\n", tests=job.tests), LIMITS, runtime),
        (Job(id="x", code=job.code, tests=job.tests + "\n"), LIMITS, runtime),
        (Job(id="x", code=job.code, tests=job.tests, test_style="pytest"), LIMITS, runtime),
        (job, Limits(timeout=3.0, memory_mb=512), runtime),
        (job, LIMITS, {**runtime, "image": "codesynth-runner:other"}),
        (job, LIMITS, {**runtime, "python": "3.12.0"}),
    ]
    keys = [job_key(*v) for v in variants]
    assert keys[0] == key  # the id is a name, not part of what runs
    assert len({key, *keys[1:]}) == len(keys)


def test_identical_jobs_in_one_run_run_once(local: Any, tmp_path: Path) -> None:
    counting = Counting(local)
    cache = CachedSandbox(counting, ExecutionStore(tmp_path / "c.sqlite"))
    jobs = [Job(id=str(i), code=ADD, tests=f"assert add({i % 3}, 0) == {i % 3}\n")
            for i in range(12)]
    results = list(cache.run_many(jobs, LIMITS))
    assert len(counting.ran) == 3 and [r.passed for r in results] == [True] * 12
    assert [r.cache for r in results] == [None] * 3 + ["duplicate"] * 9
    assert [r.tests[0].source for r in results] == [j.tests.strip() for j in jobs]


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.lists(st.integers(0, len(PROGRAMS) - 2), min_size=1, max_size=12))
def test_results_stay_in_input_order(local: Any, tmp_path: Path, order: list[int]) -> None:
    """Whatever mix of hits, duplicates and misses, the i-th result is the i-th job's."""
    store = ExecutionStore(tmp_path / f"{len(order)}-{sum(order)}.sqlite")
    cache = CachedSandbox(local, store)
    list(cache.run_many([PROGRAMS[i] for i in order[::2]], LIMITS))  # some are stored
    expected = {0: Status.PASSED, 1: Status.FAILED, 2: Status.ERROR, 3: Status.TIMEOUT}
    results = list(cache.run_many([PROGRAMS[i] for i in order], LIMITS))
    assert [r.status for r in results] == [expected[i] for i in order]
    store.close()


def write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_verify_reads_the_cache_and_no_cache_runs_again(
        run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODESYNTH_EXEC_CACHE", str(tmp_path / "exec.sqlite"))
    records = write(tmp_path / "in.jsonl", [
        {"id": "a", "code": ADD, "tests": "assert add(1, 2) == 3\n"},
        {"id": "b", "code": ADD, "tests": "assert add(1, 2) == 3\n"},
        {"id": "c", "code": ADD, "tests": "assert add(1, 1) == 3\n"}])

    def results(name: str, *extra: str) -> list[dict[str, Any]]:
        code, _, err = run("verify", records, "-o", tmp_path / name, "--workers", "2", *extra)
        assert code == 0, err
        return [json.loads(line)["result"] for line in (tmp_path / name).read_text()
                .splitlines()]

    first = results("1.jsonl")
    assert [r.get("cache") for r in first] == [None, "duplicate", None]
    assert [r.get("cache") for r in results("2.jsonl")] == ["hit", "hit", "hit"]
    fresh = results("3.jsonl", "--no-cache")
    assert [r.get("cache") for r in fresh] == [None, None, None]
    assert [r["status"] for r in fresh] == [r["status"] for r in first]


def test_eval_pass_at_k_with_duplicate_samples_runs_each_once(
        run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODESYNTH_EXEC_CACHE", str(tmp_path / "exec.sqlite"))
    from codesynth.humaneval import load_problems

    problems = list(load_problems().values())[:3]
    rows = [{"task_id": p["task_id"], "completion": c} for p in problems
            for c in (p["canonical_solution"],) * 3 + ("    return None\n",) * 2]
    samples = write(tmp_path / "samples.jsonl", rows)
    code, out, err = run("eval", "humaneval", samples, "--json", "-k", "1",
                         "-o", tmp_path / "r.jsonl")
    assert code == 0, err
    assert json.loads(out.strip().splitlines()[-1])["pass_at_k"]["pass@1"] == pytest.approx(0.6)
    marks = [json.loads(line)["trace"].get("cache") for line in
             (tmp_path / "r.jsonl").read_text().splitlines()]
    assert marks == [None, "duplicate", "duplicate", None, "duplicate"] * 3


def test_a_cache_that_cannot_be_opened_is_a_clear_error(
        run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("CODESYNTH_EXEC_CACHE", str(tmp_path / "file" / "exec.sqlite"))
    records = write(tmp_path / "in.jsonl", [{"id": "a", "code": ADD,
                                             "tests": "assert add(1, 2) == 3\n"}])
    code, _, err = run("verify", records, "-o", tmp_path / "o.jsonl")
    assert code == 2 and "execution cache" in err and "--no-cache" in err
    code, _, err = run("verify", records, "-o", tmp_path / "o.jsonl", "--no-cache")
    assert code == 0, err
