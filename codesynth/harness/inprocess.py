"""Test styles that run the tests in the program's own interpreter: ``assert`` and ``humaneval``.

The program is loaded as module ``solution`` (so ``if __name__ == "__main__"`` blocks stay
quiet, as in the official harness), then the tests run in its namespace. Every
``BaseException`` a test raises -- ``SystemExit`` and ``KeyboardInterrupt`` included -- is a
failure of that test, never an exit of the harness.
"""

from __future__ import annotations

import ast
import builtins
import functools
import sys
import time
import types
import warnings
from types import CodeType
from typing import Any

from codesynth.harness._trace import (
    NOTE_HELPER,
    compile_explained,
    exception_info,
    explain,
    register_source,
)
from codesynth.harness.evidence import Evidence

SOLUTION_FILE = "solution.py"
TESTS_FILE = "tests.py"

# Top-level statements that only prepare the tests; everything else is a test item.
_SETUP = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
          ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Pass, ast.Global, ast.Nonlocal)


# Programs up to this size are compiled by the runner before it forks (see ``precompile``).
PRECOMPILE_CHARS = 64 * 1024


def precompile(code: str) -> CodeType | None:
    """The program compiled as the job would compile it, or None: then the job compiles it
    itself and reports what went wrong (or prints the warnings compiling it gives)."""
    if len(code) > PRECOMPILE_CHARS:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            return compile(code, SOLUTION_FILE, "exec", dont_inherit=True)
        except Exception:  # noqa: BLE001 - SyntaxError, a warning, RecursionError, ...
            return None


def load_solution(code: str, evidence: Evidence, compiled: CodeType | None = None
                  ) -> dict[str, Any] | None:
    """Run the program as module ``solution``; None (and a ``final`` error) if it fails."""
    evidence.phase("code")
    if compiled is None:
        register_source(SOLUTION_FILE, code)
    module = types.ModuleType("solution")
    module.__file__ = SOLUTION_FILE
    namespace = module.__dict__
    namespace["__builtins__"] = builtins
    namespace[NOTE_HELPER] = explain
    sys.modules["solution"] = module
    try:
        if compiled is None:
            compiled = compile(code, SOLUTION_FILE, "exec", dont_inherit=True)
        exec(compiled, namespace)
    except BaseException as exc:  # noqa: BLE001 - any failure here is the program's
        status = "memory" if isinstance(exc, MemoryError) else "error"
        evidence.final(status, phase="code", exception=exception_info(exc, SOLUTION_FILE),
                       reason=f"the program raised {type(exc).__name__} before the tests ran")
        return None
    return namespace


def report_unparsable_tests(tests: str, evidence: Evidence) -> None:
    """The tests did not compile in ``prepare_*``: parse again to report why."""
    register_source(TESTS_FILE, tests)
    try:
        ast.parse(tests, TESTS_FILE)
        compile(tests, TESTS_FILE, "exec", dont_inherit=True)  # ``return`` outside a function
    except (SyntaxError, ValueError) as exc:
        evidence.final("error", phase="tests", exception=exception_info(exc, TESTS_FILE),
                       reason="the tests do not parse")
        return
    evidence.final("error", phase="tests", reason="the tests do not compile")


def _run_item(code: Any, namespace: dict[str, Any]) -> tuple[BaseException | None, float]:
    start = time.perf_counter()
    try:
        exec(code, namespace)
    except BaseException as exc:  # noqa: BLE001
        return exc, time.perf_counter() - start
    return None, time.perf_counter() - start


def _outcome_fields(exc: BaseException) -> tuple[dict[str, Any], dict[str, Any]]:
    info = exception_info(exc, TESTS_FILE)
    message = f"{info['type']}: {info['message']}".strip()
    if info["detail"]:
        message = f"{message}\n{info['detail']}" if info["message"] else \
            f"{message} {info['detail']}"
    return {"outcome": "failed", "message": message, "line": info["line"]}, info


@functools.lru_cache(maxsize=256)
def prepare_assert(tests: str) -> tuple[tuple[bool, int, str, CodeType], ...] | None:
    """Compile each top-level test statement once (the runner calls this before forking)."""
    try:
        tree = ast.parse(tests, TESTS_FILE)
    except (SyntaxError, ValueError):
        return None
    lines = tests.splitlines()
    items = []
    try:  # parsing is not compiling: a top-level ``return`` or ``yield`` fails only here
        for stmt in tree.body:
            source = "\n".join(lines[stmt.lineno - 1: stmt.end_lineno or stmt.lineno])
            items.append((not isinstance(stmt, _SETUP), stmt.lineno, source,
                          compile_explained(stmt, TESTS_FILE)))
    except (SyntaxError, ValueError):
        return None
    return tuple(items)


@functools.lru_cache(maxsize=256)
def prepare_humaneval(tests: str) -> CodeType | None:
    try:
        return compile_explained(ast.parse(tests, TESTS_FILE), TESTS_FILE)
    except (SyntaxError, ValueError):
        return None


def prepare_job(job: dict[str, Any]) -> None:
    """In the runner, before the fork: compile the tests (cached) and the program, and
    register their sources for tracebacks. The job finds them under ``_ready``."""
    prepare_tests = prepare_assert if job["test_style"] == "assert" else prepare_humaneval
    tests = prepare_tests(job["tests"])
    if tests is None:
        return  # the job reports why
    compiled = precompile(job["code"]) if isinstance(job.get("code"), str) else None
    register_source(TESTS_FILE, job["tests"])
    if compiled is not None:
        register_source(SOLUTION_FILE, job["code"])
    job["_ready"] = (tests, compiled)


def _ready(job: dict[str, Any], prepare_tests: Any) -> tuple[Any, CodeType | None]:
    if "_ready" in job:
        return job["_ready"]  # type: ignore[no-any-return]
    tests = prepare_tests(job["tests"])
    if tests is not None:
        register_source(TESTS_FILE, job["tests"])
    return tests, None


def run_assert(job: dict[str, Any], evidence: Evidence) -> None:
    items, compiled = _ready(job, prepare_assert)
    if items is None:
        report_unparsable_tests(job["tests"], evidence)
        return
    namespace = load_solution(job["code"], evidence, compiled)
    if namespace is None:
        return
    evidence.phase("tests")
    first_failure: dict[str, Any] | None = None
    count = 0
    for is_test, lineno, source, code in items:
        exc, duration = _run_item(code, namespace)
        if not is_test and exc is None:
            continue
        count += 1
        name = f"{TESTS_FILE}:{lineno}"
        if exc is None:
            evidence.test(name=name, outcome="passed", line=lineno, source=source,
                          duration=duration)
            continue
        fields, info = _outcome_fields(exc)
        fields["line"] = fields["line"] or lineno
        evidence.test(name=name, source=source, duration=duration, **fields)
        if first_failure is None:
            first_failure = info | {"line": fields["line"]}
    _finish(evidence, count, first_failure)


def run_humaneval(job: dict[str, Any], evidence: Evidence) -> None:
    tests_code, compiled = _ready(job, prepare_humaneval)
    if tests_code is None:
        report_unparsable_tests(job["tests"], evidence)
        return
    namespace = load_solution(job["code"], evidence, compiled)
    if namespace is None:
        return
    entry_point = job.get("entry_point") or ""
    evidence.phase("tests")
    exc, _ = _run_item(tests_code, namespace)
    if exc is not None:
        evidence.final("error", phase="tests", exception=exception_info(exc, TESTS_FILE),
                       reason=f"the tests raised {type(exc).__name__} while loading")
        return
    check = namespace.get("check")
    candidate = namespace.get(entry_point)
    if not callable(check):
        evidence.final("error", phase="tests", reason="the tests define no check(candidate)")
        return
    if candidate is None:
        info = {"type": "NameError", "message": f"name '{entry_point}' is not defined",
                "traceback": "", "line": None}
        evidence.test(name="check", outcome="failed", message=f"NameError: {info['message']}")
        _finish(evidence, 1, info)
        return
    start = time.perf_counter()
    try:
        check(candidate)
    except BaseException as failure:  # noqa: BLE001
        fields, info = _outcome_fields(failure)
        evidence.test(name="check", duration=time.perf_counter() - start, **fields)
        _finish(evidence, 1, info)
        return
    evidence.test(name="check", outcome="passed", duration=time.perf_counter() - start)
    _finish(evidence, 1, None)


def _finish(evidence: Evidence, count: int, first_failure: dict[str, Any] | None) -> None:
    if count == 0:
        evidence.final("error", phase="tests", reason="the tests contain no test statement")
    elif first_failure is not None:
        status = "memory" if first_failure["type"] == "MemoryError" else "failed"
        where = f" at line {first_failure['line']}" if first_failure.get("line") else ""
        evidence.final(status, phase="tests", exception=first_failure,
                       reason=f"{first_failure['type']}{where}")
    else:
        evidence.final("passed", phase="tests", reason=f"{count} test(s) passed")
