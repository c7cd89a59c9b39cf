"""The report of an evaluation results file, alone or compared with a second run."""

from __future__ import annotations

from codesynth.report import charts
from codesynth.report.eval_data import Comparison, EvalData, compare
from codesynth.report.page import Block, Page, Table


def page(a: EvalData, b: EvalData | None = None) -> Page:
    runs = {"A": a, "B": b} if b is not None else {"": a}
    facts: list[tuple[str, str, str | None]] = []
    for label, data in runs.items():
        prefix = f"{label}: " if label else ""
        key = f"{label}." if label else ""
        facts.append((f"{prefix}problems", str(len(data.problems)), f"{key}problems"))
        facts.append((f"{prefix}samples", str(data.samples_total), f"{key}samples"))
        for name, value in data.pass_at_k.items():
            facts.append((f"{prefix}{name}", f"{value:.4f}", f"{key}{name}"))
    notices = [f"{label + ': ' if label else ''}{name} not reported: {reason}"
               for label, data in runs.items() for name, reason in data.skipped.items()]
    notices += [f"{len(d.bad_lines)} unreadable line(s) skipped in {d.path}"
                for d in runs.values() if d.bad_lines]
    scores = {label or "pass@k": (d.pass_at_k, d.intervals) for label, d in runs.items()}
    rows = [[(label or str(a.path.name), None), (name, None),
             (f"{value:.4f}", f"{label + '.' if label else ''}{name}.value"),
             (f"{d.intervals[name][0]:.4f}", None), (f"{d.intervals[name][1]:.4f}", None)]
            for label, d in runs.items() for name, value in d.pass_at_k.items()]
    groups: list[list[Block]] = [[
        Block.of(charts.pass_at_k(scores),
                 Table(["run", "k", "pass@k", "95% low", "95% high"], rows, {2, 3, 4}))]]
    comparison = compare(a, b) if b is not None else None
    if comparison is not None and comparison.delta:
        groups[0].append(Block.of(charts.delta(comparison.delta, comparison.delta_intervals)))
    failure_blocks = [Block.of(charts.failures(
        dict(d.failures), f"Failure categories{' of ' + label if label else ''}",
        f"failures-{label or 'a'}")) for label, d in runs.items() if d.failures]
    if failure_blocks:
        groups.append(failure_blocks)
    groups.append([Block.of(charts.per_problem({label or "pass rate": d.counts
                                               for label, d in runs.items()}))])
    if comparison is not None and b is not None:
        groups.append(_changes(a, b, comparison))
    groups.append([_problems(a, "A" if b is not None else "")])
    if b is not None:
        groups.append([_problems(b, "B")])
    title = f"codesynth eval: {a.path.name}" + (f" vs {b.path.name}" if b is not None else "")
    subtitle = str(a.path) + (f" (A) and {b.path} (B)" if b is not None else "")
    records = []
    for label, data in runs.items():
        for record in data.samples.all():
            records.append({**record, "source": f"{label}: {record['source']}" if label
                            else record["source"]})
    seen = sum(d.samples.total_seen() for d in runs.values())
    return Page(title, subtitle, facts, groups, records,
                f"{len(records):,} of {seen:,} samples: a random sample of at most "
                f"{a.samples.size} passing and {a.samples.size} failing samples per run "
                "(seed 0). Click a sample for its completion and trace.", notices)


def _changes(a: EvalData, b: EvalData, comparison: Comparison) -> list[Block]:
    blocks = []
    for name, tasks, what in (("gained", comparison.gained, "no sample of A passes, one of B "
                               "does"), ("lost", comparison.lost, "a sample of A passes, "
                                                               "none of B does")):
        rows = [[(t, f"{name}.{t}"), (f"{a.problems[t].c}/{a.problems[t].n}", None),
                 (f"{b.problems[t].c}/{b.problems[t].n}", None)] for t in tasks]
        blocks.append(Block(f"problems-{name}", f"Problems {name}: {len(tasks)}",
                            f"{what} ({len(comparison.common)} problems in both runs; "
                            f"{comparison.only_a} only in A, {comparison.only_b} only in B)",
                            table=Table(["problem", "A passes", "B passes"], rows, {1, 2})))
    return blocks


def _problems(data: EvalData, label: str) -> Block:
    rows = []
    prefix = f"{label}." if label else ""
    for task, problem in data.problems.items():
        failures = ", ".join(f"{k} {v}" for k, v in problem.failures.most_common())
        rows.append([(task, None), (f"{problem.c}/{problem.n}", f"{prefix}problem.{task}"),
                     (f"{problem.c / problem.n:.0%}" if problem.n else "", None),
                     (failures, None),
                     (_ms(problem.fastest), None), (_ms(problem.slowest), None)])
    return Block(f"problems{'-' + label if label else ''}",
                 f"Per problem{' (' + label + ')' if label else ''}",
                 "passing samples of n, failure categories, fastest and slowest sample",
                 table=Table(["problem", "passed", "rate", "failures", "fastest", "slowest"],
                             rows, {1, 2, 4, 5}))


def _ms(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds * 1000:.1f} ms"
