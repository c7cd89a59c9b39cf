"""Run a pipeline: stages in order, each resumable; a live view per stage; a run summary."""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import time
from collections.abc import Iterator
from typing import Any

from rich.console import Console

from codesynth.errors import ModelUnavailable, UserError
from codesynth.pipeline import cleaning, products, stages
from codesynth.pipeline.config import Pipeline
from codesynth.pipeline.export import export, shaped, write_card
from codesynth.pipeline.state import RunState
from codesynth.pipeline.view import View
from codesynth.records import Limits

ORDER = ("generate", "solve", "verify", "filter", "dedup", "decontaminate", "export", "bugs",
         "lintseq", "repairs", "refactor", "optimize", "nl2sql",
         "translate")  # the last ones: optional


def limits_of(pipeline: Pipeline) -> Limits:
    options = {k: v for k, v in pipeline.sandbox.items()
               if k in ("timeout", "memory_mb", "max_processes", "cpu_time", "wall_time",
                        "file_size_mb", "max_output", "strict")}
    return Limits(**{"timeout": 10.0, **options})


def executor_of(pipeline: Pipeline, args: argparse.Namespace) -> dict[str, Any]:
    """[executor], with ``--executor`` and ``--ray-address`` taking precedence."""
    chosen = dict(pipeline.executor)
    if getattr(args, "executor", None):
        chosen = {"name": args.executor}
    if getattr(args, "ray_address", None):
        chosen["address"] = args.ray_address
    return chosen


def run(pipeline: Pipeline, args: argparse.Namespace, console: Console) -> dict[str, Any]:
    from codesynth.cli._llm_args import endpoint
    from codesynth.executors import open_sandbox, share_models
    from codesynth.llm import LLMConfig

    executor = executor_of(pipeline, args)
    state = RunState(pipeline.output, pipeline.digest(), restart=args.restart)
    _reopen_unanswered(state)
    llm_options = {"cache": str(pipeline.output / "llm-cache.sqlite"), **pipeline.llm,
                   "seed": pipeline.seed}
    config = LLMConfig.load(None, **llm_options)
    share_models(config, pipeline.executor.get("endpoints"),
                 pipeline.executor.get("model_concurrency"), pipeline.executor.get("model_rate"),
                 executor.get("name", "local"), executor.get("address"))
    limits = limits_of(pipeline)
    view = View(console)
    summary: dict[str, Any] = {"pipeline": str(pipeline.path), "name": pipeline.name,
                               "output": str(pipeline.output), "digest": pipeline.digest(),
                               "stages": dict(state.data.get("counts", {}))}
    with contextlib.ExitStack() as stack:
        opened: list[Any] = []

        def sandbox() -> Any:
            if not opened:
                options = {k: v for k, v in pipeline.sandbox.items()
                           if k in ("workers", "image")}
                from codesynth.exec_cache import cached

                opened.append(stack.enter_context(cached(open_sandbox(
                    executor.get("name", "local"), pipeline.sandbox.get("backend", "local"),
                    executor.get("address"), limits=limits, **options),
                    enabled=pipeline.verify.get("cache", True),
                    path=pipeline.output / "exec-cache.sqlite")))
            return opened[0]

        urls: list[str] = []

        def base_url() -> str:  # the model starts only if a stage needs it
            if not urls:
                urls.append(stack.enter_context(endpoint(config)))
            return urls[0]

        stack.enter_context(view)
        for number, name in enumerate(ORDER, 1):
            if name == "bugs" and pipeline.bugs is None:
                continue
            if name in products.PRODUCTS and name not in pipeline.products:
                continue
            if state.completed(name):
                view.done(name, summary["stages"].get(name, {}))
                continue
            started = time.monotonic()
            try:
                counts = _stage(number, name, pipeline, state, config, base_url, sandbox,
                                limits, view, summary)
            except ModelUnavailable as exc:
                raise ModelUnavailable(
                    f"{exc}\nThe run stopped in its {name} stage, which stays incomplete; "
                    "what was done is kept: run the same command again once the model "
                    "server answers") from None
            summary["stages"][name] = counts
            state.data.setdefault("counts", {})[name] = counts
            # For the report: the time this stage took, and its model usage, across resumes.
            state.data.setdefault("seconds", {})[name] = round(time.monotonic() - started, 3)
            if name in summary.get("llm", {}):
                state.data.setdefault("llm", {})[name] = summary["llm"][name]
            state.complete(name)
            view.done(name, counts)
    summary["completed"] = True
    summary["records"] = summary["stages"].get("export", {}).get("out", 0)
    summary["seconds"] = dict(state.data.get("seconds", {}))
    if state.data.get("llm"):
        summary["llm"] = {**state.data["llm"], **summary.get("llm", {})}
    summary["report"] = str(pipeline.output / "report.html")
    (pipeline.output / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    _report(pipeline, console)
    return summary


def _report(pipeline: Pipeline, console: Console) -> None:
    """``report.html`` next to the dataset. A report that cannot be made costs no data: it
    is said, with the command that makes it later."""
    from codesynth.report import write

    try:
        write(pipeline.output, pipeline.output / "report.html")
    except Exception as exc:  # noqa: BLE001 - the run's data is complete and kept
        console.print(f"warning: the report could not be made ({type(exc).__name__}: {exc}); "
                      f"run `codesynth report {pipeline.output}`", highlight=False)


def _reopen_unanswered(state: RunState) -> None:
    """A stage an earlier codesynth marked complete although requests failed (no answer is
    no verdict): it is done again, with every stage after it."""
    for index, name in enumerate(ORDER):
        reasons = state.data.get("counts", {}).get(name, {}).get("rejected", {})
        if state.completed(name) and any(r.endswith(stages.REQUEST_FAILED) for r in reasons):
            state.reopen(list(ORDER[index:]))
            return


async def _resolve(llm: Any, state: RunState) -> None:
    """The model, asked of the server: unreachable is an infrastructure fault, and a model
    other than the one this run started with would mix answers."""
    import openai

    try:
        await llm.resolve_model()
    except (openai.APIConnectionError, openai.APITimeoutError,
            openai.InternalServerError) as exc:
        raise ModelUnavailable(f"{llm.base_url}: the model server does not answer "
                               f"({type(exc).__name__}: {exc})") from None
    except openai.APIStatusError as exc:
        raise UserError(f"{llm.base_url}: the model server refused to list its models "
                        f"(HTTP {exc.status_code}: {exc.message})") from None
    before = state.data.get("model")
    if before is not None and before != llm.model:
        raise UserError(f"{state.directory}: this run was started with model {before!r}, "
                        f"the server now serves {llm.model!r}: set [llm] model = {before!r}, "
                        "or use another [run] output, or pass --restart")
    state.data["model"] = llm.model


def _stage(number: int, name: str, pipeline: Pipeline, state: RunState, config: Any,
           base_url: Any, sandbox: Any, limits: Limits, view: View,
           summary: dict[str, Any]) -> dict[str, Any]:
    from codesynth.llm import LLM

    files = {n: state.stage(i, n) for i, n in enumerate(ORDER, 1)}
    out = files[name]
    previous = files[ORDER[number - 2]] if number > 1 else None
    try:
        if name in products.PRODUCTS:
            return _product(name, pipeline, state, files, config, base_url, sandbox, limits,
                            view, summary)
        if name in ("generate", "solve"):
            total = sum(s.n for s in pipeline.generate) if name == "generate" else \
                sum(1 for _ in stages.kept(files["generate"])) * stages.samples_per_task(pipeline)
            tick = view.start(name, total)
            url = base_url()

            async def with_llm() -> stages.Counts:
                llm = LLM(config, url)
                view.watch(name, llm)
                try:
                    await _resolve(llm, state)
                    summary["model"] = llm.model
                    if name == "generate":
                        return await stages.generate(pipeline, llm, out, sandbox, limits, tick)
                    assert previous is not None
                    return await stages.solve(pipeline, llm, previous, out, tick)
                finally:
                    usage = llm.usage.to_dict()
                    await llm.close()
                    summary.setdefault("llm", {})[name] = usage

            return stages.run_async(with_llm()).to_dict()
        assert previous is not None
        inputs = None if name == "bugs" else sum(1 for r in previous.read()
                                                 if r.get("kept", True))
        tick = view.start(name, inputs)  # bugs: as many mutants as the operators find
        if name == "verify":
            from codesynth.quality import Checks

            checks = Checks(strength=int(pipeline.verify.get("test_strength", 0)),
                            reruns=int(pipeline.verify.get("reruns", 0)),
                            augment=bool(pipeline.verify.get("augment", False)),
                            seed=pipeline.seed,
                            labels=str(pipeline.verify.get("labels", "reference")))
            edges = _edge_cases(pipeline, config, base_url, previous, summary) \
                if pipeline.verify.get("edge_cases") and checks.strength else None
            return stages.verify(previous, out, sandbox(), limits, tick, checks,
                                 edges).to_dict()
        if name == "filter":
            return stages.select(previous, out, pipeline, tick, sandbox, limits).to_dict()
        if name == "dedup":
            return cleaning.dedup(previous, out, pipeline, tick).to_dict()
        if name == "decontaminate":
            counts, report = cleaning.decontaminate(previous, out, pipeline, sandbox(), limits,
                                                    tick)
            summary["decontamination"] = report
            state.data["decontamination"] = report
            return counts.to_dict()
        if name == "export":
            return _export(pipeline, state, files, summary, tick)
        return _bugs(pipeline, state, files, summary, sandbox(), limits, tick)
    finally:
        out.close()


def _edge_cases(pipeline: Pipeline, config: Any, base_url: Any, candidates: Any,
                summary: dict[str, Any]) -> dict[str, Any]:
    """The model's edge-case inputs per task (one request per task, cached), for probing."""
    from codesynth.edge_cases import propose
    from codesynth.llm import LLM

    tasks: dict[str, dict[str, Any]] = {}
    for row in stages.kept(candidates):
        tasks.setdefault(row["task_id"], {**row, "id": row["task_id"]})

    async def ask() -> dict[str, Any]:
        llm = LLM(config, base_url())
        try:
            return await propose(llm, list(tasks.values()),
                                 int(pipeline.verify["edge_cases"]))
        finally:
            summary.setdefault("llm", {})["edge_cases"] = llm.usage.to_dict()
            await llm.close()

    return stages.run_async(ask())  # type: ignore[no-any-return]


def _final(files: dict[str, Any]) -> Iterator[dict[str, Any]]:
    return stages.kept(files["decontaminate"])


def _export(pipeline: Pipeline, state: RunState, files: dict[str, Any],
            summary: dict[str, Any], tick: stages.Tick) -> dict[str, Any]:
    verify = summary["stages"].get("verify", {})
    total = verify.get("in", 0)
    records = list(_final(files))
    info = {"name": pipeline.name, "stages": dict(summary["stages"]),
            "methods": sorted({s.method for s in pipeline.generate}),
            "model": summary.get("model") or state.data.get("model", "?"),
            "records": len(records), "pass_rate": (verify.get("out", 0) / total) if total else 0,
            "decontamination": summary.get("decontamination")
            or state.data.get("decontamination"),
            "languages": dict(collections.Counter(str(r.get("language") or "python")
                                                  for r in records))}
    scores = [((r.get("result") or {}).get("test_strength") or {}).get("score")
              for r in records]
    if any(((r.get("result") or {}).get("test_strength")) for r in records):
        from codesynth.test_strength import distribution

        info["test_strength"] = distribution(scores)
    state.data["model"] = info["model"]
    result = export(records, pipeline.output / "dataset", pipeline.export, info)
    state.data["card"] = {**info, "files": result["files"]}  # the bugs stage adds to it
    summary["export"] = result
    counts = stages.Counts(inputs=len(records), kept=len(records))
    tick(counts)
    return {**counts.to_dict(), "files": result["files"], "pushed": result["pushed"]}


def _bugs(pipeline: Pipeline, state: RunState, files: dict[str, Any], summary: dict[str, Any],
          sandbox: Any, limits: Limits, tick: stages.Tick) -> dict[str, Any]:
    """Bug-fix pairs from the exported dataset (AST strategy), written atomically."""
    import random

    from codesynth.bugs.operators import mutate
    from codesynth.bugs.pairs import Bug, Report, judge
    from codesynth.execute import execute_pairs
    from codesynth.jsonl import AtomicJSONLWriter
    from codesynth.records import Job

    assert pipeline.bugs is not None
    per_sample = int(pipeline.bugs.get("per_sample", 3))
    rows = [shaped(r, "verified") for r in _final(files)  # whatever shapes were exported
            if r.get("language", "python") == "python"]  # the AST operators are Python's
    originals = [(r, Job(id=r["id"], code=r["code"], tests=r["tests"],
                         test_style=r["test_style"], entry_point=r.get("entry_point")))
                 for r in rows]
    report = Report(inputs=len(originals))
    verdicts = {job.id: e for (_, job), e in zip(
        originals, sandbox.run_many([j for _, j in originals], limits), strict=True)
        if e.passed}
    bugs = []
    for source, job in originals:
        if job.id not in verdicts:
            report.originals_failed.append(job.id)
            continue
        rng = random.Random(f"{pipeline.seed}:{job.id}:ast")
        mutants = mutate(job.code, rng)
        for mutant in rng.sample(mutants, min(per_sample, len(mutants))):
            bugs.append(Bug(source, job, mutant.code, mutant.operator, mutant.description,
                            "ast", {"operator": mutant.operator, "line": mutant.line}))
    pairs = ((b, Job(id=f"{b.original.id}~{i}", code=b.code, tests=b.original.tests,
                     test_style=b.original.test_style, entry_point=b.original.entry_point))
             for i, b in enumerate(bugs))
    with AtomicJSONLWriter(pipeline.output / "dataset" / "bugfix_pairs.jsonl") as writer:
        for record in judge(execute_pairs(sandbox, pairs, limits), verdicts, report):
            record.pop("trace", None)  # the exported pairs carry no timings
            writer.write(record)
    tick(stages.Counts(inputs=sum(report.tried.values()), kept=sum(report.kept.values())))
    counts = {"in": sum(report.tried.values()), "out": sum(report.kept.values()),
              "rejected": {k: v for k, v in {"survived": sum(report.survived.values())}.items()
                           if v},
              "by_kind": report.to_dict()["by_kind"]}
    card = state.data.get("card")
    if card is not None:  # the card lists the bugs stage and its file
        stages_now = {**summary["stages"], "bugs": counts}
        write_card(pipeline.output / "dataset", {**card, "stages": stages_now})
    return counts


def _product(name: str, pipeline: Pipeline, state: RunState, files: dict[str, Any],
             config: Any, base_url: Any, sandbox: Any, limits: Limits, view: View,
             summary: dict[str, Any]) -> dict[str, Any]:
    """A product stage (products.py); the card then lists its file."""
    from codesynth.llm import LLM
    from codesynth.pipeline.export import write_card

    tick = view.start(name, None)
    factory = None
    if name in products.MODEL_PRODUCTS:
        url = base_url()

        made: list[Any] = []

        def factory() -> Any:
            llm = LLM(config, url)
            view.watch(name, llm)
            made.append(llm)
            return llm

    counts = products.run_product(name, pipeline, files, files[name], factory, sandbox,
                                  limits, tick)
    if factory is not None and made:
        summary.setdefault("llm", {})[name] = made[0].usage.to_dict()
    card = state.data.get("card")
    if card is not None:
        card.setdefault("products", {})[name] = counts["file"]
        write_card(pipeline.output / "dataset", {**card, "stages": {**summary["stages"],
                                                                     name: counts}})
    return counts
