"""The pipeline's product stages, after export: LintSeq edit sequences, repair pairs and
chains, refactoring variants, optimized variants and text-to-SQL pairs. Each is optional
(its section in the pipeline file), and each works like the other stages: its records go
to ``stages/NN-name.jsonl`` as they are made (a resumed stage skips the ids there), exact
duplicates are dropped (the row stays, with its reason), and the kept rows are exported to
``dataset/FILE.jsonl`` (atomically) and listed in the dataset card.

Their inputs are the exported records, so they inherit dedup and decontamination; repairs
come from the verify stage's candidates of the exported tasks. ``nl2sql`` starts from
databases, not from the records: its pairs are not decontaminated against code benchmarks.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from codesynth.generators.base import Context
from codesynth.jsonl import AtomicJSONLWriter, json_line
from codesynth.pipeline.config import Pipeline
from codesynth.pipeline.dedup import normalize_text
from codesynth.pipeline.export import shaped
from codesynth.pipeline.schema import PRODUCTS
from codesynth.pipeline.stages import REQUEST_FAILED, Counts, StageIncomplete, Tick, kept
from codesynth.pipeline.state import StageFile

__all__ = ["FILES", "MODEL_PRODUCTS", "PRODUCTS", "run_product"]
from codesynth.records import Limits, content_id
from codesynth.registry import generators

MODEL_PRODUCTS = ("refactor", "optimize", "nl2sql", "translate")  # they ask the model
FILES = {"lintseq": "edit_sequences", "repairs": "repairs", "refactor": "refactor_variants",
         "optimize": "optimized", "nl2sql": "sql_pairs", "translate": "translations"}


def _lines(code: Any) -> list[str]:
    return [line.rstrip() for line in str(code).strip().splitlines()]


# What makes two rows of a product the same (exact dedup): a sequence of edits; a repair's
# kind and attempts; a variant's text (trailing spaces aside); a question's words.
KEYS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "lintseq": lambda r: r["edits"],
    "repairs": lambda r: [r["kind"], _lines(r["buggy_code"]),
                          [_lines(s["code"]) for s in r.get("steps", ())]],
    "refactor": lambda r: _lines(r["code"]), "optimize": lambda r: _lines(r["code"]),
    "nl2sql": lambda r: normalize_text(r["question"]),
    "translate": lambda r: [r["source_id"], r["language"], _lines(r["code"])],
}


def final(files: dict[str, StageFile]) -> list[dict[str, Any]]:
    """The exported records, in the verify shape."""
    return [shaped(r, "verified") for r in kept(files["decontaminate"])]


def lintseq_rows(records: list[dict[str, Any]], options: dict[str, Any],
                 seed: int) -> Iterator[dict[str, Any] | tuple[str, dict[str, Any]]]:
    from codesynth.lintseq import LintSeqError, edits, linter, sample_states_many

    name = options.get("linter", "pyflakes")
    samples = int(options.get("samples", 1))
    oracle = linter(name)
    items = [(r["code"], random.Random(f"{seed}:{r['id']}:{k}")) for r in records
             for k in range(samples)]
    outcomes = sample_states_many(items, oracle)
    for index, record in enumerate(records):
        for k, states in enumerate(outcomes[index * samples:(index + 1) * samples]):
            if isinstance(states, LintSeqError):
                yield states.reason, {"source_id": record["id"], "error": str(states)[:300]}
                continue
            steps = edits(states)
            yield {"id": content_id("lintseq", record["id"], record["code"], name, seed, k,
                                    steps),
                   "source_id": record["id"], "instruction": record["instruction"],
                   "sample": k, "linter": name, "edits": steps, "code": record["code"],
                   "provenance": {"method": "lintseq", "source_id": record["id"],
                                  "linter": name, "seed": seed, "sample": k,
                                  "rng": f"{seed}:{record['id']}:{k}", "edits": len(steps)}}


def repair_rows(files: dict[str, StageFile], options: dict[str, Any]
                ) -> Iterator[dict[str, Any]]:
    """Repairs of the exported tasks, from every candidate the verify stage ran for them."""
    from codesynth.bugs.repairs import attempt, repairs

    task_ids = {r["task_id"] for r in kept(files["decontaminate"]) if r.get("task_id")}
    groups: dict[str, list[Any]] = {}
    for row in files["verify"].read():
        if row.get("task_id") in task_ids and isinstance(row.get("result"), dict):
            groups.setdefault(row["task_id"], []).append(attempt(row, None))
    for task, attempts in groups.items():
        yield from repairs(task, attempts, int(options.get("max_chain", 3)))


async def generator_rows(name: str, pipeline: Pipeline, llm: Any, seeds: Path,
                         sandbox: Callable[[], Any], limits: Limits,
                         rejected: Counts) -> list[dict[str, Any]]:
    options = pipeline.products[name]
    ctx = Context(llm=llm, seeds=seeds, n=int(options.get("n", 10)), seed=pipeline.seed,
                  params=dict(options.get("params", {})), sandbox_factory=sandbox,
                  limits=limits)
    rows = [record async for record in generators.get(name)().generate(ctx)]
    for reason, number in ctx.rejected.items():
        rejected.rejected[reason] += number
        rejected.inputs += number
    failed = ctx.rejected.get(REQUEST_FAILED, 0)
    if failed:
        error = next((r.get("error") for r in ctx.rejections
                      if r.get("reason") == REQUEST_FAILED), None)
        raise StageIncomplete(name, failed, "request(s)", error)
    return rows


def run_product(name: str, pipeline: Pipeline, files: dict[str, StageFile], out: StageFile,
                llm_factory: Callable[[], Any] | None, sandbox: Callable[[], Any],
                limits: Limits, tick: Tick) -> dict[str, Any]:
    """Make the product's rows (resuming), drop exact duplicates, export the kept ones."""
    records = final(files)
    options = pipeline.products[name]
    made = Counts()
    if name == "lintseq":
        rows: Iterable[Any] = lintseq_rows(records, options, pipeline.seed)
    elif name == "repairs":
        rows = repair_rows(files, options)
    elif not records and name != "nl2sql":
        rows = []
    else:
        assert llm_factory is not None
        seeds = _sources(pipeline, records) if name != "nl2sql" else \
            Path(options["seeds"]) if "seeds" in options else pipeline.output / "no-databases"
        rows = asyncio.run(_with_llm(name, pipeline, llm_factory, seeds, sandbox, limits,
                                     made))
    seen = {content_id(KEYS[name](row)) for row in out.read() if row.get("kept")}
    resumed = set(out.done)
    for row in rows:
        if isinstance(row, tuple):  # (reason, detail): a rejection
            made.rejected[row[0]] += 1
            made.inputs += 1
            continue
        if content_id(name, row["id"]) in resumed:
            continue  # written by an earlier run of this stage
        if content_id(name, row["id"]) in out.done:  # the very same record again
            made.rejected["exact_duplicate"] += 1
            made.inputs += 1
            continue
        key = content_id(KEYS[name](row))
        reason = "exact_duplicate" if key in seen else None
        seen.add(key)
        out.write({**row, "id": content_id(name, row["id"]), "product_id": row["id"],
                   "kept": reason is None, "reason": reason})
    counts = Counts.of(out.read())
    counts.inputs += made.inputs
    for reason, number in made.rejected.items():
        counts.rejected[reason] += number
    path = pipeline.output / "dataset" / f"{FILES[name]}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with AtomicJSONLWriter(path) as writer:
        for row in kept(out):
            writer.write(_exported(row))
    tick(counts)
    return {**counts.to_dict(), "file": path.name}


def _exported(row: dict[str, Any]) -> dict[str, Any]:
    row = {k: v for k, v in row.items() if k not in ("kept", "reason", "id")}
    return {"id": row.pop("product_id"), **row}


def _sources(pipeline: Pipeline, records: list[dict[str, Any]]) -> Path:
    path = pipeline.output / "stages" / "product-sources.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json_line(r) for r in records), encoding="utf-8")
    return path


async def _with_llm(name: str, pipeline: Pipeline, llm_factory: Callable[[], Any],
                    seeds: Path, sandbox: Callable[[], Any], limits: Limits,
                    made: Counts) -> list[dict[str, Any]]:
    llm = llm_factory()
    try:
        await llm.resolve_model()
        return await generator_rows(name, pipeline, llm, seeds, sandbox, limits, made)
    finally:
        await llm.close()
