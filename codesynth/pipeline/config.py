"""The pipeline file (TOML or YAML): validated whole before any work, hashed for safe resumes.

Every mistake is reported at once, before the first model request and before any sandbox
starts, as ``FILE:LINE: [section] key: what is wrong`` (the rules: :mod:`.schema`). Lines come
from PyYAML's node marks, or (TOML) from the key's first occurrence in its table's text.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codesynth.errors import UserError
from codesynth.pipeline import inputs, schema
from codesynth.records import canonical_json

# Settings that change how the work is done, not what it gives: a resumed run may change them
# (e.g. a model server restarted on another port) without being refused.
OPERATIONAL = {"llm": ("base_url", "api_key", "timeout", "max_retries", "budget_requests",
                       "budget_tokens"), "sandbox": ("workers",), "verify": ("cache",)}


@dataclass
class Generate:
    method: str
    n: int
    seeds: str = "seeds"
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Pipeline:
    path: Path
    name: str
    output: Path
    seed: int = 0
    allow_empty: bool = False
    llm: dict[str, Any] = field(default_factory=dict)
    sandbox: dict[str, Any] = field(default_factory=dict)
    generate: list[Generate] = field(default_factory=list)
    solve: dict[str, Any] = field(default_factory=dict)
    filter: dict[str, Any] = field(default_factory=dict)
    verify: dict[str, Any] = field(default_factory=dict)  # test_strength, reruns, augment, cache
    dedup: dict[str, Any] = field(default_factory=dict)
    decontaminate: dict[str, Any] = field(default_factory=dict)
    export: dict[str, Any] = field(default_factory=dict)
    bugs: dict[str, Any] | None = None
    products: dict[str, dict[str, Any]] = field(default_factory=dict)  # product stages
    executor: dict[str, Any] = field(default_factory=dict)  # name, address
    raw: dict[str, Any] = field(default_factory=dict)

    def digest(self) -> str:
        """What the results depend on: everything but the output location and the
        operational settings."""
        import hashlib

        # [executor] says where jobs run, never what they give: a run resumes on any.
        content = {k: v for k, v in self.raw.items() if k not in ("run", "executor")}
        for section, keys in OPERATIONAL.items():
            if isinstance(content.get(section), dict):
                content[section] = {k: v for k, v in content[section].items() if k not in keys}
        content["seed"] = self.seed
        return hashlib.blake2b(canonical_json(content).encode(), digest_size=12).hexdigest()


Locate = Callable[[schema.Key], "int | None"]


def _read(path: Path) -> tuple[dict[str, Any], Locate]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise UserError(f"{path}: cannot read the pipeline ({reason})") from None
    yaml_file = path.suffix in (".yaml", ".yml")
    try:
        if yaml_file:
            data, root = _yaml(text)
            locate = yaml_locator(root)
        else:
            data, locate = tomllib.loads(text), toml_locator(text)
    except Exception as exc:  # noqa: BLE001 - both parsers: report, never crash
        raise UserError(f"{path}: not a valid pipeline file: {str(exc)[:1000]}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: the pipeline must be a table of sections")
    return data, locate


MAX_NODES = 100_000  # values in a YAML document, aliases expanded


def _yaml(text: str) -> tuple[Any, Any]:
    """The document and its root node, refused before it is built if its aliases expand to
    more than :data:`MAX_NODES` values (a "billion laughs" file) or refer to themselves."""
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return {}, None
        size = expanded_size(root, MAX_NODES)
        if size is None:
            raise ValueError(f"its aliases expand to more than {MAX_NODES:,} values, or refer "
                             "to themselves (an alias bomb?)")
        return loader.construct_document(root) or {}, root
    finally:
        loader.dispose()


def expanded_size(root: Any, limit: int) -> int | None:
    """How many nodes the document holds with every alias expanded; None past ``limit`` or
    for a recursive alias. Each node is sized once (aliases share nodes), without recursion."""
    sizes: dict[int, int] = {}
    entered: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        children = [n for pair in node.value for n in (pair if isinstance(pair, tuple)
                                                       else (pair,))] \
            if isinstance(node.value, list) else []
        if leaving:
            entered.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes[id(child)] for child in children)
            if sizes[id(node)] > limit:
                return None
        elif id(node) in entered:
            return None
        elif id(node) not in sizes:
            entered.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
    return sizes[id(root)]


def yaml_locator(root: Any) -> Locate:
    """The line of a key path in a YAML document (PyYAML's node marks)."""
    import yaml

    def locate(key: schema.Key) -> int | None:
        node, line = root, None
        for part in key:
            if isinstance(node, yaml.MappingNode):
                pair = next(((k, v) for k, v in node.value if k.value == str(part)), None)
                if pair is None:
                    break
                line, node = pair[0].start_mark.line + 1, pair[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) \
                    and part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                break
        return line

    return locate


_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?")


def toml_locator(text: str) -> Locate:
    """The line of a key path in TOML text: the table's header (``[[generate]]`` by index),
    then each key's first ``key =`` after it, within the table."""
    lines = text.splitlines()
    headers = [(i, m.group(2).replace('"', "").replace("'", ""), m.group(1) == "[[")
               for i, line in enumerate(lines) if (m := _HEADER.match(line))]

    def locate(key: schema.Key) -> int | None:
        section, rest = str(key[0]), list(key[1:])
        first = rest[0] if rest else None
        index = first if isinstance(first, int) else 0
        rest = rest[1:] if isinstance(first, int) else rest
        tables = [h for h in headers if h[1] == section]
        start = tables[index][0] if index < len(tables) else None
        if start is None:
            key_line = re.compile(rf"\s*[\"']?{re.escape(section)}[\"']?\s*=")
            return None if rest else next(
                (i + 1 for i, line in enumerate(lines) if key_line.match(line)),
                None)
        end = next((i for i, name, _ in headers
                    if i > start and not name.startswith(section + ".")), len(lines))
        line, position = start, start
        for part in rest:
            pattern = re.compile(rf"(^|[\s{{,.]){re.escape(str(part))}[\"']?\s*=")
            found = next((i for i in range(position, end) if pattern.search(lines[i])), None)
            if found is None:
                break
            line = position = found
        return line + 1

    return locate


def label(path: Path, locate: Locate) -> schema.Label:
    """``FILE:LINE: [section] key`` for a key path (naming its first ``parts`` only)."""

    def where(key: schema.Key, parts: int | None = None) -> str:
        line = locate(key)
        section, rest = str(key[0]), list(key[1:parts])
        if section == "generate" and rest and isinstance(rest[0], int):
            name = f"[[generate]] #{int(rest.pop(0)) + 1}"
        else:
            name = "[[generate]]" if section == "generate" else f"[{section}]"
        keys = ".".join(inputs.show(part)[1:-1] if isinstance(part, str) else str(part)
                        for part in rest)
        return f"{path}:{line}: {name}" + (f" {keys}" if keys else "") if line else \
            f"{path}: {name}" + (f" {keys}" if keys else "")

    return where


def load(path: str | Path, output: str | Path | None = None) -> Pipeline:
    """The pipeline at ``path``, every mistake in it reported at once (:class:`UserError`);
    ``output`` (``--output``) replaces ``[run] output``."""
    path = Path(path)
    data, locate = _read(path)
    for name in schema.SECTIONS:  # YAML: an empty section (``bugs:``) takes the defaults
        if name in data and data[name] is None:
            data[name] = {}
    where = label(path, locate)
    found = schema.problems(data, path.parent, where)
    run = data["run"] if isinstance(data.get("run"), dict) else {}
    title = run.get("name") if isinstance(run.get("name"), str) else path.stem
    chosen = output if output is not None else run.get("output", f"runs/{title}")
    if isinstance(chosen, str | Path) and (output is not None or "\0" not in str(chosen)):
        problem = inputs.place_problem(Path(chosen), directory=True)
        if problem:
            found.append(f"--output: {problem}" if output is not None
                         else f"{where(('run', 'output'))}: {problem}")
    if found:
        raise UserError("\n".join(found) if len(found) > 1 else found[0])
    steps = [Generate(step["method"], step["n"],
                      str(schema.resolve(path.parent, step.get("seeds", "seeds"))),
                      dict(step.get("params", {}))) for step in data["generate"]]
    sections = {name: dict(data.get(name, {}))
                for name in ("solve", "filter", "dedup", "decontaminate", "export", "sandbox",
                             "verify", "executor")}
    benchmarks = sections["decontaminate"].get("benchmarks")
    if benchmarks:
        sections["decontaminate"]["benchmarks"] = [
            name if name == "humaneval" else str(schema.resolve(path.parent, name))
            for name in benchmarks]
    bugs = dict(data["bugs"]) if "bugs" in data else None
    products = {name: dict(data[name]) for name in schema.PRODUCTS if name in data}
    if "seeds" in products.get("nl2sql", {}):
        products["nl2sql"]["seeds"] = str(schema.resolve(path.parent,
                                                         products["nl2sql"]["seeds"]))
    raw = json.loads(json.dumps(data, default=str))
    return Pipeline(path=path, name=str(run.get("name", path.stem)), output=Path(chosen),
                    seed=int(run.get("seed", 0)), allow_empty=bool(run.get("allow_empty")),
                    llm=dict(data.get("llm", {})), generate=steps, bugs=bugs, raw=raw,
                    products=products,
                    **sections)
