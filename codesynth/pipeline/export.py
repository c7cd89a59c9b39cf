"""Export: JSONL, Hugging Face ``datasets`` (save_to_disk, parquet, push_to_hub when a token
is configured), in SFT (instruction/response) and chat-messages shapes, with a dataset card.

Exported records hold no timing (the trace stays in the stage files): a resumed run exports
exactly what an uninterrupted one does.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

SHAPES = ("sft", "chat", "verified")


def response(record: dict[str, Any]) -> str:
    return f"```python\n{record['code'].rstrip()}\n```"


def shaped(record: dict[str, Any], shape: str) -> dict[str, Any]:
    provenance = {"origin": record.get("origin"), "solve": record.get("solve"),
                  "verification": record.get("verification"),
                  "candidate_id": record.get("candidate_id")}
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
            "entry_point": record.get("entry_point"), "provenance": provenance}


def export(records: Iterable[dict[str, Any]], directory: Path, options: dict[str, Any],
           card: str) -> dict[str, Any]:
    """Write every shape and format into ``directory`` (replaced atomically)."""
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
    for shape, items in rows.items():
        files = []
        if "jsonl" in formats:
            path = staging / f"{shape}.jsonl"
            path.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items))
            files.append(path.name)
        if ("hf" in formats or "parquet" in formats) and items:
            dataset = _dataset(items)
            if "hf" in formats:
                dataset.save_to_disk(str(staging / "hf" / shape))
                files.append(f"hf/{shape}")
            if "parquet" in formats:
                dataset.to_parquet(str(staging / f"{shape}.parquet"))
                files.append(f"{shape}.parquet")
        written[shape] = files
    (staging / "README.md").write_text(card)
    shutil.rmtree(directory, ignore_errors=True)
    os.replace(staging, directory)
    pushed = _push(directory, shapes, options)
    return {"directory": str(directory), "records": len(next(iter(rows.values()), [])),
            "files": written, "pushed": pushed}


def _dataset(items: list[dict[str, Any]]) -> Any:
    import datasets

    datasets.disable_progress_bars()  # the pipeline's own view reports the export
    # Nested provenance varies between records: store it as JSON text, lossless.
    flat = [{**i, "provenance": json.dumps(i["provenance"], sort_keys=True)} for i in items]
    return datasets.Dataset.from_list(flat)


def _push(directory: Path, shapes: list[str], options: dict[str, Any]) -> str | None:
    repo = options.get("hub_repo")
    token = os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN")
    if not repo or not token:
        return None
    import datasets

    for shape in shapes:
        data = datasets.load_from_disk(str(directory / "hf" / shape))
        data.push_to_hub(repo, config_name=shape, private=bool(options.get("private", True)),
                         token=token)
    return str(repo)


def dataset_card(name: str, summary: dict[str, Any]) -> str:
    stages = summary["stages"]
    lines = ["---", "tags: [code, synthetic, codesynth]", "task_categories: [text-generation]",
             "language: [en]", "---", "", f"# {name}", "",
             "Made with codesynth: every response was executed in a sandbox and passed its "
             "tests.", "",
             f"- methods: {', '.join(summary['methods'])}",
             f"- model: {summary['model']}",
             f"- records: {summary['records']}",
             f"- candidate pass rate: {summary['pass_rate']:.1%}", "",
             "## Stages", "", "| stage | in | out | rejected (by reason) |", "|---|---|---|---|"]
    for stage, row in stages.items():
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(row.get("rejected", {}).items()))
        lines.append(f"| {stage} | {row.get('in', '')} | {row.get('out', '')} | {reasons} |")
    decontam = summary.get("decontamination") or {}
    lines += ["", "## Decontamination", "",
              f"Benchmarks: {', '.join(map(str, decontam.get('benchmarks', [])))} "
              f"({decontam.get('problems', 0)} problems). Removed by n-gram overlap: "
              f"{len(decontam.get('ngram', []))}; removed because they solve a benchmark "
              f"problem when executed: {len(decontam.get('execution', []))}.", "",
              "## Provenance", "",
              "Each record's `provenance` holds the generator (method, model, template hash, "
              "parents, round, seed), the solving request and the verification summary.", ""]
    return "\n".join(lines)
