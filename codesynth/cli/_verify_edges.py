"""``verify --edge-cases N``: a model proposes up to N edge-case inputs per record (one
request per record, through the LLM layer's cache). They join the generated probe inputs of
``--test-strength`` and ``--augment`` (origin ``model``): labelled by the record's own program
(the reference), and kept as tests only when they kill a surviving mutant, as the random
ones are. The model is the configured endpoint, else the embedded one."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from codesynth.errors import UserError
from codesynth.jsonl import read_objects

MAX_EDGE_CASES = 100


def add_edge_case_options(parser: argparse.ArgumentParser) -> None:
    from codesynth.cli._llm_args import add_llm_options

    parser.add_argument("--edge-cases", type=int, default=0, metavar="N",
                        help="with --test-strength: ask the model (--base-url, else the "
                             "embedded one) for up to N edge-case inputs per record, probed "
                             "with the generated ones (origin model in augmented_tests)")
    add_llm_options(parser)


def check_edge_cases(args: argparse.Namespace) -> None:
    if not 0 <= args.edge_cases <= MAX_EDGE_CASES:
        raise UserError(f"--edge-cases must be from 0 to {MAX_EDGE_CASES}")
    if args.edge_cases and not args.test_strength:
        raise UserError("--edge-cases needs --test-strength (the inputs probe its mutants)")


def fingerprint(args: argparse.Namespace) -> dict[str, Any] | None:
    """What the edge cases depend on (a resumed run must ask the same model the same)."""
    if not args.edge_cases:
        return None
    return {"edge_cases": args.edge_cases, "model": args.model, "base_url": args.base_url,
            "config": args.config}


def edge_inputs(args: argparse.Namespace, path: str) -> dict[str, list[tuple[Any, ...]]] | None:
    """The model's inputs by record id, or None without ``--edge-cases``."""
    if not args.edge_cases:
        return None
    from codesynth.cli._llm_args import endpoint, llm_config
    from codesynth.edge_cases import propose
    from codesynth.llm import LLM

    fields = ("id", "instruction", "code", "tests", "test_style", "entry_point")
    tasks: dict[str, dict[str, Any]] = {}
    for _, record in read_objects(path):
        task = {k: record.get(k) for k in fields}
        if isinstance(task["code"], str) and str(task["id"]) not in tasks:
            tasks[str(task["id"])] = {**task, "id": str(task["id"]),
                                      "test_style": task["test_style"] or "assert"}
    config = llm_config(args)
    with endpoint(config) as base_url:
        async def ask() -> dict[str, list[tuple[Any, ...]]]:
            llm = LLM(config, base_url)
            try:
                return await propose(llm, list(tasks.values()), args.edge_cases)
            finally:
                await llm.close()

        return asyncio.run(ask())
