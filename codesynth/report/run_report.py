"""The report of a pipeline run: from :class:`RunData` to a :class:`Page`."""

from __future__ import annotations

from typing import Any

from codesynth.report import charts
from codesynth.report.page import Block, Page, Table
from codesynth.report.run_data import DIMENSIONS, RunData

USAGE = ("requests", "replies", "cache_hits", "retries", "failures", "prompt_tokens",
         "completion_tokens", "tokens")


def page(data: RunData) -> Page:
    summary, stages = data.summary, data.stages
    verify = stages.get("verify", {})
    llm: dict[str, dict[str, Any]] = summary.get("llm") or {}
    facts: list[tuple[str, str, str | None]] = [
        ("records in the dataset", str(summary.get("records", stages.get("export", {})
                                                   .get("out", "?"))), "records"),
        ("model", str(summary.get("model", "?")), None)]
    if verify.get("in"):
        facts.append(("verification pass rate",
                      f"{verify.get('out', 0) / verify['in']:.1%}", "pass-rate"))
    if "bugs" in stages:
        facts.append(("bug-fix pairs", str(stages["bugs"].get("out", 0)), "bug-pairs"))
    if llm:
        facts.append(("model requests", f"{sum(u.get('requests', 0) for u in llm.values()):,}",
                      "requests"))
        facts.append(("tokens", f"{sum(u.get('tokens', 0) for u in llm.values()):,}", "tokens"))
    notices = []
    if not summary:
        notices.append("No summary.json: the run has not finished; counts come from the "
                       "stage files.")
    if data.bad_lines:
        notices.append(f"{len(data.bad_lines)} unreadable line(s) skipped, e.g. "
                       f"{', '.join(data.bad_lines[:3])}")
    groups: list[list[Block]] = [[_funnel(data)]]
    pair = _blocks(data, llm)
    groups += [pair[i:i + 2] for i in range(0, len(pair), 2)]
    groups.append([_decontamination(data)])
    seen = data.samples.total_seen()
    order = {name: i for i, name in enumerate(stages)}
    records = sorted(data.samples.all(), key=lambda r: (
        order.get(r["source"], len(order)), r["source"], r["outcome"] != "rejected", r["id"]))
    return Page(f"codesynth run: {summary.get('name', data.directory.name)}",
                str(data.directory), facts, groups, records,
                f"{len(records):,} of {seen:,} records: a random sample of at most "
                f"{data.samples.size} per stage and outcome (seed 0), so that the page stays "
                "small for any run. Click a record for its code, tests, trace and diff.",
                notices)


def _blocks(data: RunData, llm: dict[str, dict[str, Any]]) -> list[Block]:
    """The charts and tables between the funnel and the decontamination matches, in the
    order they are shown, two per row: those the run has data for."""
    summary, stages = data.summary, data.stages
    pair: list[Block] = [_rejections(stages)]
    if data.failures:
        pair.append(Block.of(charts.failures(dict(data.failures),
                                             "Failed candidates: status taxonomy",
                                             "failures")))
    pair += [Block.of(charts.pass_rates(d, data.groups[d])) for d in DIMENSIONS
             if d in data.groups]
    if data.strength is not None and data.strength_stage:
        pair.append(Block.of(charts.strength(data.strength, data.strength_stage)))
    by_kind = stages.get("bugs", {}).get("by_kind") or {}
    if by_kind:
        pair.append(_bugs(by_kind))
    if data.repairs:
        pair.append(_repairs(data))
    if llm:
        pair.append(_tokens(llm))
    seconds = summary.get("seconds") or {}
    if seconds:
        pair.append(Block.of(charts.bars(
            "seconds", "Time per stage", "wall-clock seconds of the run that completed it",
            {"seconds": {k: round(float(v), 2) for k, v in seconds.items()}},
            "stage", "seconds")))
    return pair


def _funnel(data: RunData) -> Block:
    stages, seconds = data.stages, data.summary.get("seconds") or {}
    rows = []
    for name, row in stages.items():
        rejected = sum(row.get("rejected", {}).values())
        rows.append([(name, None), (str(row.get("in", "")), f"stage.{name}.in"),
                     (str(row.get("out", "")), f"stage.{name}.out"),
                     (str(rejected), f"stage.{name}.rejected"),
                     (f"{seconds[name]:.2f}" if name in seconds else "", None)])
    return Block.of(charts.funnel(stages),
                    Table(["stage", "in", "kept", "rejected", "seconds"], rows, {1, 2, 3, 4}))


def _rejections(stages: dict[str, dict[str, Any]]) -> Block:
    rows = [[(stage, None), (reason, None), (str(count), f"rejected.{stage}.{reason}")]
            for stage, row in stages.items()
            for reason, count in sorted(row.get("rejected", {}).items(), key=lambda kv: -kv[1])]
    return Block("rejections", "Rejections by reason", "every rejected record, by its stage",
                 table=Table(["stage", "reason", "records"], rows, {2}))


def _bugs(by_kind: dict[str, dict[str, int]]) -> Block:
    series = {"kept (fail-to-pass)": {k: v.get("kept", 0) for k, v in by_kind.items()},
              "survived (no test fails)": {k: v.get("survived", 0) for k, v in by_kind.items()}}
    rows = [[(kind, None)] + [(str(v.get(f, 0)), f"bugs.{kind}.{f}")
                              for f in ("tried", "kept", "survived")]
            for kind, v in sorted(by_kind.items())]
    chart = charts.bars("bugs", "Bug operators: kept vs surviving mutants",
                        "a survivor is a bug no test catches: a measure of weak tests", series,
                        "operator", "mutants")
    return Block.of(chart, Table(["operator", "tried", "kept", "survived"], rows, {1, 2, 3}))


def _repairs(data: RunData) -> Block:
    series: dict[str, dict[str, float]] = {"records": {k: float(v)
                                                       for k, v in data.repairs.items()}}
    if data.chain_lengths:
        series = {"chains": {f"{n} attempts": float(c)
                             for n, c in sorted(data.chain_lengths.items())}}
    chart = charts.bars("repairs", "Repair data", "repair pairs and chains (chains by their "
                        "number of failed attempts)" if data.chain_lengths else
                        "repair records by kind", series, "", "records")
    rows = [[(kind, None), (str(count), f"repairs.{kind}")]
            for kind, count in sorted(data.repairs.items())]
    return Block.of(chart, Table(["kind", "records"], rows, {1}))


def _tokens(llm: dict[str, dict[str, Any]]) -> Block:
    series = {"prompt tokens": {s: u.get("prompt_tokens", 0) for s, u in llm.items()},
              "completion tokens": {s: u.get("completion_tokens", 0) for s, u in llm.items()}}
    chart = charts.bars("tokens", "Token spend and requests per stage",
                        "tokens the model server reported; requests include retries",
                        series, "stage", "tokens", stack=True)
    rows = [[(stage, None)] + [(f"{usage.get(f, 0):,}", f"llm.{stage}.{f}") for f in USAGE]
            for stage, usage in llm.items()]
    return Block.of(chart, Table(["stage", *[f.replace("_", " ") for f in USAGE]], rows,
                                 set(range(1, len(USAGE) + 1))))


def _decontamination(data: RunData) -> Block:
    report = data.summary.get("decontamination") or {}
    rows = [[(m["method"], None), (m["candidate"], None), (m["instruction"], None),
             (m["problem"], "match." + m["candidate"]),
             (gist(m["problem_text"]), None)] for m in data.matches]
    benchmarks = ", ".join(map(str, report.get("benchmarks", []))) or "none"
    note = (f"against {benchmarks} ({report.get('problems', 0)} problems): "
            f"{len(report.get('ngram', []))} removed by n-gram overlap, "
            f"{len(report.get('execution', []))} because, executed, they solve a benchmark "
            "problem")
    if report.get("unfinished"):
        note += f"; {len(report['unfinished'])} scan(s) did not finish"
    return Block("decontamination", "Decontamination matches", note,
                 table=Table(["found by", "candidate", "instruction", "benchmark problem",
                              "its text"], rows) if rows else None)


def gist(text: str) -> str:
    """The first line of a benchmark prompt that says something (not an import or the
    signature)."""
    for line in text.splitlines():
        line = line.strip().strip('"').strip("'").strip()
        if line and not line.startswith(("from ", "import ", "def ", "#", ">>>")):
            return line[:160]
    return text.strip()[:160]
