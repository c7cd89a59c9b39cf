"""The pipeline's stages. Each reads the previous stage's kept records in order and writes
one record per unit of work (kept or not, with the reason), so a resumed stage skips exactly
what is done and every count can be read back from the files."""

from __future__ import annotations

import asyncio
import collections
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codesynth.errors import InfrastructureError, ModelUnavailable
from codesynth.generators.base import Context, in_order
from codesynth.llm import LLM, LLMError
from codesynth.llm.extract import extract_code, function_names
from codesynth.pipeline.config import Pipeline
from codesynth.pipeline.state import StageFile
from codesynth.records import Job, Limits, content_id
from codesynth.registry import generators
from codesynth.sandbox.protocol import Sandbox

SOLUTION = """Solve this task in Python. Answer with the complete function{name} in one \
```python block.

Task: {instruction}
"""
TESTS = """Write 3 to 5 Python assert statements that a correct solution of this task passes. \
Call the function{name} directly, do not import it, and answer with one ```python block.

Task: {instruction}
"""
STDIO_SOLUTION = """Solve this task with a {name} program that reads standard input and prints \
to standard output. Answer with the complete program in one ```{language} block.

Task: {{instruction}}
"""
STDIO_TESTS = """Write 3 test cases for a program that solves this task, each as an Input: \
block and an Output: block (the exact text the program reads and prints).

Task: {instruction}
"""
_NAMED = re.compile(r"`(\w+)\s*\(")


def task_function(task: dict[str, Any]) -> str | None:
    """The function a task asks for: named in the instruction, or in its reference code."""
    match = _NAMED.search(task["instruction"])
    if match:
        return match.group(1)
    names = function_names(task["code"]) if task.get("code") else []
    return task.get("entry_point") or (names[0] if names else None)


def assert_lines(text: str) -> str | None:
    """The assert statements of a reply (each must parse on its own)."""
    import ast

    from codesynth.llm.extract import fenced_blocks

    sources = [b.code for b in fenced_blocks(text)] or [text]
    kept = []
    for source in sources:
        for line in source.splitlines():
            if line.startswith("assert "):
                try:
                    ast.parse(line)
                except SyntaxError:
                    continue
                kept.append(line)
    return "\n".join(kept) + "\n" if kept else None


REQUEST_FAILED = "request_failed"  # no answer, not a verdict: retried on resume


class StageIncomplete(InfrastructureError):
    """Some of a stage's work got no answer from the model (its requests failed for good):
    the stage is not complete, and a re-run retries exactly that work."""

    def __init__(self, stage: str, failed: int, units: str, error: str | None) -> None:
        super().__init__(
            f"{stage}: {failed} {units} got no answer from the model"
            + (f" (last error: {error})" if error else "") + ". The stage is not complete; "
            "the answers received are kept (cached): run the same command again to retry "
            "the rest once the model server answers")


@dataclass
class Counts:
    inputs: int = 0
    kept: int = 0
    rejected: collections.Counter[str] = field(default_factory=collections.Counter)

    def add(self, record: dict[str, Any]) -> None:
        self.inputs += 1
        if record.get("kept", True):
            self.kept += 1
        else:
            self.rejected[record.get("reason") or "rejected"] += 1

    def to_dict(self) -> dict[str, Any]:
        return {"in": self.inputs, "out": self.kept, "rejected": dict(self.rejected)}

    @classmethod
    def of(cls, records: Iterable[dict[str, Any]]) -> Counts:
        """The counts of every record given (a whole stage file, after a resume too)."""
        counts = cls()
        for record in records:
            counts.add(record)
        return counts


Tick = Callable[[Counts], None]


def kept(stage: StageFile) -> Iterator[dict[str, Any]]:
    return (r for r in stage.read() if r.get("kept", True))


def judged(stage: str, record: dict[str, Any], reason: str | None,
           **extra: Any) -> dict[str, Any]:
    """``record`` as the row of a stage that keeps or drops it: a new content id, whether it
    was kept, why not, and what the stage adds."""
    return {**record, "id": content_id(stage, record["id"]), "kept": reason is None,
            "reason": reason, **extra}


async def generate(pipeline: Pipeline, llm: LLM, out: StageFile, sandbox: Callable[[], Sandbox],
                   limits: Limits, tick: Tick) -> Counts:
    """Every ``[[generate]]`` step in turn. Generators are deterministic given the model's
    answers (cached), so a stage whose requests failed is redone from the start on resume:
    its file is emptied, since what a generator keeps depends on every answer before."""
    counts, failed, error = Counts(), 0, None
    for step in pipeline.generate:
        ctx = Context(llm=llm, seeds=Path(step.seeds), n=step.n, seed=pipeline.seed,
                      params=step.params, sandbox_factory=sandbox, limits=limits)
        try:
            async for record in generators.get(step.method)().generate(ctx):
                out.write(record)
                counts.add(record)
                tick(counts)
        except ModelUnavailable:
            if failed or ctx.rejected.get(REQUEST_FAILED):
                out.reset()
            raise
        for reason, number in ctx.rejected.items():
            counts.rejected[f"{step.method}:{reason}"] += number
            counts.inputs += number
        failed += ctx.rejected.get(REQUEST_FAILED, 0)
        error = error or next((r.get("error") for r in ctx.rejections
                               if r.get("reason") == REQUEST_FAILED), None)
    if failed:
        out.reset()
        raise StageIncomplete("generate", failed, "request(s)", error)
    return counts


def samples_per_task(pipeline: Pipeline) -> int:
    """Candidate solutions asked per task."""
    return int(pipeline.solve.get("samples", 4))


async def solve(pipeline: Pipeline, llm: LLM, tasks: StageFile, out: StageFile,
                tick: Tick) -> Counts:
    """N candidate solutions per task, checked later against tests written separately for
    the task (one request), so that a solution cannot bring tests made to fit it."""
    samples = samples_per_task(pipeline)
    params = {k: pipeline.solve[k] for k in ("max_tokens", "temperature") if k in pipeline.solve}

    failed: list[str] = []

    async def work(task: dict[str, Any]) -> list[dict[str, Any]]:
        ids = [content_id("solve", task["id"], s) for s in range(samples)]
        if all(i in out.done for i in ids):
            return []
        try:
            return await answer(task, ids)
        except LLMError as exc:  # no answer is no verdict: nothing written, retried later
            failed.append(str(exc)[:300])
            return []

    async def answer(task: dict[str, Any], ids: list[str]) -> list[dict[str, Any]]:
        if task.get("language", "python") != "python" or task.get("test_style") == "stdio":
            return await answer_stdio(task, ids)
        name = task_function(task)
        named = f" `{name}`" if name else ""
        tests_request = None
        if isinstance(task.get("tests"), str) and task["tests"].strip() \
                and task.get("test_style", "assert") == "assert":
            tests: str | None = task["tests"]  # the task brings its own tests
        else:
            tests_reply = await llm.ask([{"role": "user", "content": TESTS.format(
                name=named, instruction=task["instruction"])}], sample=0, **params)
            tests, tests_request = assert_lines(tests_reply.text), tests_reply.key
        replies = await asyncio.gather(*(llm.ask([{"role": "user", "content": SOLUTION.format(
            name=named, instruction=task["instruction"])}], sample=s, **params)
            for s in range(samples)))
        rows = []
        for sample, reply in enumerate(replies):
            code = extract_code(reply.text)
            names = function_names(code) if code else []
            reason = ("no_tests" if tests is None else "no_code" if code is None
                      else "wrong_function" if name and name not in names else None)
            rows.append({"id": ids[sample], "task_id": task["id"], "sample": sample,
                         "kept": reason is None, "reason": reason,
                         "instruction": task["instruction"], "language": "python",
                         "code": code, "tests": tests, "test_style": "assert",
                         "entry_point": name or (names[0] if names else None),
                         "origin": task.get("origin"),
                         "solve": {"model": llm.model, "request": reply.key,
                                   "tests_request": tests_request, "sample": sample}})
        return rows

    async def answer_stdio(task: dict[str, Any], ids: list[str]) -> list[dict[str, Any]]:
        """A task in the stdio form (any language): its own cases, else cases asked of the
        model; programs asked in the task's language, with a worked example of the form."""
        from codesynth.generators.polyglot import NAMES, few_shot, parse_cases
        from codesynth.records import LANGUAGES

        language = task.get("language", "python")
        if language not in LANGUAGES:
            return [{"id": i, "task_id": task["id"], "sample": s, "kept": False,
                     "reason": "unsupported_language", "language": language}
                    for s, i in enumerate(ids)]
        tests_request = None
        cases: list[dict[str, str]] | None = task.get("tests") \
            if _stdio_cases(task.get("tests")) else None
        if cases is None:
            tests_reply = await llm.ask([{"role": "user", "content": STDIO_TESTS.format(
                instruction=task["instruction"])}], sample=0, **params)
            cases, tests_request = parse_cases(tests_reply.text) or None, tests_reply.key
        # Worked examples in the task's language come first, as earlier turns.
        messages = few_shot(language, STDIO_SOLUTION.format(name=NAMES[language],
                                                            language=language),
                            task["instruction"])
        replies = await asyncio.gather(*(llm.ask(messages, sample=s, **params)
                                         for s in range(samples)))
        rows = []
        for sample, reply in enumerate(replies):
            code = extract_code(reply.text, language)
            reason = "no_tests" if cases is None else "no_code" if code is None else None
            rows.append({"id": ids[sample], "task_id": task["id"], "sample": sample,
                         "kept": reason is None, "reason": reason,
                         "instruction": task["instruction"], "language": language,
                         "code": code, "tests": cases, "test_style": "stdio",
                         "entry_point": None, "origin": task.get("origin"),
                         "solve": {"model": llm.model, "request": reply.key,
                                   "tests_request": tests_request, "sample": sample}})
        return rows

    running = Counts()
    async for rows in in_order(kept(tasks), work, max(1, llm.config.concurrency // 2)):
        for row in rows:
            out.write(row)
            running.add(row)
        tick(running)
    if failed:
        raise StageIncomplete("solve", len(failed), "task(s)", failed[-1])
    # Tasks retried on a resume were appended last: put every row back in task order.
    out.reorder([content_id("solve", t["id"], s) for t in kept(tasks) for s in range(samples)])
    counts = Counts.of(out.read())
    tick(counts)
    return counts


def verify(candidates: StageFile, out: StageFile, sandbox: Sandbox, limits: Limits,
           tick: Tick, checks: Any = None, edge_cases: dict[str, Any] | None = None) -> Counts:
    """Every candidate with its task's tests, and ``checks`` (codesynth.quality): reruns,
    test strength, augmented tests (probing with ``edge_cases`` by task id too)."""
    counts = Counts()
    todo = (r for r in kept(candidates) if content_id("verify", r["id"]) not in out.done)
    jobs = ((r, Job(id=r["id"], code=r["code"], tests=r["tests"], test_style=r["test_style"],
                    entry_point=r.get("entry_point"), language=r.get("language", "python")))
            for r in todo)
    from codesynth.execute import execute_pairs
    from codesynth.quality import checked

    extra = {r["id"]: edge_cases[r["task_id"]] for r in kept(candidates)
             if r["task_id"] in edge_cases} if edge_cases else None
    results = checked(sandbox, jobs, checks, limits, extra_inputs=extra,
                      group=lambda record: str(record.get("task_id"))) \
        if checks is not None and checks.active \
        else ((r, e, None) for r, e in execute_pairs(sandbox, jobs, limits))
    for record, execution, added in results:
        result = execution.to_dict()
        tests = result.get("tests", [])
        out.write({**record, "id": content_id("verify", record["id"]),
                   "candidate_id": record["id"], "kept": execution.passed,
                   "reason": None if execution.passed else f"tests_{execution.status.value}",
                   "verification": {"passed": execution.passed,
                                    "status": execution.status.value,
                                    "tests_passed": sum(t["outcome"] == "passed"
                                                        for t in tests),
                                    "tests_total": len(tests)},
                   **({"augmented_tests": added} if added else {}),
                   "result": result})
        counts.inputs += 1
        tick(counts)
    counts = Counts.of(out.read())
    tick(counts)
    return counts


def select(verified: StageFile, out: StageFile, pipeline: Pipeline, tick: Tick,
           sandbox: Callable[[], Sandbox] | None = None, limits: Limits | None = None
           ) -> Counts:
    """Filters on verified candidates; ``keep = "one"`` keeps the first passing per task,
    ``"best"`` the passing one chosen by behaviour (:mod:`codesynth.selection`). Flaky
    candidates are dropped unless ``allow_flaky``; ``min_test_strength`` drops candidates
    whose tests kill too few mutants."""
    keep = pipeline.filter.get("keep", "one")
    min_tests = int(pipeline.filter.get("min_tests", 1))
    max_lines = int(pipeline.filter.get("max_code_lines", 200))
    min_strength = pipeline.filter.get("min_test_strength")
    allow_flaky = bool(pipeline.filter.get("allow_flaky", False))
    from codesynth.selection import choose_per_task as choose

    chosen = choose(verified.read(), sandbox, limits, pipeline.seed) if keep == "best" else {}
    counts = Counts()
    tasks_done: set[str] = set()
    for record in kept(verified):
        result = record.get("result") or {}
        strength = (result.get("test_strength") or {}).get("score")
        reason = None
        if record["verification"]["tests_total"] < min_tests:
            reason = "too_few_tests"
        elif record["code"].count("\n") + 1 > max_lines:
            reason = "code_too_long"
        elif result.get("flaky") and not allow_flaky:
            reason = "flaky"
        elif min_strength is not None and (strength is None or strength < min_strength):
            reason = "weak_tests"
        elif keep == "best" and chosen.get(record["task_id"]) != record["id"]:
            reason = "not_selected"
        elif keep == "one" and record["task_id"] in tasks_done:
            reason = "task_has_a_solution"
        if reason is None:
            tasks_done.add(record["task_id"])
        extra = {"selection": chosen[("score", record["id"])]} \
            if ("score", record["id"]) in chosen else {}
        row = judged("filter", record, reason, **extra)
        out.write(row)
        counts.add(row)
        tick(counts)
    return counts


def _stdio_cases(tests: Any) -> bool:
    return isinstance(tests, list) and bool(tests) and all(
        isinstance(c, dict) and isinstance(c.get("input"), str)
        and isinstance(c.get("output"), str) for c in tests)


def run_async(coroutine: Any) -> Any:
    return asyncio.run(coroutine)
