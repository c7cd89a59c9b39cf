"""What every generator shares: the run context, rejections by reason, provenance, batching.

A generator is a plugin (``codesynth.registry.generators``) with a ``name`` and an async
``generate(ctx)`` that yields records in a deterministic order: given the same seeds, seed
and model replies (the response cache), a re-run yields the same records. Records use the
``verify`` format plus the instruction and provenance:
``{id, instruction, language, code, tests, test_style, entry_point, origin, [result]}``.

Its parameters are declared as :class:`Param` objects in ``params`` (a class variable) and
read with ``ctx.param(SPEC)``; :func:`check_params` validates a params table against them
before any work.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar

from codesynth.errors import InputError, UserError
from codesynth.generators.params import Param, check_params
from codesynth.llm import LLM, BudgetExhausted, LLMError
from codesynth.records import Limits, Origin, content_id
from codesynth.sandbox.protocol import Sandbox

T = TypeVar("T")
R = TypeVar("R")

__all__ = ["MAX_REQUESTS", "PER_FILE", "Context", "Generator", "Param", "check_params",
           "in_order", "load_seed_tasks", "record", "template_hash"]

# Parameters several generators share.
MAX_REQUESTS = Param("max_requests", int, None, "requests to try before giving up "
                     "(default: 20 × n)", minimum=1, maximum=10**9)
PER_FILE = Param("per_file", int, 3, "snippets cut from each seed file", minimum=1)


def template_hash(*templates: str) -> str:
    return hashlib.blake2b("\0".join(templates).encode(), digest_size=8).hexdigest()


@dataclass
class Context:
    llm: LLM
    seeds: Path
    n: int
    seed: int = 0
    params: dict[str, Any] = field(default_factory=dict)
    sandbox_factory: Callable[[], Sandbox] | None = None
    limits: Limits = field(default_factory=Limits)
    rejected: collections.Counter[str] = field(default_factory=collections.Counter)
    rejections: list[dict[str, Any]] = field(default_factory=list)
    # Called with each rejection as it happens (e.g. to log it); else they pile up in
    # ``rejections``.
    on_reject: Callable[[dict[str, Any]], None] | None = None
    # Why no more requests are sent (a spent budget); the requests in flight still finish.
    stopped: str | None = None
    _sandbox: Sandbox | None = None
    _occurrences: collections.Counter[str] = field(default_factory=collections.Counter)

    def param(self, spec: Param) -> Any:
        """The value of a declared parameter: ``params[spec.name]`` normalized by ``spec``
        (the rules of :func:`check_params`), else its default (None: computed by the caller)."""
        if spec.name not in self.params:
            return spec.default
        return spec.normalize(self.params[spec.name], f"params.{spec.name}")

    def reject(self, reason: str, **detail: Any) -> None:
        """Record a rejection. Its id is its content and how many identical ones came
        before it, so that the log holds one line per rejection (two identical rejections
        are two lines) and a resumed run, which makes them again, adds none twice."""
        if self.stopped:  # what a stopped run does not ask is no verdict on anything
            return
        self.rejected[reason] += 1
        same = content_id(reason, detail)
        self._occurrences[same] += 1
        rejection = {"id": content_id(same, self._occurrences[same]), "reason": reason,
                     **detail}
        if self.on_reject is not None:
            self.on_reject(rejection)
        else:
            self.rejections.append(rejection)

    def rng(self, *scope: object) -> random.Random:
        return random.Random(":".join(map(str, (self.seed, *scope))))

    @property
    def sandbox(self) -> Sandbox:
        if self._sandbox is None:
            if self.sandbox_factory is None:
                raise UserError("this generator executes code: it needs a sandbox")
            self._sandbox = self.sandbox_factory()
        return self._sandbox

    def close(self) -> None:
        if self._sandbox is not None:
            self._sandbox.close()

    async def ask(self, prompt: str, sample: int = 0, system: str | None = None,
                  history: Sequence[dict[str, str]] = (), **params: Any) -> str | None:
        """One request; a request that fails for good is a rejection, not a crash. Only
        per-request failures (``LLMError``) are: a dead or unreachable server
        (``ModelUnavailable``) or a cancellation propagate. A spent budget sets ``stopped``
        and answers None, so that the requests already in flight finish and are used."""
        messages = ([{"role": "system", "content": system}] if system else [])
        messages += [*history, {"role": "user", "content": prompt}]  # earlier turns: examples
        try:
            reply = await self.llm.ask(messages, sample=sample, **params)
        except LLMError as exc:
            self.reject("request_failed", error=str(exc)[:300])
            return None
        except BudgetExhausted as exc:  # the others in flight finish; nothing new is sent
            self.stopped = self.stopped or str(exc)
            return None
        return reply.text


class Generator(Protocol):
    name: str
    params: ClassVar[tuple[Param, ...]]

    def generate(self, ctx: Context) -> AsyncIterator[dict[str, Any]]: ...


def record(ctx: Context, method: str, instruction: str, *, code: str | None = None,
           tests: Any = None, entry_point: str | None = None, language: str = "python",
           parents: Sequence[str] = (), round_: int = 0, template: str | None = None,
           **params: Any) -> dict[str, Any]:
    origin = Origin(method=method, model=ctx.llm.model, template_hash=template,
                    parent_ids=tuple(parents), round=round_, seed=ctx.seed, params=params)
    return {"id": content_id(method, instruction, code, tests), "instruction": instruction,
            "language": language, "code": code, "tests": tests, "test_style": "assert",
            "entry_point": entry_point, "origin": origin.to_dict()}


async def in_order(items: Iterable[T], work: Callable[[T], Awaitable[R]],
                   batch: int) -> AsyncIterator[R]:
    """Run ``work`` on ``batch`` items at a time; results come out in input order."""
    pending: list[T] = []
    for item in items:
        pending.append(item)
        if len(pending) >= batch:
            for result in await asyncio.gather(*(work(i) for i in pending)):
                yield result
            pending = []
    if pending:
        for result in await asyncio.gather(*(work(i) for i in pending)):
            yield result


def load_seed_tasks(path: Path) -> list[dict[str, Any]]:
    """Seed tasks: JSONL with at least ``instruction`` (``id``, ``code`` optional)."""
    if path.is_dir():
        path = path / "tasks.jsonl"
    tasks = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UserError(f"{path}: cannot read seed tasks ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        at = path.read_bytes()[:exc.start].count(b"\n") + 1
        raise InputError(str(path), at, f"not UTF-8 text ({exc.reason}); seed tasks are "
                         "JSONL") from None
    except ValueError as exc:  # a NUL byte in the path
        raise UserError(f"{path}: cannot read seed tasks ({exc})") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            task = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(str(path), number, f"not valid JSON ({exc.msg})") from None
        if not isinstance(task, dict) or not isinstance(task.get("instruction"), str) \
                or not task["instruction"].strip():
            raise InputError(str(path), number, "must be a non-empty string", "instruction")
        task.setdefault("id", f"seed-{number}")
        tasks.append(task)
    if not tasks:
        raise InputError(str(path), None, "no seed tasks")
    return tasks
