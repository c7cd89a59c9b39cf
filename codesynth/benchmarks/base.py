"""What every benchmark plugin is: where its problems come from, how a model is asked for a
sample, how a sample becomes sandbox jobs, and the official shape of a result row.

A benchmark registers by name (``codesynth.registry.benchmarks``, entry-point group
``codesynth.benchmarks``); ``codesynth eval NAME`` finds it there. The multi-language sets add
a plugin each, with their own ``jobs`` (language, test style) and prompts.
"""

from __future__ import annotations

import argparse
import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from codesynth.errors import InputError, UserError
from codesynth.jsonl import read_objects
from codesynth.records import Execution, Job


@dataclass(frozen=True)
class Problem:
    """One benchmark problem: its id as samples name it, the text a model completes or answers,
    and the row it came from (every field kept)."""

    task_id: str
    prompt: str
    row: dict[str, Any] = field(repr=False)
    entry_point: str | None = None


@dataclass(frozen=True)
class Source:
    """Where the problems came from: a file (hashed) or a hub dataset (its fingerprint)."""

    label: str  # the path, or "hub:NAME"
    sha256: str
    identity: dict[str, Any]  # what a resume fingerprint compares


Problems = dict[str, Problem]


def add_problem(problems: Problems, problem: Problem, where: str, line: int,
                field_name: str = "task_id") -> None:
    """Add ``problem`` under its id; a second problem with the same id is the file's error
    (``where``, ``line``, the id's field)."""
    if problem.task_id in problems:
        raise InputError(where, line, f"{field_name} {problem.task_id!r} appears twice",
                         field_name)
    problems[problem.task_id] = problem


class Benchmark:
    """A benchmark plugin. Subclasses set the class attributes and implement the methods."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    stop: ClassVar[tuple[str, ...]] = ()  # completion mode's stop sequences
    timeout: ClassVar[float] = 3.0  # the official harness's default, where it has one
    hub_dataset: ClassVar[str | None] = None  # tried when no --problems is given
    metrics: ClassVar[tuple[str, ...]] = ("",)  # "": one pass@k; evalplus: base and plus
    samples_help: ClassVar[str] = "JSONL samples: task_id, completion"
    added: ClassVar[tuple[str, ...]] = ("passed", "result", "trace")  # what a row adds
    integer_ids: ClassVar[bool] = False  # samples may name a task by a number (MBPP's)

    def __init__(self, options: argparse.Namespace | None = None) -> None:
        self.options = options or argparse.Namespace()

    @classmethod
    def add_options(cls, parser: argparse.ArgumentParser) -> None:
        """Options of this benchmark alone (``mbpp --challenge``)."""

    def option_values(self) -> dict[str, Any]:
        """The options that change verdicts (they enter the resume fingerprint)."""
        return {}

    # -- problems -----------------------------------------------------------------------------

    def default_path(self) -> Path | None:
        """A problems file installed with a package (no network), if any."""
        return None

    def parse(self, rows: Iterable[tuple[int, dict[str, Any]]], where: str) -> Problems:
        raise NotImplementedError

    def load(self, path: str | None, dataset: str | None = None,
             split: str | None = None) -> tuple[Problems, Source]:
        """Problems from ``path``; else from the hub dataset (``dataset`` or the plugin's);
        else the installed file. A path never touches the network."""
        if path:
            file = Path(path)
            return self._parsed(read_objects(file), str(file)), file_source(file)
        name = dataset or self.hub_dataset
        if name is None:
            default = self.default_path()
            if default is None:
                raise UserError(f"{self.name}: no problems: pass --problems PATH "
                                f"({self.problems_hint()})")
            return self._parsed(read_objects(default), str(default)), file_source(default)
        if not dataset:  # the plugin's default: an installed file wins over the hub
            default = self.default_path()
            if default is not None:
                return self._parsed(read_objects(default), str(default)), file_source(default)
        rows, source = hub_rows(name, split, self.problems_hint())
        return self._parsed(rows, source.label), source

    def _parsed(self, rows: Iterable[tuple[int, dict[str, Any]]], where: str) -> Problems:
        problems = self.parse(rows, where)
        if not problems:
            raise InputError(where, None, "no problems (the file is empty)")
        return problems

    def problems_hint(self) -> str:
        return "a JSONL file of problems"

    # -- sampling -----------------------------------------------------------------------------

    def sampling_ids(self, problems: Problems) -> list[str]:
        """The problems a model is asked about (MBPP: its test split)."""
        return list(problems)

    def completion_prompt(self, problem: Problem, problems: Problems) -> str:
        return problem.prompt

    def chat_messages(self, problem: Problem, problems: Problems) -> list[dict[str, str]]:
        raise NotImplementedError

    def completion_from_reply(self, problem: Problem, text: str, mode: str) -> str:
        """The sample's ``completion``, in the benchmark's samples format."""
        raise NotImplementedError

    def sanitize(self, problem: Problem, completion: str) -> str:
        """``--sanitize``: the program out of a chat model's answer."""
        return self.completion_from_reply(problem, completion, "chat")

    def sanitize_sample(self, problem: Problem, sample: dict[str, Any]) -> str:
        """The program that ``--sanitize`` runs in place of the sample's own text."""
        return self.sanitize(problem, sample["completion"])

    def with_code(self, sample: dict[str, Any], code: str) -> dict[str, Any]:
        """The sample with its text replaced by ``code`` (what ``sanitize_sample`` gave)."""
        return {**sample, "completion": code}

    # -- scoring ------------------------------------------------------------------------------

    def sample_key(self, record: dict[str, Any]) -> str | None:
        """The problem a sample is for (``None``: the sample names none)."""
        task_id = record.get("task_id")
        kinds = (str, int) if self.integer_ids else (str,)
        if isinstance(task_id, bool) or not isinstance(task_id, kinds):
            return None
        return str(task_id)

    def check_sample(self, record: dict[str, Any], where: str, line: int,
                     problems: Problems) -> Problem:
        key = self.sample_key(record)
        if key is None:
            raise InputError(where, line, "is missing or not a string", "task_id")
        problem = problems.get(key)
        if problem is None:
            raise InputError(where, line, f"unknown task_id {record['task_id']!r}", "task_id")
        if not isinstance(record.get("completion"), str):
            raise InputError(where, line, "is missing or not a string", "completion")
        return problem

    def jobs(self, problem: Problem, sample: dict[str, Any], job_id: str) -> list[Job]:
        """The sandbox jobs of one (checked) sample, one per metric (in ``metrics`` order)."""
        raise NotImplementedError

    def row(self, sample: dict[str, Any], executions: list[Execution]) -> dict[str, Any]:
        """The fields a result row adds to its sample (official fields, then ``trace``)."""
        raise NotImplementedError

    def passed(self, row: dict[str, Any]) -> list[bool]:
        """Per metric, whether a result row counts as correct."""
        return [row.get("passed") is True]


def file_source(path: Path) -> Source:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:
        raise UserError(f"{path}: cannot read ({exc})") from None
    stat = os.stat(path)
    return Source(str(path), digest.hexdigest(),
                  {"path": os.path.abspath(path), "size": stat.st_size,
                   "mtime_ns": stat.st_mtime_ns})


def hub_rows(name: str, split: str | None, hint: str
             ) -> tuple[Iterator[tuple[int, dict[str, Any]]], Source]:
    """Rows of a hub dataset (``NAME`` or ``NAME:CONFIG``), every split unless ``split``."""
    dataset, _, config = name.partition(":")
    if os.environ.get("HF_HUB_OFFLINE", "0") in ("0", "", "false", "False"):
        unreachable = hub_unreachable()
        if unreachable:
            raise UserError(f"cannot load the dataset {name!r}: the hub is not reachable "
                            f"({unreachable}); pass --problems PATH ({hint}), or set "
                            "HF_HUB_OFFLINE=1 to use a copy in the datasets cache")
    try:
        import datasets

        loaded = datasets.load_dataset(dataset, config or None, split=split)
    except Exception as exc:  # noqa: BLE001 - offline, unknown name, bad split: all one answer
        raise UserError(f"cannot load the dataset {name!r} from the hub ({type(exc).__name__}: "
                        f"{str(exc)[:300]}); pass --problems PATH ({hint})") from None
    parts = [loaded] if split else [loaded[key] for key in loaded]
    fingerprint = "+".join(str(getattr(part, "_fingerprint", "")) for part in parts)
    label = f"hub:{name}" + (f"[{split}]" if split else "")

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        number = 0
        for part in parts:
            for row in part:
                number += 1
                yield number, dict(row)

    return rows(), Source(label, hashlib.sha256(fingerprint.encode()).hexdigest(),
                          {"dataset": name, "split": split, "fingerprint": fingerprint})


def hub_unreachable(timeout: float = 5.0) -> str | None:
    """Why the hub cannot be reached (one HEAD request, a short deadline), or None: the
    ``datasets`` library itself retries for ~30 s before it says so."""
    import urllib.error
    import urllib.request

    url = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
    try:
        urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout)
    except urllib.error.HTTPError:
        return None  # it answers
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"{url}: {reason}"
    return None


def require(row: dict[str, Any], where: str, line: int, fields: dict[str, Any]) -> None:
    """Each field present and of its type (``list`` means a list of strings)."""
    for name, kind in fields.items():
        value = row.get(name)
        if kind is list:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise InputError(where, line, "is missing or not a list of strings", name)
        elif isinstance(value, bool) or not isinstance(value, kind):
            what = "a string" if kind is str else "an integer or a string"
            raise InputError(where, line, f"is missing or not {what}", name)
