"""Export: JSONL, Hugging Face ``datasets`` (save_to_disk, parquet, push_to_hub when a token
is configured), in SFT (instruction/response) and chat-messages shapes, with a dataset card.

``verified.jsonl`` is in the ``verify`` format: each record carries ``result``, the trace of
the verify stage's run of that candidate (as recorded in ``stages/03-verify.jsonl``; its
measurements, such as ``duration``, are those of that run). The other shapes hold no trace.
The dataset card (``README.md``) lists every file and its fields.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from codesynth.jsonl import json_line

SHAPES = ("sft", "chat", "verified")
PROVENANCE = "generator (method, model, template hash, parents, round, seed, params), " \
    "solving request and verification summary (and augmented_tests, when made)"
# Every exported file's fields, for the dataset card (a test checks them against the files).
FIELDS: dict[str, dict[str, str]] = {
    "sft": {"id": "candidate id", "instruction": "the task",
            "response": "the verified solution, in a ```python block",
            "provenance": PROVENANCE},
    "chat": {"id": "candidate id",
             "messages": "[user: the task, assistant: the verified solution]",
             "provenance": PROVENANCE},
    "verified": {"id": "candidate id", "instruction": "the task", "language": "python",
                 "code": "the verified solution", "tests": "the tests it passed",
                 "test_style": "how the tests run (assert, humaneval, pytest, stdio)",
                 "entry_point": "the function under test",
                 "result": "the verify trace: status, per-test outcomes, output, limits",
                 "provenance": PROVENANCE},
    "bugfix_pairs": {
        "id": "pair id", "task_id": "the verified record it comes from",
        "instruction": "the task", "buggy_code": "the program with one bug",
        "fixed_code": "the verified program", "diff": "unified diff, buggy -> fixed",
        "bug_kind": "the bug operator", "bug_description": "what the bug changed",
        "failing_tests": "tests the buggy program fails and the fixed one passes",
        "tests": "the tests", "test_style": "how the tests run",
        "entry_point": "the function under test", "language": "python",
        "provenance": "strategy, source id, operator and line, seed"},
}


def response(record: dict[str, Any]) -> str:
    return f"```{record.get('language') or 'python'}\n{record['code'].rstrip()}\n```"


def shaped(record: dict[str, Any], shape: str) -> dict[str, Any]:
    provenance = {"origin": record.get("origin"), "solve": record.get("solve"),
                  "verification": record.get("verification"),
                  "candidate_id": record.get("candidate_id")}
    if record.get("augmented_tests"):  # tests that kill mutants the task's tests let live
        provenance["augmented_tests"] = record["augmented_tests"]
    if shape == "sft":
        return {"id": record["candidate_id"], "instruction": record["instruction"],
                "response": response(record), "provenance": provenance}
    if shape == "chat":
        return {"id": record["candidate_id"],
                "messages": [{"role": "user", "content": record["instruction"]},
                             {"role": "assistant", "content": response(record)}],
                "provenance": provenance}
    return {"id": record["candidate_id"], "instruction": record["instruction"],
            "language": record.get("language", "python"), "code": record["code"],
            "tests": record["tests"], "test_style": record["test_style"],
            "entry_point": record.get("entry_point"), "result": record.get("result"),
            "provenance": provenance}


def export(records: Iterable[dict[str, Any]], directory: Path, options: dict[str, Any],
           info: dict[str, Any]) -> dict[str, Any]:
    """Write every shape and format into ``directory`` (replaced atomically), with the card
    made from ``info`` (see :func:`dataset_card`)."""
    shapes = list(options.get("shapes", SHAPES))
    formats = list(options.get("formats", ["jsonl", "hf", "parquet"]))
    staging = directory.with_name(directory.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    rows: dict[str, list[dict[str, Any]]] = {shape: [] for shape in shapes}
    for record in records:
        for shape in shapes:
            rows[shape].append(shaped(record, shape))
    written: dict[str, list[str]] = {}
    sets: dict[str, Any] = {}
    for shape, items in rows.items():
        files = []
        if "jsonl" in formats:
            path = staging / f"{shape}.jsonl"
            path.write_text("".join(json_line(i) for i in items), encoding="utf-8")
            files.append(path.name)
        if ("hf" in formats or "parquet" in formats) and items:
            dataset = sets[shape] = _dataset(items)
            if "hf" in formats:
                dataset.save_to_disk(str(staging / "hf" / shape))
                files.append(f"hf/{shape}")
            if "parquet" in formats:
                dataset.to_parquet(str(staging / f"{shape}.parquet"))
                files.append(f"{shape}.parquet")
        written[shape] = files
    info = {**info, "files": written}
    (staging / "README.md").write_text(dataset_card(info))
    shutil.rmtree(directory, ignore_errors=True)
    os.replace(staging, directory)
    pushed = _push(sets, options)
    return {"directory": str(directory), "records": len(next(iter(rows.values()), [])),
            "files": written, "pushed": pushed}


def _dataset(items: list[dict[str, Any]]) -> Any:
    import datasets

    datasets.disable_progress_bars()  # the pipeline's own view reports the export
    # Nested provenance and traces vary between records: stored as JSON text, lossless.
    flat = [{**i, **{k: json.dumps(i[k], sort_keys=True) for k in ("provenance", "result")
                     if k in i}} for i in items]
    return datasets.Dataset.from_list(flat)


def _push(shaped_sets: dict[str, Any], options: dict[str, Any]) -> str | None:
    """Push to the hub when ``hub_repo`` is set, unless ``push = false`` (the pipeline file
    was checked: a hub_repo to push has a token)."""
    from codesynth.pipeline.schema import hub_token

    repo = options.get("hub_repo")
    token = hub_token()
    if not repo or options.get("push") is False or not token:
        return None
    for shape, data in shaped_sets.items():
        data.push_to_hub(repo, config_name=shape, private=bool(options.get("private", True)),
                         token=token)
    return str(repo)


def dataset_card(summary: dict[str, Any]) -> str:
    """The card: what made the data, counts per stage, decontamination, and every file with
    its fields."""
    stages = summary["stages"]
    lines = ["---", "tags: [code, synthetic, codesynth]", "task_categories: [text-generation]",
             "language: [en]", "---", "", f"# {summary['name']}", "",
             "Made with codesynth: every response was executed in a sandbox and passed its "
             "tests.", "",
             f"- methods: {', '.join(summary['methods'])}",
             f"- model: {summary['model']}",
             f"- records: {summary['records']}",
             *(["- records per language: " + ", ".join(
                 f"{k} {v}" for k, v in sorted(summary["languages"].items()))]
               if summary.get("languages") else []),
             f"- candidate pass rate: {summary['pass_rate']:.1%}",
             "- report: [report.html](../report.html), next to this folder: charts of "
             "every stage, rejections, token spend and sample records (`codesynth report`)",
             "",
             "## Stages", "", "| stage | in | out | rejected (by reason) |", "|---|---|---|---|"]
    for stage, row in stages.items():
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(row.get("rejected", {}).items()))
        lines.append(f"| {stage} | {row.get('in', '')} | {row.get('out', '')} | {reasons} |")
    decontam = summary.get("decontamination") or {}
    lines += ["", "## Decontamination", "",
              f"Benchmarks: {', '.join(map(str, decontam.get('benchmarks', [])))} "
              f"({decontam.get('problems', 0)} problems). Removed by n-gram overlap: "
              f"{len(decontam.get('ngram', []))}; removed because they solve a benchmark "
              f"problem when executed: {len(decontam.get('execution', []))}.", ""]
    lines += test_strength_lines(summary.get("test_strength"))
    lines += ["## Files", ""]
    for shape, files in summary.get("files", {}).items():
        if files:
            lines.append(f"- {', '.join(f'`{f}`' for f in files)}: {_what(shape)}")
    if "bugs" in stages:
        lines.append("- `bugfix_pairs.jsonl`: bug-fix pairs made from `verified` by the bugs "
                     "stage (AST bug operators), each fail-to-pass: the buggy program fails "
                     "a test the fixed one passes")
    for product, file in summary.get("products", {}).items():
        lines.append(f"- `{file}`: {PRODUCT_FILES[product]} (the {product} stage)")
    lines += ["", "Records in `hf/` and `.parquet` hold `provenance` (and `result`) as JSON "
              "text.", "", "## Fields", ""]
    for shape in [*summary.get("files", {}), *(["bugfix_pairs"] if "bugs" in stages else [])]:
        lines += [f"### {shape}", "", "| field | content |", "|---|---|"]
        lines += [f"| `{k}` | {v} |" for k, v in FIELDS[shape].items()] + [""]
    return "\n".join(lines)


PRODUCT_FILES = {
    "lintseq": "LintSeq edit sequences of the verified programs: insertion-only diffs "
               "through states that all lint clean",
    "repairs": "repair pairs (failed attempt, its error trace, the closest passing fix) and "
               "chains of several failed attempts",
    "refactor": "refactoring variants: pass the original tests and agree with the original "
                "on generated inputs; with the transforms and the diff",
    "optimize": "faster variants: pass the same tests, statistically faster in repeated "
                "CPU-time measurements; with the timings and the speed-up",
    "nl2sql": "questions and SQL whose result equals an independent reference query's; "
              "with the schema, the result and the execution traces",
    "translate": "programs translated into another language that pass the source's tests "
                 "(stdio cases, or its assertions run in the target) in the sandbox; with "
                 "the source's id, language and code"}


def test_strength_lines(strength: dict[str, Any] | None) -> list[str]:
    """The card's test strength section: the mutation scores of the records' tests."""
    if not strength:
        return []
    lines = ["## Test strength", "",
             f"Each record's tests were run against seeded mutants of its program (AST bug "
             f"operators); the score is the share of mutants killed, equivalent mutants left "
             f"out. Measured on {strength['measured']} of {strength['records']} records: "
             f"mean {strength['mean']}, quartiles {strength['p25']} / {strength['median']} / "
             f"{strength['p75']}.", "", "| score | records |", "|---|---|"]
    lines += [f"| {span} | {count} |" for span, count in strength["bins"].items()]
    return [*lines, ""]


def _what(shape: str) -> str:
    return {"sft": "instruction/response pairs (supervised fine-tuning)",
            "chat": "the same as chat messages",
            "verified": "the verify format: code, tests and the verify trace (`result`)"}[shape]


def write_card(directory: Path, info: dict[str, Any]) -> None:
    """Replace the card of an exported dataset (atomically): after the bugs stage."""
    temporary = directory / "README.md.partial"
    temporary.write_text(dataset_card(info))
    os.replace(temporary, directory / "README.md")
