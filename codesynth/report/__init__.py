"""``codesynth report``: one self-contained HTML page for a pipeline run directory or an
evaluation results file (optionally compared with a second one)."""

from __future__ import annotations

import os
from pathlib import Path

from codesynth.errors import UserError

SAMPLE = 25  # records per stage and outcome in the browsable table
KS = (1, 10, 100)


def build(source: str | Path, compare: str | Path | None = None,
          ks: tuple[int, ...] = KS, sample: int = SAMPLE) -> str:
    """The report's HTML for a run directory or an eval results file."""
    from codesynth.report import eval_data, eval_report, run_data, run_report
    from codesynth.report.page import render

    path = Path(source)
    if not path.exists():
        raise UserError(f"{path}: no such file or directory")
    if run_data.is_run(path):
        if compare is not None:
            raise UserError("--compare compares two evaluation results files, not runs")
        return render(run_report.page(run_data.gather(path, sample)))
    if eval_data.is_results(path):
        first = eval_data.gather(path, list(ks), sample)
        second = None
        if compare is not None:
            other = Path(compare)
            if not eval_data.is_results(other):
                raise UserError(f"{other}: not an evaluation results file (rows with "
                                "task_id, completion and passed)")
            second = eval_data.gather(other, list(ks), sample)
        return render(eval_report.page(first, second))
    raise UserError(f"{path}: neither a run directory (with summary.json or stages/) nor an "
                    "evaluation results file (JSONL rows with task_id, completion, passed)")


def default_output(source: str | Path) -> Path:
    path = Path(source)
    return path / "report.html" if path.is_dir() else path.with_name(path.stem + ".report.html")


def write(source: str | Path, output: str | Path | None = None, **options: object) -> Path:
    """Build the report and write it atomically; returns its path."""
    target = Path(output) if output else default_output(source)
    html = build(source, **options)  # type: ignore[arg-type]
    partial = target.with_name(target.name + ".partial")
    partial.write_text(html, encoding="utf-8")
    os.replace(partial, target)
    return target
