"""``codesynth report``: the page of a real pipeline run (the scripted server, as in
test_pipeline) and of real evaluation results, drawn by headless Chromium; its charts and
numbers read back from the DOM and checked against summary.json and ``eval --json``."""

from __future__ import annotations

import collections
import gzip
import json
import re
import struct
from pathlib import Path
from typing import Any

import pytest

from tests.browser import (
    Node,
    bar_labels,
    bars,
    by_id,
    dump_dom,
    keyed,
    needs_chromium,
    parse,
    screenshot,
)
from tests.conftest import Run
from tests.openai_server import ScriptedServer
from tests.test_pipeline import pipeline, reply

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example pipeline's run against the scripted server, made by ``codesynth run``."""
    from codesynth.cli import main

    folder = tmp_path_factory.mktemp("run")
    with ScriptedServer(reply) as server:
        assert main(["run", str(pipeline(folder, server.base_url))]) == 0
    return folder / "run-p"


def charts(root: Node) -> dict[str, Node]:
    return {n.attrs["id"]: n for n in root.walk() if "chart" in n.classes()}


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


def test_run_writes_its_report_and_the_card_links_it(real_run: Path) -> None:
    summary = json.loads((real_run / "summary.json").read_text())
    assert summary["report"] == str(real_run / "report.html")
    assert (real_run / "report.html").stat().st_size > 1_000_000  # plotly.js is inside
    assert "](../report.html)" in (real_run / "dataset/README.md").read_text()
    assert set(summary["seconds"]) == set(summary["stages"])
    assert set(summary["llm"]) == {"generate", "solve"}


@needs_chromium
def test_run_report_draws_and_shows_the_summary(real_run: Path, tmp_path: Path) -> None:
    summary = json.loads((real_run / "summary.json").read_text())
    page = real_run / "report.html"
    html = page.read_text()
    # Self-contained: nothing is fetched (the browser has no network either).
    assert not re.search(r"<(script|link|img|iframe)\b[^>]*\b(src|href)=", html)
    root = parse(dump_dom(page))
    drawn = charts(root)
    stages = summary["stages"]

    # The funnel: one bar per stage that kept something and per (stage, reason) rejected;
    # kept bars as long as the stage's output; labels are the summary's numbers.
    funnel = drawn["chart-funnel"]
    rejections = [n for row in stages.values() for n in row.get("rejected", {}).values() if n]
    kept = [row["out"] for row in stages.values() if row["out"]]
    assert len(bars(funnel)) == len(kept) + len(rejections)
    widths = [w for w, _ in bars(funnel, trace=0)]
    assert len(widths) == len(kept)
    assert all(abs(w / n - widths[0] / kept[0]) < 0.01 * widths[0] / kept[0]
               for w, n in zip(widths, kept, strict=True))
    assert sorted(bar_labels(funnel)) == sorted(str(n) for n in kept + rejections)

    # Every number shown under a key equals summary.json.
    shown = keyed(root)
    for name, row in stages.items():
        assert shown[f"stage.{name}.in"] == str(row["in"])
        assert shown[f"stage.{name}.out"] == str(row["out"])
        assert shown[f"stage.{name}.rejected"] == str(sum(row["rejected"].values()))
        for reason, count in row["rejected"].items():
            assert shown[f"rejected.{name}.{reason}"] == str(count)
    assert shown["records"] == str(summary["records"])
    assert shown["pass-rate"] == f"{stages['verify']['out'] / stages['verify']['in']:.1%}"
    for stage, usage in summary["llm"].items():
        for field in ("requests", "tokens", "cache_hits", "prompt_tokens"):
            assert shown[f"llm.{stage}.{field}"] == f"{usage[field]:,}"
    assert shown["tokens"] == f"{sum(u['tokens'] for u in summary['llm'].values()):,}"
    by_kind = stages["bugs"]["by_kind"]
    for kind, row in by_kind.items():
        for field in ("tried", "kept", "survived"):
            assert shown[f"bugs.{kind}.{field}"] == str(row[field])
    for candidate, problem in summary["decontamination"]["execution"]:
        assert shown[f"match.{candidate}"] == problem == "HumanEval/0"

    # Bug operators: one bar per non-zero (operator, kept|survived).
    assert len(bars(drawn["chart-bugs"])) == sum(
        bool(row["kept"]) + bool(row["survived"]) for row in by_kind.values())
    # Pass rate per generator, from the verify stage file: one bar per generator.
    verified = [json.loads(line) for line in
                (real_run / "stages/03-verify.jsonl").read_text().splitlines()]
    methods = collections.Counter(r["origin"]["method"] for r in verified)
    assert len(bars(drawn["chart-pass-generator"])) == len(methods)
    passed = sum(r["kept"] for r in verified)
    assert bar_labels(drawn["chart-pass-generator"]) == [f"{passed}/{len(verified)}"]
    # Failed candidates: as many as the verify stage rejected, by status.
    assert len(bars(drawn["chart-failures"])) >= 1
    # Token spend: prompt and completion bars for both stages that asked the model.
    assert len(bars(drawn["chart-tokens"])) == 4
    assert len(bars(drawn["chart-seconds"])) == sum(
        round(s, 2) > 0 for s in summary["seconds"].values())

    # The record table: kept and rejected records of every stage, with highlighted code.
    records = [n for n in by_id(root, "record-list").children if n.tag == "details"]
    outcomes = {(n.attrs["data-source"], n.attrs["data-outcome"]) for n in records}
    assert {("verify", "rejected"), ("verify", "kept"), ("decontaminate", "rejected"),
            ("bug-fix pairs", "kept")} <= outcomes
    assert any("hl" in n.classes() for n in records[0].walk())
    total = sum(row["in"] for name, row in stages.items() if name not in ("export", "bugs"))
    total += stages["bugs"]["out"]
    assert f"{len(records)} of {total} records" in by_id(root, "records-note").content()

    target = tmp_path / "run.png"
    screenshot(page, target, 1280, 1600)
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>")
    screenshot(blank, tmp_path / "blank.png", 1280, 1600)
    assert png_size(target) == (1280, 1600)
    # A drawn page compresses far worse than an empty one.
    assert target.stat().st_size > 10 * (tmp_path / "blank.png").stat().st_size


@needs_chromium
def test_run_report_is_readable_in_dark_mode(real_run: Path) -> None:
    """Plotly's own dark template in dark mode: light axis text on the dark page."""
    def tick_fills(dark: bool) -> set[str]:
        """The fill colours of the funnel's stage names (its y tick labels)."""
        funnel = charts(parse(dump_dom(real_run / "report.html", dark=dark)))["chart-funnel"]
        styles = [n.attrs.get("style", "") for n in funnel.walk()
                  if n.tag == "text" and n.attrs.get("data-unformatted") in summary["stages"]]
        assert len(styles) == len(summary["stages"])
        return {m.group(1) for s in styles if (m := re.search(r"fill: (rgb\([^)]*\))", s))}

    summary = json.loads((real_run / "summary.json").read_text())
    light, dark = tick_fills(False), tick_fills(True)
    assert light == {"rgb(42, 63, 95)"}  # plotly_white's text
    assert dark == {"rgb(242, 245, 250)"}  # plotly_dark's text


def samples(path: Path, problems: list[dict[str, Any]], passes: Any) -> Path:
    """Four samples per problem: the canonical solution, or a wrong one, as ``passes``
    says."""
    wrong = ["    return None\n", "    raise ValueError('no')\n", "    return undefined\n"]
    with path.open("w") as handle:
        for i, problem in enumerate(problems):
            for j in range(4):
                completion = problem["canonical_solution"] if passes(i, j) else wrong[j % 3]
                handle.write(json.dumps({"task_id": problem["task_id"],
                                         "completion": completion}) + "\n")
    return path


@needs_chromium
def test_eval_report_compares_two_runs(run: Run, tmp_path: Path) -> None:
    from codesynth.humaneval import default_problems_path

    with gzip.open(default_problems_path(), "rt") as handle:
        problems = [json.loads(line) for line in handle][:12]
    runs = {}
    for name, passes in (("a", lambda i, j: (i + j) % 3 > 0 and i != 4),
                         ("b", lambda i, j: (i + j) % 2 > 0 and i != 7)):
        source = samples(tmp_path / f"{name}.jsonl", problems, passes)
        code, out, err = run("eval", "humaneval", source, "-k", "1,2,4", "--json",
                             "-o", tmp_path / f"{name}_results.jsonl")
        assert code == 0, err
        runs[name] = json.loads(out.strip().splitlines()[-1])
    page = tmp_path / "report.html"
    code, out, err = run("report", tmp_path / "a_results.jsonl", "--compare",
                         tmp_path / "b_results.jsonl", "-k", "1,2,4", "-o", page)
    assert code == 0, err
    root = parse(dump_dom(page))
    shown, drawn = keyed(root), charts(root)
    for label, name in (("A", "a"), ("B", "b")):
        for k, value in runs[name]["pass_at_k"].items():
            assert shown[f"{label}.{k}"] == f"{value:.4f}"
            assert shown[f"{label}.{k}.value"] == f"{value:.4f}"
        assert shown[f"{label}.samples"] == str(runs[name]["total"])
    # pass@k: 3 bars per run, as tall as the values they show.
    for trace, name in enumerate("ab"):
        heights = [h for _, h in bars(drawn["chart-pass-at-k"], trace=trace)]
        values = list(runs[name]["pass_at_k"].values())
        assert len(heights) == 3
        assert all(abs(h / v - heights[-1] / values[-1]) < 0.01 * heights[-1] / values[-1]
                   for h, v in zip(heights, values, strict=True))
    # Per problem: a bar for each problem with a passing sample, in each run.
    rows = {name: [json.loads(line) for line in
                   (tmp_path / f"{name}_results.jsonl").read_text().splitlines()]
            for name in "ab"}
    solved = {name: {r["task_id"] for r in rows[name] if r["passed"]} for name in "ab"}
    assert len(bars(drawn["chart-per-problem"])) == len(solved["a"]) + len(solved["b"])
    # Gained and lost: problems no sample of one run solves and the other does.
    assert {k.split(".", 1)[1] for k in shown if k.startswith("gained.")} == \
        solved["b"] - solved["a"] == {"HumanEval/4"}
    assert {k.split(".", 1)[1] for k in shown if k.startswith("lost.")} == \
        solved["a"] - solved["b"] == {"HumanEval/7"}
    for task in {r["task_id"] for r in rows["a"]}:
        n = sum(r["task_id"] == task for r in rows["a"])
        c = sum(r["task_id"] == task and r["passed"] for r in rows["a"])
        assert shown[f"A.problem.{task}"] == f"{c}/{n}"
    failed_kinds = {(r["trace"]["status"], r["trace"]["exception"]["type"])
                    for r in rows["a"] if not r["passed"]}
    assert len(bars(drawn["chart-failures-A"])) == len(failed_kinds)  # stacked: status x type
    assert len(bars(drawn["chart-delta"])) == sum(
        abs(runs["b"]["pass_at_k"][k] - runs["a"]["pass_at_k"][k]) > 1e-9
        for k in runs["a"]["pass_at_k"])
    target = tmp_path / "eval.png"
    screenshot(page, target, 1280, 1200)
    assert png_size(target) == (1280, 1200) and target.stat().st_size > 50_000


@needs_chromium
def test_repairs_in_a_run_are_drawn(run: Run, real_run: Path, tmp_path: Path) -> None:
    """Repair pairs made from the run's verify stage (``codesynth repairs``) join its page."""
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(real_run, copy, ignore=shutil.ignore_patterns("hf", "*.parquet"))
    code, out, err = run("repairs", copy / "stages/03-verify.jsonl", "-o",
                         copy / "repairs.jsonl", "--json")
    assert code == 0, err
    made = json.loads(out.strip().splitlines()[-1])
    code, _, err = run("report", copy)
    assert code == 0, err
    root = parse(dump_dom(copy / "report.html"))
    shown = keyed(root)
    kinds = {k: made[k] for k in ("repair", "chain") if made[k]}
    assert kinds and {k: int(shown[f"repairs.{k}"]) for k in kinds} == kinds
    assert len(bars(charts(root)["chart-repairs"])) == len(kinds)
    sources = {n.attrs.get("data-source") for n in by_id(root, "record-list").children}
    assert "repairs (repairs.jsonl)" in sources


def test_a_resumed_run_keeps_stage_times_and_model_usage(tmp_path: Path) -> None:
    """Run again after it finished (the model server gone): every stage is done already,
    and the summary and report still hold each stage's time and the model's usage."""
    from codesynth.cli import main

    with ScriptedServer(reply) as server:
        path = pipeline(tmp_path, server.base_url)
        assert main(["run", str(path)]) == 0
    first = json.loads((tmp_path / "run-p/summary.json").read_text())
    (tmp_path / "run-p/report.html").unlink()
    assert main(["run", str(path)]) == 0
    again = json.loads((tmp_path / "run-p/summary.json").read_text())
    assert again["llm"] == first["llm"] and again["seconds"] == first["seconds"]
    html = (tmp_path / "run-p/report.html").read_text()
    assert f'data-key="llm.solve.requests">{first["llm"]["solve"]["requests"]}<' in html
