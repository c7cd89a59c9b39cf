"""Sampling a model on a benchmark: ``n`` samples per problem through the LLM layer (its
cache, concurrency, retries and budgets), written in the benchmark's samples format.

Completion mode sends the benchmark's prompt with its stop sequences (and cuts the text at
them too: not every server honours ``stop``); chat mode sends the benchmark's messages and
takes the program out of the answer. Samples are written in problem order, sample ``j`` of
a problem being request ``sample=j`` (its seed is the run's seed + j). Every reply is in the
response cache as it arrives, so a killed run, run again, sends only what got no answer; the
samples file appears under its name only when complete. ``SAMPLES.requests.jsonl`` holds,
per problem, what was sent and every reply as received.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from codesynth.benchmarks.base import Benchmark, Problem, Problems
from codesynth.errors import InfrastructureError
from codesynth.jsonl import AtomicJSONLWriter
from codesynth.llm import LLM, LLMError, Reply


class SamplingIncomplete(InfrastructureError):
    """Some requests failed for good: no samples file (a re-run asks only for those)."""


@dataclass
class Sampled:
    problems: int = 0
    samples: int = 0
    failed: list[str] = field(default_factory=list)  # "task_id#j: why"
    seconds: float = 0.0
    server_models: list[str] | None = None


async def server_models(llm: LLM) -> list[str] | None:
    """The model ids the server lists (what it reports, whatever name was asked for)."""
    try:
        async with asyncio.timeout(min(30.0, llm.config.timeout)):
            listed = await llm._client.models.list()  # noqa: SLF001 - one read-only call
        return [str(model.id) for model in listed.data][:20]
    except Exception:  # noqa: BLE001 - a server without /models still answers requests
        return None


def request_of(bench: Benchmark, problem: Problem, problems: Problems, mode: str
               ) -> dict[str, Any]:
    if mode == "completion":
        return {"prompt": bench.completion_prompt(problem, problems), "stop": list(bench.stop)}
    return {"messages": bench.chat_messages(problem, problems)}


async def _ask(llm: LLM, request: dict[str, Any], j: int) -> Reply:
    if "prompt" in request:
        params: dict[str, Any] = {"stop": request["stop"]} if request["stop"] else {}
        return await llm.complete(request["prompt"], sample=j, **params)
    return await llm.chat(request["messages"], sample=j)


async def sample(bench: Benchmark, problems: Problems, ids: list[str], llm: LLM, n: int,
                 mode: str, samples_out: str,
                 progress: Callable[[int], None] | None = None,
                 on_sample: Callable[[dict[str, Any]], None] | None = None) -> Sampled:
    """Ask for ``n`` samples of each problem in ``ids``; write ``samples_out`` (and its
    requests file) when every request was answered. ``on_sample`` gets each sample as it is
    written, in file order (to score it at once)."""
    started = time.monotonic()
    result = Sampled()
    await llm.resolve_model()  # a dead server: ModelUnavailable, before any work
    result.server_models = await server_models(llm)
    window = max(2, math.ceil(2 * llm.config.concurrency / n))
    requests_path = f"{samples_out}.requests.jsonl"
    samples = AtomicJSONLWriter(samples_out)
    log = AtomicJSONLWriter(requests_path)

    async def problem_replies(task_id: str) -> tuple[str, dict[str, Any], list[Any]]:
        problem = problems[task_id]
        request = request_of(bench, problem, problems, mode)
        replies = await asyncio.gather(*(_guard(_ask(llm, request, j), progress)
                                         for j in range(n)))
        return task_id, request, replies

    pending: list[asyncio.Task[tuple[str, dict[str, Any], list[Any]]]] = []
    try:
        with samples, log:
            queue = iter(ids)
            for task_id in queue:
                pending.append(asyncio.create_task(problem_replies(task_id)))
                if len(pending) >= window:
                    _write(bench, problems, await pending.pop(0), mode, samples, log, result,
                           on_sample)
            while pending:
                _write(bench, problems, await pending.pop(0), mode, samples, log, result,
                       on_sample)
            if result.failed:
                raise SamplingIncomplete(
                    f"{len(result.failed)} request(s) failed for good (first: "
                    f"{result.failed[0]}); the samples file was not written. Run the same "
                    "command again: the answers received come from the cache, and only the "
                    "failed requests are sent again")
    finally:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    result.seconds = time.monotonic() - started
    return result


async def _guard(call: Awaitable[Reply], progress: Callable[[int], None] | None
                 ) -> Reply | LLMError:
    try:
        return await call
    except LLMError as exc:
        return exc
    finally:
        if progress is not None:
            progress(1)


def _write(bench: Benchmark, problems: Problems,
           done: tuple[str, dict[str, Any], list[Any]], mode: str,
           samples: AtomicJSONLWriter, log: AtomicJSONLWriter, result: Sampled,
           on_sample: Callable[[dict[str, Any]], None] | None = None) -> None:
    task_id, request, replies = done
    problem = problems[task_id]
    result.problems += 1
    entries = []
    for j, reply in enumerate(replies):
        if isinstance(reply, LLMError):
            result.failed.append(f"{task_id}#{j}: {reply}")
            entries.append({"sample": j, "error": str(reply)})
            continue
        entries.append({"sample": j, "text": reply.text, "finish_reason": reply.finish_reason,
                        "key": reply.key, "cached": reply.cached,
                        "completion_tokens": reply.completion_tokens})
        if result.failed:
            continue  # the file will not be kept: nothing more to write into it
        completion = bench.completion_from_reply(problem, reply.text, mode)
        record = {"task_id": problem.row.get("task_id", task_id), "completion": completion}
        samples.write(record)
        result.samples += 1
        if on_sample is not None:
            on_sample(record)
    log.write({"task_id": problem.row.get("task_id", task_id), **request, "replies": entries})
