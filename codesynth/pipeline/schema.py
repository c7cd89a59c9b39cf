"""What a pipeline file may hold: one table of key -> type, range or choices per section, and
the checks that need more than a type (plugin names, files, generator parameters, the hub).

``problems(data, base, label)`` returns every mistake at once, before any model request or
sandbox, each prefixed with ``label(key path)``: the loader's file, line and key.
"""

from __future__ import annotations

import collections
import dataclasses
import difflib
import inspect
import math
import os
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codesynth.errors import UserError
from codesynth.llm.config import api_key_problem, url_problem
from codesynth.pipeline import inputs
from codesynth.pipeline.inputs import show

Key = tuple[str | int, ...]
Problem = tuple[Key, str]


@dataclass(frozen=True)
class Spec:
    """A key's value: ``kind`` (int, float, bool, str, list of str, table), bounds, choices,
    and ``test``: what else is wrong with a value of the right type (a URL, a path...)."""

    kind: str
    low: float | None = None  # inclusive
    above: float | None = None  # exclusive lower bound
    high: float | None = None  # inclusive
    choices: tuple[str, ...] = ()
    null: bool = False  # YAML's null (TOML has none): the default
    test: Callable[[Any], str | None] | None = None

    def check(self, value: Any) -> str | None:
        if value is None:
            return None if self.null else f"expected {self.describe()}, got nothing (null)"
        if self.kind == "list":
            if not isinstance(value, list) or not value \
                    or not all(isinstance(v, str) for v in value):
                return f"expected {self.describe()}, got {show(value)}"
            bad = [v for v in value if self.choices and v not in self.choices]
            if bad:
                return (f"{', '.join(map(show, bad[:8]))} not valid (valid: "
                        f"{', '.join(self.choices)})")
            twice = [v for v, count in collections.Counter(value).items() if count > 1]
            if twice:
                return f"{', '.join(map(show, twice[:8]))} listed more than once"
            if any("\0" in v for v in value):
                return "a value contains a NUL byte"
            return None
        ok = {"int": isinstance(value, int) and not isinstance(value, bool),
              "float": isinstance(value, int | float) and not isinstance(value, bool),
              "bool": isinstance(value, bool), "str": isinstance(value, str),
              "table": isinstance(value, dict)}[self.kind]
        if not ok or (self.kind == "str" and not value.strip()):
            return f"expected {self.describe()}, got {show(value)}"
        if self.kind == "float" and not math.isfinite(value):
            return f"expected {self.describe()}, got {show(value)}"
        if self.kind == "str" and "\0" in value:
            return f"contains a NUL byte: {show(value)}"
        if self.choices and value not in self.choices:
            return f"{show(value)} is not one of {', '.join(self.choices)}"
        if (self.low is not None and value < self.low) \
                or (self.above is not None and value <= self.above) \
                or (self.high is not None and value > self.high):
            return f"expected {self.describe()}, got {show(value)}"
        return self.test(value) if self.test is not None else None

    def describe(self) -> str:
        noun = {"int": "an integer", "float": "a number", "bool": "true or false",
                "str": "a non-empty string", "list": "a non-empty list of strings",
                "table": "a table"}[self.kind]
        if self.choices and self.kind == "str":
            noun = f"one of {', '.join(self.choices)}"
        elif self.choices:
            noun = f"a non-empty list of {', '.join(self.choices)}"
        bounds = [f">= {_number(self.low)}" if self.low is not None else "",
                  f"> {_number(self.above)}" if self.above is not None else "",
                  f"<= {_number(self.high)}" if self.high is not None else ""]
        return " ".join([noun, *(b for b in bounds if b)])


def _number(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else f"{bound:g}"


def Int(low: float | None = None, high: float | None = None) -> Spec:  # noqa: N802
    return Spec("int", low=low, high=high)


def Float(low: float | None = None, above: float | None = None,  # noqa: N802
          high: float | None = None) -> Spec:
    return Spec("float", low=low, above=above, high=high)


BOOL, STR, TABLE = Spec("bool"), Spec("str"), Spec("table")
FORMATS = ("jsonl", "hf", "parquet")
SHAPES = ("sft", "chat", "verified")
DAY = 86400.0  # seconds: the longest timeout
SEED_MAX = 2**63 - 1  # a seed is a signed 64-bit integer (the model servers' own)
MAX_TOKENS = 1_000_000

# Every number has both bounds: a huge value is a mistake, said now, not an overflow later.
SCHEMA: dict[str, dict[str, Spec]] = {
    "run": {"name": STR, "output": STR, "seed": Int(0, SEED_MAX), "allow_empty": BOOL},
    "sandbox": {"backend": STR, "workers": Int(1, 256), "timeout": Float(above=0, high=DAY),
                "cpu_time": Float(above=0, high=DAY), "wall_time": Float(above=0, high=DAY),
                "memory_mb": Int(16, 1_048_576),
                "max_processes": Int(1, 65_536), "file_size_mb": Int(1, 1_048_576),
                "max_output": Int(0, 1 << 30), "image": STR, "strict": BOOL},
    "generate": {"method": STR, "n": Int(1, 10_000_000), "seeds": STR, "params": TABLE},
    "solve": {"samples": Int(1, 100), "max_tokens": Int(1, MAX_TOKENS),
              "temperature": Float(0, high=2)},
    "filter": {"keep": Spec("str", choices=("one", "all", "best")), "min_tests": Int(0, 1000),
               "max_code_lines": Int(1, 1_000_000), "min_test_strength": Float(0, high=1),
               "allow_flaky": BOOL},
    "verify": {"test_strength": Int(0, 1000), "reruns": Int(0, 100), "augment": BOOL,
               "cache": BOOL, "edge_cases": Int(0, 100),
               "labels": Spec("str", choices=("reference", "agreement"))},
    "dedup": {"exact": BOOL, "near": BOOL, "threshold": Float(above=0, high=1),
              "num_perm": Int(16, 1024),
              "fields": Spec("list", choices=("instruction", "code", "tests"))},
    "decontaminate": {"benchmarks": Spec("list"), "ngram": Int(1, 1000), "execution": BOOL,
                      "check_timeout": Float(above=0, high=DAY)},
    "export": {"formats": Spec("list", choices=FORMATS), "shapes": Spec("list", choices=SHAPES),
               "hub_repo": STR, "private": BOOL, "push": BOOL},
    "bugs": {"strategy": Spec("str", choices=("ast",)), "per_sample": Int(1, 18)},
    # Product stages (codesynth/pipeline/products.py), each optional.
    "lintseq": {"samples": Int(1, 100), "linter": Spec("str", choices=("pyflakes", "ruff"))},
    "repairs": {"max_chain": Int(2, 100)},
    "refactor": {"n": Int(1, 10_000_000), "params": TABLE},
    "optimize": {"n": Int(1, 10_000_000), "params": TABLE},
    "nl2sql": {"n": Int(1, 10_000_000), "seeds": STR, "params": TABLE},
    # Where sandbox jobs run, and the model's servers shared by every generator (under one
    # limit: on ray, cluster-wide). See codesynth.executors.
    "executor": {"name": STR, "address": STR, "endpoints": Spec("list"),
                 "model_concurrency": Int(1, 1_000_000),
                 "model_rate": Float(above=0, high=1_000_000)},
    "translate": {"n": Int(1, 10_000_000), "params": TABLE},
}
REQUIRED = {"generate": ("method", "n")}
PRODUCTS = ("lintseq", "repairs", "refactor", "optimize", "nl2sql", "translate")  # optional stages
# [llm]: the types come from LLMConfig's fields; the ranges, choices and tests from here.
def _llm_numbers() -> dict[str, Spec]:
    """The numeric [llm] keys, bounded as LLMConfig bounds them (one table for the flags,
    the --config file and pipelines); a pipeline's budgets must also allow a request."""
    from codesynth.llm.config import LIMITS

    specs = {name: (Float(low, high=high) if float in kinds else Int(low, high))
             for name, (kinds, low, high) in LIMITS.items() if name != "seed"}
    specs["budget_requests"] = Int(1, LIMITS["budget_requests"][2])
    specs["budget_tokens"] = Int(1, LIMITS["budget_tokens"][2])
    return specs


LLM_RANGES = {"mode": Spec("str", choices=("chat", "completion")), **_llm_numbers(),
              "base_url": Spec("str", test=url_problem),
              "api_key": Spec("str", test=api_key_problem),
              "cache": Spec("str", test=lambda v: inputs.place_problem(Path(v), False))}
LLM_NOT_HERE = {"seed": "set the seed in [run] seed (it seeds the model and every generator)"}
SECTIONS = tuple(SCHEMA) + ("llm",)


def llm_schema() -> dict[str, Spec]:
    """[llm] keys: LLMConfig's dataclass fields, typed by their annotations."""
    from codesynth.llm.config import LLMConfig

    hints = typing.get_type_hints(LLMConfig)
    kinds = {int: "int", float: "float", bool: "bool", str: "str"}
    table = {}
    for item in dataclasses.fields(LLMConfig):
        if not item.init:  # bookkeeping (which keys were given), not a setting
            continue
        hint = hints[item.name]
        args = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
        base = next((a for a in args if a is not type(None)), str)
        spec = LLM_RANGES.get(item.name, Spec(kinds.get(base, "str")))
        table[item.name] = dataclasses.replace(spec, null=type(None) in args)
    return table


def _unknown(what: str, key: str, known: Mapping[str, Any] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(key[:100], list(known), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown {what}{hint} (known: {', '.join(sorted(known))})"


def _table(where: Key, table: Any, schema: Mapping[str, Spec]) -> Iterator[Problem]:
    if not isinstance(table, dict):
        yield where, "must be a table"
        return
    for key, value in table.items():
        spec = schema.get(key)
        if where == ("llm",) and key in LLM_NOT_HERE:
            yield (*where, key), LLM_NOT_HERE[key]
            continue
        if spec is None:
            yield (*where, key), _unknown("key", str(key), tuple(schema))
            continue
        problem = spec.check(value)
        if problem:
            yield (*where, key), problem
    for key in REQUIRED.get(str(where[0]), ()):
        if key not in table:
            yield where, f"{key} is required ({schema[key].describe()})"


def resolve(base: Path, value: str) -> Path:
    """A path from the pipeline file: relative to the file's folder when it exists there,
    else as written (relative to the working directory)."""
    try:
        path = Path(value).expanduser()
    except RuntimeError:  # ~user of no such user: as written (it does not exist)
        path = Path(value)
    if not path.is_absolute() and (base / path).exists():
        return base / path
    return path


Label = Callable[..., str]  # (key path, how many parts to name) -> "FILE:LINE: [section] key"


def problems(data: dict[str, Any], base: Path, label: Label) -> list[str]:
    """Every mistake in ``data``, each as ``label(key path) + ": " + what is wrong``."""
    found: list[Problem] = []
    for name in data:
        if name not in SECTIONS:
            found.append(((name,), _unknown("section", str(name), SECTIONS)))
    steps = data.get("generate")
    if not isinstance(steps, list) or not steps:
        found.append((("generate",), "at least one [[generate]] step is required "
                                     "(method, n, seeds, params)"))
        steps = []
    for index, step in enumerate(steps):
        before = len(found)
        found += _table(("generate", index), step, SCHEMA["generate"])
        if len(found) == before:
            found += _generator(("generate", index), step, base, label)
    for name, schema in SCHEMA.items():
        if name != "generate" and name in data:
            before = len(found)
            found += _table((name,), data[name], schema)
            if len(found) == before:
                found += CHECKS.get(name, lambda *_: iter(()))((name,), data[name], base)
    if "llm" in data:
        found += _table(("llm",), data["llm"], llm_schema())
    return [message if not key else f"{label(key)}: {message}" for key, message in found]


def _generator(where: Key, step: dict[str, Any], base: Path, label: Label) -> Iterator[Problem]:
    from codesynth.generators.base import check_params
    from codesynth.registry import generators

    method = step["method"]
    if method not in generators.names():
        yield (*where, "method"), (f"unknown generator {show(method)} "
                                   f"(known: {', '.join(generators.names())})")
        return
    seeds = resolve(base, step.get("seeds", "seeds"))
    if not seeds.exists():
        yield (*where, "seeds"), f"{show(str(seeds))} does not exist"
    elif (problem := inputs.seeds_problem(method, seeds)) is not None:
        yield (*where, "seeds"), problem
    for key, value in step.get("params", {}).items():  # one by one: each at its own line
        try:
            check_params(method, {key: value}, label((*where, "params", key), len(where)))
        except UserError as exc:  # located already: the message starts with the label
            yield (), str(exc)


def _sandbox(where: Key, table: dict[str, Any], base: Path) -> Iterator[Problem]:
    from codesynth.registry import sandboxes

    backend = table.get("backend", "local")
    if backend not in sandboxes.names():
        yield (*where, "backend"), (f"unknown sandbox backend {show(backend)} "
                                    f"(known: {', '.join(sandboxes.names())})")
        return
    accepted = inspect.signature(sandboxes.get(backend)).parameters
    for option in ("workers", "image"):
        if option in table and option not in accepted:
            yield (*where, option), f"the {backend} backend takes no {option}"
    wall, timeout = table.get("wall_time"), table.get("timeout", 10.0)
    if isinstance(wall, int | float) and isinstance(timeout, int | float) and wall < timeout:
        yield (*where, "wall_time"), (f"the wall backstop ({wall:g} s) must be at least the "
                                      f"timeout ({timeout:g} s)")


def _benchmarks(where: Key, table: dict[str, Any], base: Path) -> Iterator[Problem]:
    for name in table.get("benchmarks", ()):
        for problem in inputs.benchmark_problems(name, resolve(base, name)):
            yield (*where, "benchmarks"), problem


def _export(where: Key, table: dict[str, Any], base: Path) -> Iterator[Problem]:
    repo, push = table.get("hub_repo"), table.get("push")
    if repo is not None and repo.count("/") != 1:
        yield (*where, "hub_repo"), f"expected owner/name, got {show(repo)}"
    if push and repo is None:
        yield (*where, "push"), "push = true needs hub_repo (owner/name)"
    if repo is not None and push is not False and not hub_token():
        yield (*where, "hub_repo"), (
            "is set but HF_TOKEN is not in the environment: export HF_TOKEN to push the "
            "dataset, or add push = false to [export] to export it locally only")


def hub_token() -> str | None:
    return os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN")


def _product_params(where: Key, table: dict[str, Any], base: Path) -> Iterator[Problem]:
    """A generator product's params, checked as ``[[generate]]`` params are; nl2sql's
    databases must be readable."""
    from codesynth.generators.base import check_params

    method = str(where[0])
    for key, value in table.get("params", {}).items():
        try:
            check_params(method, {key: value}, "")
        except UserError as exc:
            yield (*where, "params", key), str(exc).split(f"params.{key}: ", 1)[-1]
    if "seeds" in table:
        seeds = resolve(base, table["seeds"])
        if not seeds.exists():
            yield (*where, "seeds"), f"{show(str(seeds))} does not exist"
        elif (problem := inputs.seeds_problem(method, seeds)) is not None:
            yield (*where, "seeds"), problem


def _executor(where: Key, table: dict[str, Any], base: Path) -> Iterator[Problem]:
    from codesynth.executors import problem

    found = problem(table.get("name", "local"))
    if found:
        yield (*where, "name"), found
    elif "address" in table and table.get("name", "local") == "local":
        yield (*where, "address"), "applies to name = \"ray\" only"
    for url in table.get("endpoints", ()):
        if (bad := url_problem(url)) is not None:
            yield (*where, "endpoints"), f"{show(url)}: {bad}"


CHECKS: dict[str, Callable[[Key, dict[str, Any], Path], Iterator[Problem]]] = {
    "executor": _executor, "sandbox": _sandbox, "decontaminate": _benchmarks, "export": _export,
    "refactor": _product_params, "optimize": _product_params, "nl2sql": _product_params,
    "translate": _product_params}
