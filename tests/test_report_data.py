"""``codesynth report`` without a browser: bounded memory and time on a big run, hostile
records, bad input, and the statistics (bootstrap intervals, reservoir sampling)."""

from __future__ import annotations

import json
import time
import tracemalloc
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from codesynth.metrics import mean_pass_at_k
from codesynth.report import build
from codesynth.report._records import Reservoir
from codesynth.report.charts import wilson
from codesynth.report.eval_data import bootstrap
from tests.conftest import Run, squash

STATUSES = ["failed", "error", "timeout", "memory"]


def candidate(i: int, instruction: str = "") -> dict[str, Any]:
    passed = i % 3 != 0
    status = "passed" if passed else STATUSES[i % len(STATUSES)]
    return {"id": f"c{i:07d}", "task_id": f"t{i // 4}", "kept": passed,
            "reason": None if passed else "tests_failed",
            "instruction": instruction or f"Write function number {i} " + "word " * 30,
            "language": "python" if i % 5 else "rust",
            "code": f"def f{i}(x):\n    return x + {i}\n" * 8,
            "tests": f"assert f{i}(1) == {i + 1}\n" * 4, "test_style": "assert",
            "origin": {"method": ["self-instruct", "evol-instruct"][i % 2], "round": i % 3,
                       "params": {"difficulty": ["easy", "hard"][i % 2]}},
            "quality": {"test_strength": (i % 10) / 10},
            "result": {"passed": passed, "status": status, "reason": status,
                       "tests": [{"name": f"tests.py:{k}", "outcome": "passed", "line": k}
                                 for k in range(1, 5)],
                       "exception": None if passed else {"type": "AssertionError",
                                                         "traceback": "Traceback\n" * 20},
                       "stdout": "out\n" * 50, "stderr": ""}}


def make_run(folder: Path, count: int, instruction: str = "") -> Path:
    (folder / "stages").mkdir(parents=True)
    kept = 0
    with (folder / "stages/03-verify.jsonl").open("w") as handle:
        for i in range(count):
            row = candidate(i, instruction)
            kept += row["kept"]
            handle.write(json.dumps(row) + "\n")
    (folder / "summary.json").write_text(json.dumps({
        "name": "big", "stages": {"verify": {"in": count, "out": kept,
                                             "rejected": {"tests_failed": count - kept}}},
        "records": kept, "completed": True}))
    return folder


def peak_of(run_dir: Path) -> tuple[str, int]:
    tracemalloc.start()
    try:
        html = build(run_dir)
        return html, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_big_run_is_sampled_in_bounded_memory_and_time(tmp_path: Path) -> None:
    """Memory does not grow with the run (ten times the records: the same peak, give or
    take), and the table holds a fixed sample."""
    count = 20_000
    run_dir = make_run(tmp_path / "big", count)
    size = (run_dir / "stages/03-verify.jsonl").stat().st_size
    build(make_run(tmp_path / "warm", 10))  # imports, caches: not the run's memory
    started = time.perf_counter()
    build(run_dir)
    seconds = time.perf_counter() - started
    _, small = peak_of(make_run(tmp_path / "small", count // 10))
    html, peak = peak_of(run_dir)
    print(f"{count} records ({size / 1e6:.0f} MB): {seconds:.1f} s; peak {peak / 1e6:.0f} MB "
          f"({small / 1e6:.0f} MB for {count // 10}); page {len(html) / 1e6:.1f} MB")
    assert peak - small < 10e6 < size
    assert seconds < 60
    assert html.count('<details class="rec"') == 50  # 25 kept, 25 rejected
    assert f"50 of {count:,} records" in html and len(html) < 8e6
    # Every dimension the records carry has its pass-rate chart; test strength is drawn.
    for chart in ("pass-generator", "pass-round", "pass-language", "pass-difficulty",
                  "strength", "failures"):
        assert f'id="chart-{chart}"' in html


class Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)


def test_hostile_records_stay_text(tmp_path: Path) -> None:
    """Markup in a record is shown, never run; a torn line is counted, not fatal."""
    evil = "</script><script>window.pwned=1</script><img src=x onerror=alert(1)>"
    run_dir = make_run(tmp_path / "evil", 8, instruction=evil)
    with (run_dir / "stages/03-verify.jsonl").open("a") as handle:
        handle.write('{"id": "torn", "kept": tr\n')
    html = build(run_dir)
    parser = Scripts()
    parser.feed(html)
    figures = html.count('class="figure"')
    assert parser.tags.count("script") == figures + 2  # plotly.js, the figures, the glue
    assert "img" not in parser.tags
    assert "window.pwned=1</script>" not in html
    assert "1 unreadable line(s) skipped" in html and "03-verify.jsonl:9" in html


def test_bad_input_is_exit_2(run: Run, tmp_path: Path) -> None:
    code, _, err = run("report", tmp_path / "missing")
    assert code == 2 and "nosuchfile" in squash(err)
    other = tmp_path / "other.jsonl"
    other.write_text('{"hello": 1}\n')
    code, _, err = run("report", other)
    assert code == 2 and "neitherarundirectory" in squash(err)
    code, _, err = run("report", make_run(tmp_path / "r", 2), "--compare", other)
    assert code == 2 and "comparestwoevaluationresultsfiles" in squash(err)
    code, _, err = run("report", other, "-k", "0")
    assert code == 2 and "-k" in err


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 12), st.integers(0, 12)), min_size=1, max_size=40),
       st.integers(1, 3))
def test_bootstrap_interval_holds_the_estimate(pairs: list[tuple[int, int]], k: int) -> None:
    counts = {f"t{i}": (max(n, k), min(c, max(n, k))) for i, (n, c) in enumerate(pairs)}
    low, high = bootstrap(counts, k, resamples=200)
    estimate = mean_pass_at_k(counts, [k])[f"pass@{k}"]
    assert 0 <= low <= estimate + 1e-9 and estimate - 1e-9 <= high <= 1


@given(st.integers(0, 500), st.integers(0, 500))
def test_wilson_interval_holds_the_rate(passed: int, extra: int) -> None:
    total = passed + extra
    low, high = wilson(passed, total)
    rate = passed / total if total else 0.0
    assert 0 <= low <= rate + 1e-12 and rate - 1e-12 <= high <= 1


@given(st.lists(st.sampled_from("abc"), max_size=300), st.integers(1, 10))
def test_reservoir_keeps_at_most_size_per_bucket(buckets: list[str], size: int) -> None:
    reservoir = Reservoir(size)
    for index, bucket in enumerate(buckets):
        reservoir.offer(bucket, lambda index=index, bucket=bucket: (bucket, index))
    for bucket, items in reservoir.items.items():
        assert len(items) == min(size, buckets.count(bucket))
        assert all(b == bucket for b, _ in items) and len(set(items)) == len(items)
    assert reservoir.total_seen() == len(buckets)


def test_an_unfinished_run_is_counted_from_its_stage_files(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path / "unfinished", 9)
    (run_dir / "summary.json").unlink()
    html = build(run_dir)
    assert "No summary.json" in html
    assert 'data-key="stage.verify.in">9<' in html and 'data-key="stage.verify.out">6<' in html
    assert 'data-key="rejected.verify.tests_failed">3<' in html


def test_one_eval_file_alone(tmp_path: Path) -> None:
    results = tmp_path / "r.jsonl"
    with results.open("w") as handle:
        for task in range(3):
            for sample in range(2):
                passed = sample == 0 or task == 0
                handle.write(json.dumps({
                    "task_id": f"HumanEval/{task}", "completion": "    return 1\n",
                    "passed": passed, "result": "passed" if passed else "failed: ",
                    "trace": {"status": "passed" if passed else "timeout",
                              "duration": 0.01 * (task + 1)}}) + "\n")
    html = build(results, ks=(1, 2, 10))
    assert 'data-key="pass@1">0.6667<' in html and 'data-key="pass@2">1.0000<' in html
    assert "pass@10 not reported" in html
    assert 'data-key="problem.HumanEval/1">1/2<' in html
    assert "timeout 1" in html and "10.0 ms" in html and "20.0 ms" in html
