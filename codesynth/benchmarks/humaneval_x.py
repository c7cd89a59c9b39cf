"""HumanEval-X (Zheng et al., 2023) and MultiPL-E (Cassano et al., 2023): HumanEval in other
languages, each with its test block in the program's language.

- ``humaneval-x``: problems ``{task_id, prompt, canonical_solution, test, declaration,
  example_test}`` (``CPP/0``, ``JavaScript/0``, ``Java/0``, ``Go/0``, ``Rust/0``,
  ``Python/0``), samples ``{task_id, generation}`` (``completion`` read when there is no
  ``generation``). The program is built as the official harness builds it: prompt +
  generation + test; Python after its import list, the generation cut at its first
  unindented line; C++ with its nine common headers first; Go as one test file
  (``test_setup``'s package and imports, the helper packages whose ``name.`` the generation's
  text contains, the prompt without its own import block, then the test), run with ``go
  test``; Rust as ``fn main(){}`` + declaration + prompt + generation + the ``#[cfg(test)]``
  module, with the crates its declarations import (``harness/drivers/crates``). A
  JavaScript sample that printed anything fails, as there.
- ``multipl-e``: problems ``{name, language, prompt, tests, stop_tokens}``, samples
  ``{task_id (the name), completion}``; the program is prompt + completion + tests (Rust
  compiled as edition 2015, as its ``rustc`` without ``--edition``; Java with javatuples).

Both run as the ``native`` test style: the test block runs in the program's process (the
trace says ``in_process_tests``) and passes only with the job's completion line (see
``harness/drivers/native``). Python problems run as HumanEval's ``check`` does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from codesynth.benchmarks import sanitize
from codesynth.benchmarks.base import Benchmark, Problem, Problems, add_problem, require
from codesynth.errors import InputError
from codesynth.humaneval import official_result
from codesynth.records import Execution, Job

PREFIXES = {"cpp": "cpp", "c++": "cpp", "javascript": "javascript", "js": "javascript",
            "typescript": "typescript", "ts": "typescript", "java": "java", "go": "go",
            "go_test.go": "go", "rust": "rust", "rs": "rust", "python": "python",
            "py": "python"}
# What its harness (``IMPORT_HELPER``) puts before a program, per language: C++'s nine
# headers (no ``<cassert>``: a generation that calls ``assert`` does not compile there), the
# Go packages it imports when the generation's text names them, Python's imports.
CPP_HEADERS = ("#include<stdlib.h>", "#include<algorithm>", "#include<math.h>",
               "#include<stdio.h>", "#include<vector>", "#include<string>", "#include<climits>",
               "#include<cstring>", "#include<iostream>")
GO_PACKAGES = ("math", "strings", "fmt", "strconv", "time", "bytes", "regexp", "sort",
               "math/rand", "crypto/md5")
PYTHON_IMPORTS = ("import math", "import re", "import sys", "import copy", "import datetime",
                  "import itertools", "import collections", "import heapq",
                  "import statistics", "import functools", "import hashlib", "import numpy",
                  "import numpy as np", "import string", "from typing import *",
                  "from collections import *")
# (numpy where the sandbox's Python has it: without it, every sample would be an error)
_PYTHON_SETUP = "".join(line + "\n" for line in PYTHON_IMPORTS if "numpy" not in line) + \
    "try:\n" + "".join(f"    {line}\n" for line in PYTHON_IMPORTS if "numpy" in line) + \
    "except ImportError:\n    pass\n"


def python_generation(generation: str) -> str:
    """The generation as HumanEval-X's harness keeps it: up to its first non-blank line that
    starts without a space or a tab (a demo or a second copy of the function after the body
    is not run; a generation that repeats the whole function keeps nothing)."""
    kept = []
    for line in generation.split("\n"):
        if line.strip() and line[0] not in " \t":
            break
        kept.append(line)
    return "\n".join(kept)


def language_of(name: str, where: str, line: int, field: str) -> str:
    language = PREFIXES.get(name.lower())
    if language is None:
        raise InputError(where, line, f"unknown language {name!r} (known: "
                                      f"{', '.join(sorted(set(PREFIXES)))})", field)
    return language


def humaneval_x_program(row: dict[str, Any], generation: str) -> tuple[str, str]:
    """(program, test block) as HumanEval-X's harness concatenates them."""
    language, prompt, test = row["_language"], row["prompt"], row["test"]
    if language == "python":
        return _PYTHON_SETUP + prompt + python_generation(generation), test
    if language == "cpp":
        return "\n".join(CPP_HEADERS) + "\n" + prompt + generation, test
    if language == "go":
        own_imports = row.get("import") or ""
        if own_imports:
            prompt = prompt.replace(own_imports, "")
        setup = row.get("test_setup") or ("package main\n\nimport (\n    \"testing\"\n"
                                          "    \"github.com/stretchr/testify/assert\"\n)\n")
        # its rule: a package not named in the setup, whose name + "." is in the generation
        used = [f'"{p}"' for p in GO_PACKAGES if p not in setup
                and p.split("/")[-1] + "." in generation]
        extra = "import (\n" + "".join(f"    {p}\n" for p in used) + ")\n" if used else ""
        return setup + "\n" + extra + prompt + generation, test
    if language == "rust":
        return "\nfn main(){ \n } \n" + (row.get("declaration") or "") + prompt + generation, test
    return prompt + generation, test


class HumanEvalX(Benchmark):
    name = "humaneval-x"
    description = "HumanEval-X: HumanEval in C++, Java, JavaScript, Go, Rust (pass@k)"
    stop = ("\n}\n",)
    timeout = 30.0  # builds included (the official harness allows 10-15 s per program)
    samples_help = "JSONL samples: task_id, generation (or completion)"

    def problems_hint(self) -> str:
        return "HumanEval-X JSONL(.gz): task_id (CPP/0, Go/0...), prompt, test, declaration"

    def parse(self, rows: Iterable[tuple[int, dict[str, Any]]], where: str) -> Problems:
        problems: Problems = {}
        for line, row in rows:
            require(row, where, line, {"task_id": str, "prompt": str, "test": str})
            task_id = row["task_id"]
            prefix = task_id.split("/", 1)[0]
            language = language_of(prefix, where, line, "task_id")
            entry = row.get("entry_point") if isinstance(row.get("entry_point"), str) else None
            add_problem(problems, Problem(task_id, row["prompt"], {**row, "_language": language},
                                          entry), where, line)
        return problems

    def chat_messages(self, problem: Problem, problems: Problems) -> list[dict[str, str]]:
        language = problem.row["_language"]
        return [{"role": "user", "content": f"Complete the following {language} function. "
                 f"Reply with the whole function in one code block.\n\n{problem.prompt}"}]

    def completion_from_reply(self, problem: Problem, text: str, mode: str) -> str:
        if mode == "completion":
            return sanitize.truncate(text, self.stop) + ("\n}\n" if "\n}\n" in text else "")
        found = re.search(r"```[\w+#-]*\n(.*?)```", text, re.DOTALL)
        body = found.group(1) if found else text
        return body[len(problem.prompt):] if body.startswith(problem.prompt) else body

    def check_sample(self, record: dict[str, Any], where: str, line: int,
                     problems: Problems) -> Problem:
        if isinstance(record.get("generation"), str):  # its harness reads only this one
            record["completion"] = record["generation"]
        return super().check_sample(record, where, line, problems)

    def jobs(self, problem: Problem, sample: dict[str, Any], job_id: str) -> list[Job]:
        row = problem.row
        code, test = humaneval_x_program(row, sample["completion"])
        if row["_language"] == "python":
            return [Job(id=job_id, code=code, tests=test, test_style="assert")]
        # its harness compiles C++ with ``g++ -std=c++11`` (MultiPL-E's: C++17, ours)
        return [Job(id=job_id, code=code, tests=test, test_style="native",
                    language=row["_language"],
                    standard="c++11" if row["_language"] == "cpp" else None)]

    def row(self, sample: dict[str, Any], executions: list[Execution]) -> dict[str, Any]:
        execution = executions[0]
        passed, result = execution.passed, official_result(execution)
        if passed and self.silent(sample) and (execution.stdout or execution.stderr):
            passed, result = False, "failed: the program printed (its harness fails any output)"
        return {"passed": passed, "result": result, "trace": execution.to_dict()}

    def silent(self, sample: dict[str, Any]) -> bool:
        """HumanEval-X's JavaScript rule (``execution.py``): a run that wrote anything on
        stdout or stderr fails, so a ``console.log`` demo after the function fails there."""
        return str(sample.get("task_id", "")).lower().startswith("javascript/")


class MultiPLE(HumanEvalX):
    name = "multipl-e"
    description = "MultiPL-E: HumanEval/MBPP translated to other languages (pass@k)"
    samples_help = "JSONL samples: task_id (the problem's name), completion"

    def problems_hint(self) -> str:
        return "MultiPL-E JSONL: name, language, prompt, tests, stop_tokens"

    def parse(self, rows: Iterable[tuple[int, dict[str, Any]]], where: str) -> Problems:
        problems: Problems = {}
        for line, row in rows:
            require(row, where, line, {"name": str, "language": str, "prompt": str,
                                       "tests": str})
            language = language_of(row["language"], where, line, "language")
            add_problem(problems, Problem(row["name"], row["prompt"],
                                          {**row, "_language": language}), where, line, "name")
        return problems

    def silent(self, sample: dict[str, Any]) -> bool:
        return False  # its harnesses judge the exit status

    def completion_from_reply(self, problem: Problem, text: str, mode: str) -> str:
        stops = tuple(problem.row.get("stop_tokens") or ())
        if mode == "completion":
            return sanitize.truncate(text, stops)
        return super().completion_from_reply(problem, text, mode)

    def jobs(self, problem: Problem, sample: dict[str, Any], job_id: str) -> list[Job]:
        row = problem.row
        code = row["prompt"] + sample["completion"]
        if row["_language"] == "python":
            return [Job(id=job_id, code=code, tests=row["tests"], test_style="assert")]
        # its Rust harness runs ``rustc FILE`` with no edition: Rust 2015
        return [Job(id=job_id, code=code, tests=row["tests"], test_style="native",
                    language=row["_language"],
                    standard="2015" if row["_language"] == "rust" else None)]
