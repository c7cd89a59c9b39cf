"""The pipeline file (TOML or YAML): validated up front, hashed for safe resumes."""

from __future__ import annotations

import dataclasses
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codesynth.errors import UserError
from codesynth.records import canonical_json

SECTIONS = {"run", "llm", "sandbox", "generate", "solve", "filter", "dedup", "decontaminate",
            "export", "bugs"}


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
    llm: dict[str, Any] = field(default_factory=dict)
    sandbox: dict[str, Any] = field(default_factory=dict)
    generate: list[Generate] = field(default_factory=list)
    solve: dict[str, Any] = field(default_factory=dict)
    filter: dict[str, Any] = field(default_factory=dict)
    dedup: dict[str, Any] = field(default_factory=dict)
    decontaminate: dict[str, Any] = field(default_factory=dict)
    export: dict[str, Any] = field(default_factory=dict)
    bugs: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    def digest(self) -> str:
        """What the results depend on: everything but the output location."""
        import hashlib

        content = {k: v for k, v in self.raw.items() if k != "run"}
        content["seed"] = self.seed
        return hashlib.blake2b(canonical_json(content).encode(), digest_size=12).hexdigest()


_KEYS = {
    "run": {"name", "output", "seed"},
    "solve": {"samples", "max_tokens", "temperature"},
    "filter": {"keep", "min_tests", "max_code_lines"},
    "dedup": {"exact", "near", "threshold", "num_perm", "fields"},
    "decontaminate": {"benchmarks", "ngram", "execution", "check_timeout"},
    "export": {"formats", "shapes", "hub_repo", "private"},
    "bugs": {"strategy", "per_sample"},
    "sandbox": {"backend", "workers", "timeout", "memory_mb", "max_processes", "cpu_time",
                "file_size_mb", "max_output", "image"},
    "generate": {"method", "n", "seeds", "params"},
}


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{path}: cannot read the pipeline ({exc.strerror})") from None
    try:
        if path.suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text) or {}
        else:
            data = tomllib.loads(text)
    except Exception as exc:  # noqa: BLE001 - both parsers: report, never crash
        raise UserError(f"{path}: not a valid pipeline file: {exc}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: the pipeline must be a table of sections")
    return data


def _check(path: Path, section: str, table: Any, where: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise UserError(f"{path}: [{where}] must be a table")
    known = _KEYS.get(section)
    if known is not None:
        unknown = sorted(set(table) - known)
        if unknown:
            raise UserError(f"{path}: [{where}] unknown key(s) {', '.join(unknown)} "
                            f"(known: {', '.join(sorted(known))})")
    return dict(table)


def load(path: str | Path) -> Pipeline:
    path = Path(path)
    data = _read(path)
    unknown = sorted(set(data) - SECTIONS)
    if unknown:
        raise UserError(f"{path}: unknown section(s) {', '.join(unknown)} "
                        f"(known: {', '.join(sorted(SECTIONS))})")
    run = _check(path, "run", data.get("run", {}), "run")
    generators = data.get("generate")
    if not isinstance(generators, list) or not generators:
        raise UserError(f"{path}: at least one [[generate]] step is required")
    steps = []
    for index, step in enumerate(generators):
        table = _check(path, "generate", step, f"generate #{index + 1}")
        if not isinstance(table.get("method"), str) or not isinstance(table.get("n"), int) \
                or table["n"] < 1:
            raise UserError(f"{path}: [generate #{index + 1}] needs method (a string) and "
                            "n (a positive integer)")
        seeds = Path(table.get("seeds", "seeds"))
        if not seeds.is_absolute():
            seeds = (path.parent / seeds) if (path.parent / seeds).exists() else seeds
        steps.append(Generate(table["method"], table["n"], str(seeds),
                              dict(table.get("params", {}))))
    sections = {name: _check(path, name, data.get(name, {}), name)
                for name in ("solve", "filter", "dedup", "decontaminate", "export",
                             "sandbox")}
    llm = data.get("llm", {})
    if not isinstance(llm, dict):
        raise UserError(f"{path}: [llm] must be a table")
    from codesynth.llm.config import LLMConfig

    known_llm = {f.name for f in dataclasses.fields(LLMConfig)}
    if set(llm) - known_llm:
        raise UserError(f"{path}: [llm] unknown key(s) {', '.join(sorted(set(llm) - known_llm))}")
    bugs = _check(path, "bugs", data["bugs"], "bugs") if "bugs" in data else None
    output = Path(run.get("output", f"runs/{run.get('name', path.stem)}"))
    raw = json.loads(json.dumps(data, default=str))
    return Pipeline(path=path, name=str(run.get("name", path.stem)), output=output,
                    seed=int(run.get("seed", 0)), llm=llm, generate=steps, bugs=bugs,
                    raw=raw, **sections)
