"""Contest sets scored by standard input and output: a statement and input/output pairs.

Rows in any of these shapes (detected per row):

- ours: ``task_id``, ``prompt`` (or ``statement``), ``tests: [{"input", "output"}]``;
- CodeContests: ``name``, ``description``, ``public_tests`` / ``private_tests`` /
  ``generated_tests`` as ``{"input": [...], "output": [...]}``;
- APPS: ``problem_id``, ``question``, ``input_output`` (a JSON string of ``inputs`` and
  ``outputs``); call-based problems (``fn_name``) are not stdio and are skipped, counted;
- LiveCodeBench: ``question_id``, ``question_content``, ``public_test_cases`` and
  ``private_test_cases`` (JSON, or the release's compressed form, which is decoded without
  ever unpickling anything but plain strings); ``functional`` cases are skipped, counted.

Samples are ``{task_id, completion}``, the completion being the whole program (optionally
``language``). An output matches when the lines agree after trailing whitespace is removed.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import pickle
import zlib
from collections.abc import Iterable
from typing import Any

from codesynth.benchmarks import sanitize
from codesynth.benchmarks.base import Benchmark, Problem, Problems, add_problem
from codesynth.errors import InputError
from codesynth.humaneval import official_result
from codesynth.records import LANGUAGES, Execution, Job

CHAT_INSTRUCTION = ("Solve the following problem with a complete Python 3 program that reads "
                    "standard input and writes standard output. Reply with the program in one "
                    "```python code block.")


class StdioSet(Benchmark):
    name = "stdio"
    description = "contest problems judged on stdin/stdout (CodeContests, APPS, LiveCodeBench)"
    stop = ("```",)
    timeout = 10.0
    samples_help = "JSONL samples: task_id, completion (the whole program)"
    integer_ids = True

    def __init__(self, options: argparse.Namespace | None = None) -> None:
        super().__init__(options)
        self.skipped: dict[str, int] = {}  # rows left out, by reason

    def problems_hint(self) -> str:
        return ("JSONL rows with a statement and input/output pairs (ours, CodeContests, APPS "
                "or LiveCodeBench)")

    def parse(self, rows: Iterable[tuple[int, dict[str, Any]]], where: str) -> Problems:
        problems: Problems = {}
        for line, row in rows:
            parsed = _shape(row, where, line)
            if isinstance(parsed, str):
                self.skipped[parsed] = self.skipped.get(parsed, 0) + 1
                continue
            task_id, statement, cases = parsed
            add_problem(problems, Problem(task_id, statement, {**row, "_cases": cases}),
                        where, line)
        return problems

    def chat_messages(self, problem: Problem, problems: Problems) -> list[dict[str, str]]:
        return [{"role": "user", "content": f"{CHAT_INSTRUCTION}\n\n{problem.prompt}"}]

    def completion_prompt(self, problem: Problem, problems: Problems) -> str:
        return (f"# Problem\n\n{problem.prompt.strip()}\n\n# A Python 3 program that reads "
                "standard input and writes standard output\n\n```python\n")

    def completion_from_reply(self, problem: Problem, text: str, mode: str) -> str:
        if mode == "completion":
            return sanitize.truncate(text, self.stop)
        return sanitize.program(text)

    def check_sample(self, record: dict[str, Any], where: str, line: int,
                     problems: Problems) -> Problem:
        problem = super().check_sample(record, where, line, problems)
        language = record.get("language", "python")
        if language not in LANGUAGES:
            raise InputError(where, line, f"unsupported language {language!r} (supported: "
                                          f"{', '.join(LANGUAGES)})", "language")
        return problem

    def jobs(self, problem: Problem, sample: dict[str, Any], job_id: str) -> list[Job]:
        return [Job(id=job_id, code=sample["completion"], tests=problem.row["_cases"],
                    test_style="stdio", language=sample.get("language", "python"))]

    def row(self, sample: dict[str, Any], executions: list[Execution]) -> dict[str, Any]:
        execution = executions[0]
        return {"passed": execution.passed, "result": official_result(execution),
                "trace": execution.to_dict()}


Shape = tuple[str, str, list[dict[str, str]]]


def _shape(row: dict[str, Any], where: str, line: int) -> Shape | str:
    """``(task_id, statement, cases)``, or why the row is skipped."""
    if "tests" in row:
        task_id = row.get("task_id")
        statement = row.get("prompt", row.get("statement"))
        cases = row["tests"]
        if isinstance(cases, list):
            cases = [c for c in cases if isinstance(c, dict)]
        return _checked(task_id, statement, cases, where, line, "tests")
    if "description" in row and "public_tests" in row:  # CodeContests
        cases = []
        for part in ("public_tests", "private_tests", "generated_tests"):
            cases += _pairs(row.get(part) or {}, where, line, part)
        return _checked(row.get("name"), row["description"], cases, where, line,
                        "public_tests")
    if "question" in row and "input_output" in row:  # APPS
        spec = _json(row["input_output"], where, line, "input_output")
        if not isinstance(spec, dict):
            raise InputError(where, line, "is not a JSON object", "input_output")
        if spec.get("fn_name"):
            return "call-based (fn_name), not stdio"
        cases = _pairs({"input": spec.get("inputs"), "output": spec.get("outputs")}, where,
                       line, "input_output")
        return _checked(row.get("problem_id"), row["question"], cases, where, line,
                        "input_output")
    if "question_content" in row:  # LiveCodeBench
        cases = []
        for part in ("public_test_cases", "private_test_cases"):
            for case in _lcb_cases(row.get(part), where, line, part):
                if case.get("testtype", "stdin") != "stdin":
                    return "functional test cases, not stdio"
                cases.append({"input": case.get("input"), "output": case.get("output")})
        return _checked(row.get("question_id"), row["question_content"], cases, where, line,
                        "public_test_cases")
    raise InputError(where, line, "not a stdio problem (ours: task_id, prompt, tests; or "
                                  "CodeContests, APPS, LiveCodeBench rows)")


def _checked(task_id: Any, statement: Any, cases: Any, where: str, line: int,
             field: str) -> Shape:
    if isinstance(task_id, bool) or not isinstance(task_id, (str, int)) or task_id == "":
        raise InputError(where, line, "no task id (task_id, name, problem_id or question_id)")
    if not isinstance(statement, str):
        raise InputError(where, line, "no statement (a string)")
    if not isinstance(cases, list) or not cases:
        raise InputError(where, line, "no input/output pairs", field)
    for index, case in enumerate(cases):
        if not isinstance(case, dict) or not isinstance(case.get("input"), str) \
                or not isinstance(case.get("output"), str):
            raise InputError(where, line, f"case {index}: needs string input and output", field)
    return str(task_id), statement, [{"input": c["input"], "output": c["output"]}
                                     for c in cases]


def _pairs(part: Any, where: str, line: int, field: str) -> list[dict[str, Any]]:
    if not isinstance(part, dict):
        raise InputError(where, line, "expected {input: [...], output: [...]}", field)
    inputs, outputs = part.get("input") or [], part.get("output") or []
    if not isinstance(inputs, list) or not isinstance(outputs, list) or \
            len(inputs) != len(outputs):
        raise InputError(where, line, "inputs and outputs are not two lists of one length",
                         field)
    return [{"input": _text(i), "output": _text(o)} for i, o in zip(inputs, outputs,
                                                                     strict=True)]


def _text(value: Any) -> Any:
    """APPS keeps some inputs/outputs as lists of lines."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "\n".join(value) + "\n"
    return value


def _json(value: Any, where: str, line: int, field: str) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        raise InputError(where, line, "is not valid JSON", field) from None


class _StringsOnly(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refused: {module}.{name}")


def _lcb_cases(value: Any, where: str, line: int, field: str) -> list[dict[str, Any]]:
    if value in (None, "", []):
        return []
    if isinstance(value, str) and not value.lstrip().startswith("["):
        try:  # the release's form: base64(zlib(pickle(json text)))
            raw = zlib.decompress(base64.b64decode(value))
            value = _StringsOnly(io.BytesIO(raw)).load()
        except Exception:  # noqa: BLE001 - any corruption is this row's input error
            raise InputError(where, line, "cannot be decoded (expected JSON, or "
                                          "base64/zlib/pickled JSON text)", field) from None
    cases = _json(value, where, line, field)
    if not isinstance(cases, list) or not all(isinstance(c, dict) for c in cases):
        raise InputError(where, line, "expected a list of test cases", field)
    return cases
