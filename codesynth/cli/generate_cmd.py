"""``codesynth generate METHOD --seeds PATH --n N -o OUT.jsonl``: instructions (and code)
from a model, streamed record by record; re-running on the same output resumes."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import IO, Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from codesynth.cli._display import console
from codesynth.cli._llm_args import add_llm_options, endpoint, llm_config
from codesynth.cli._sandbox_args import add_sandbox_options, limits_from, sandbox_from
from codesynth.errors import UserError
from codesynth.registry import generators


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "generate", help="generate tasks and code with a model (self-instruct, evol-instruct, "
                         "oss-instruct, self-align)",
        description="Records stream to OUT as they are made; re-running the same command on "
                    "the same OUT resumes (replies come from the response cache, so nothing "
                    "is asked twice). Without --base-url or OPENAI_BASE_URL, the embedded "
                    "SmolLM2-135M-Instruct model is started locally.")
    parser.add_argument("method", help="generator: " + ", ".join(generators.builtin_names())
                        + ", or the name of an installed plugin")
    parser.add_argument("--seeds", default="seeds", help="seed tasks/snippets (default: seeds)")
    parser.add_argument("--n", type=int, required=True, help="records to produce")
    parser.add_argument("-o", "--output", required=True, help="JSONL output (appended)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random choice")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="a parameter of the method (see `codesynth generate --help`)")
    parser.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    add_llm_options(parser)
    add_sandbox_options(parser)
    parser.set_defaults(handler=run)


def _params(pairs: list[str]) -> dict[str, str]:
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UserError(f"--param {pair!r}: expected KEY=VALUE")
        params[key.strip()] = value.strip()
    return params


def _resume(path: Path) -> set[str]:
    """Ids already in the output; a torn last line (a killed run) is cut off."""
    if not path.exists():
        return set()
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        data = data[:data.rfind(b"\n") + 1]
        with path.open("r+b") as handle:
            handle.truncate(len(data))
    ids = set()
    for number, line in enumerate(data.decode("utf-8").splitlines(), 1):
        if line.strip():
            try:
                ids.add(json.loads(line)["id"])
            except (json.JSONDecodeError, KeyError, TypeError):
                raise UserError(f"{path}:{number}: not a codesynth record; refusing to "
                                "append to it") from None
    return ids


def run(args: argparse.Namespace) -> int:
    if args.n < 1:
        raise UserError("--n must be at least 1")
    generator = generators.get(args.method)()
    seeds = Path(args.seeds)
    if not seeds.exists():
        raise UserError(f"{seeds}: seeds not found")
    config = llm_config(args)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    done = _resume(output)
    limits = limits_from(args)
    import asyncio  # here: the commands that do not need it start faster

    with endpoint(config) as base_url:
        summary = asyncio.run(_generate(args, generator, config, base_url, seeds, output,
                                        done, limits))
    console.print(Text(f"{args.method}: {summary['kept']} record(s) in {output} "
                       f"({summary['new']} new), {summary['rejected_total']} rejected; "
                       f"{summary['llm']['requests']} request(s), "
                       f"{summary['llm']['cache_hits']} from cache, "
                       f"{summary['llm']['tokens']} token(s)"), highlight=False)
    if summary["rejected"]:
        console.print("  rejected: " + ", ".join(f"{k} {v}" for k, v in
                                                  sorted(summary["rejected"].items())),
                      highlight=False)
    if args.json:
        sys.stdout.write(json.dumps(summary) + "\n")
    return 0


async def _generate(args: argparse.Namespace, generator: Any, config: Any, base_url: str,
                    seeds: Path, output: Path, done: set[str], limits: Any) -> dict[str, Any]:
    from codesynth.generators.base import Context
    from codesynth.llm import LLM, BudgetExhausted

    llm = LLM(config, base_url)
    ctx = Context(llm=llm, seeds=seeds, n=args.n, seed=args.seed, params=_params(args.param),
                  sandbox_factory=lambda: sandbox_from(args, limits), limits=limits)
    rejected_path = output.with_name(output.name + ".rejected.jsonl")
    seen_rejections = _resume(rejected_path)
    kept = new = 0
    stopped = None
    started = time.monotonic()
    last_log = started
    bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[stats]}"), TimeElapsedColumn(), console=console,
                   disable=not console.is_terminal)
    try:
        await llm.resolve_model()
        with output.open("a", encoding="utf-8") as out, \
                rejected_path.open("a", encoding="utf-8") as rejected, bar:
            task = bar.add_task(args.method, total=args.n, stats="")
            async for item in generator.generate(ctx):
                kept += 1
                if item["id"] not in done:
                    done.add(item["id"])
                    _write(out, item)
                    new += 1
                _flush_rejections(ctx, rejected, seen_rejections)
                bar.update(task, completed=kept, stats=_stats(ctx, llm))
                if not console.is_terminal and time.monotonic() - last_log > 10.0:
                    last_log = time.monotonic()
                    console.print(f"{args.method}: {kept}/{args.n} kept; {_stats(ctx, llm)}",
                                  highlight=False)
            _flush_rejections(ctx, rejected, seen_rejections)
    except BudgetExhausted as exc:
        stopped = str(exc)
        console.print(Text(f"stopped: {exc}", style="yellow"), highlight=False)
    finally:
        ctx.close()
        await llm.close()
    return {"method": args.method, "output": str(output), "kept": kept, "new": new,
            "target": args.n, "stopped": stopped, "model": llm.model,
            "rejected": dict(ctx.rejected), "rejected_total": sum(ctx.rejected.values()),
            "llm": llm.usage.to_dict(), "seconds": round(time.monotonic() - started, 2)}


def _write(handle: IO[str], item: dict[str, Any]) -> None:
    handle.write(json.dumps(item, ensure_ascii=False) + "\n")
    handle.flush()
    os.fsync(handle.fileno())


def _flush_rejections(ctx: Any, handle: IO[str], seen: set[str]) -> None:
    for rejection in ctx.rejections:
        if rejection["id"] not in seen:
            seen.add(rejection["id"])
            handle.write(json.dumps(rejection, ensure_ascii=False) + "\n")
    ctx.rejections.clear()
    handle.flush()


def _stats(ctx: Any, llm: Any) -> str:
    top = ", ".join(f"{k} {v}" for k, v in ctx.rejected.most_common(3))
    return (f"{llm.usage.requests} req ({llm.usage.cache_hits} cached), "
            f"{llm.usage.tokens} tok" + (f"; rejected: {top}" if top else ""))
