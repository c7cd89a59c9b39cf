"""Find plugins by name: built-ins and third-party entry points through one mechanism.

A third-party package registers a sandbox with an entry point in the ``codesynth.sandboxes``
group (``name = "package.module:Class"``); built-ins are declared the same way in our own
``pyproject.toml`` and also listed here so a source checkout works without installation.
Plugins are imported only when asked for, so ``import codesynth`` stays fast.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, TypeVar

from codesynth.errors import UserError

T = TypeVar("T")


class Registry:
    def __init__(self, kind: str, group: str, builtins: dict[str, str]) -> None:
        self.kind = kind
        self.group = group
        self._lazy = dict(builtins)
        self._loaded: dict[str, Any] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def decorator(obj: T) -> T:
            self._loaded[name] = obj
            return obj

        return decorator

    def _discover(self) -> None:
        from importlib.metadata import entry_points  # ~25 ms: only when a name is unknown

        for ep in entry_points(group=self.group):
            self._lazy.setdefault(ep.name, ep.value)

    def builtin_names(self) -> list[str]:
        """The names known so far: built-ins, and plugins only once they were looked for."""
        return sorted(set(self._lazy) | set(self._loaded))

    def names(self) -> list[str]:
        self._discover()
        return self.builtin_names()

    def get(self, name: str) -> Any:
        if name in self._loaded:
            return self._loaded[name]
        if name not in self._lazy:  # built-ins win over entry points: no need to look
            self._discover()
        target = self._lazy.get(name)
        if target is None:
            raise UserError(f"unknown {self.kind} '{name}' (known: {', '.join(self.names())})")
        module, _, attr = target.partition(":")
        obj = getattr(importlib.import_module(module), attr)
        self._loaded[name] = obj
        return obj


sandboxes = Registry("sandbox", "codesynth.sandboxes",
                     {"local": "codesynth.sandbox.local:LocalSandbox",
                      "docker": "codesynth.sandbox.container:DockerSandbox"})

generators = Registry("generator", "codesynth.generators", {
    "self-instruct": "codesynth.generators.self_instruct:SelfInstruct",
    "evol-instruct": "codesynth.generators.evol_instruct:EvolInstruct",
    "oss-instruct": "codesynth.generators.oss_instruct:OSSInstruct",
    "self-align": "codesynth.generators.self_align:SelfAlign",
    "seed-tasks": "codesynth.generators.seed_tasks:SeedTasks",
    "refactor": "codesynth.generators.refactor:Refactor",
    "optimize": "codesynth.generators.optimize:Optimize",
    "nl2sql": "codesynth.generators.nl2sql:NL2SQL",
    "translate": "codesynth.generators.translate:Translate",
})

benchmarks = Registry("benchmark", "codesynth.benchmarks", {
    "humaneval": "codesynth.benchmarks.humaneval:HumanEval",
    "mbpp": "codesynth.benchmarks.mbpp:MBPP",
    "evalplus": "codesynth.benchmarks.evalplus:EvalPlus",
    "stdio": "codesynth.benchmarks.stdio:StdioSet",
    "humaneval-x": "codesynth.benchmarks.humaneval_x:HumanEvalX",
    "multipl-e": "codesynth.benchmarks.humaneval_x:MultiPLE",
})

languages = Registry("language", "codesynth.languages", {
    name: f"codesynth.languages:{name.upper()}"
    for name in ("python", "javascript", "typescript", "cpp", "go", "rust", "java")})
executors = Registry("executor", "codesynth.executors", {
    "local": "codesynth.executors:LocalExecutor",
    "ray": "codesynth.executors.ray_sandbox:RayExecutor",
})
