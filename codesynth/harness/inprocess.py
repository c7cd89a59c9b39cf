"""The ``assert`` and ``humaneval`` styles, run by the judge.

The program runs in the judged process; the tests run here, in the judge, where the
program's top-level names are proxies (see ``remote``): calling one calls the program across
the process boundary. Every ``BaseException`` a test raises -- ``SystemExit`` and
``KeyboardInterrupt`` included -- is a failure of that test, never an exit of the judge.
"""

from __future__ import annotations

import ast
import builtins
import functools
import time
from types import CodeType
from typing import Any

from codesynth.harness._trace import (
    ASSERTION_ERROR,
    NOTE_HELPER,
    compile_explained,
    exception_info,
    explain,
    register_source,
)
from codesynth.harness.evidence import Evidence
from codesynth.harness.remote import ProgramGone, ProtocolBroken, Session

SOLUTION_FILE = "solution.py"
TESTS_FILE = "tests.py"

# Top-level statements that only prepare the tests; everything else is a test item.
_SETUP = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
          ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Pass, ast.Global, ast.Nonlocal)


def load_solution(code: str, evidence: Evidence, session: Session
                  ) -> dict[str, Any] | None:
    """Have the judged process run the program as module ``solution``; its top-level names
    as the tests see them, or None (and a ``final`` error) if it fails."""
    evidence.phase("code")
    try:
        names = session.load(code)
    except ProgramGone:
        raise
    except ProtocolBroken:
        evidence.final("error", phase="code", reason=str(session.broken))
        return None
    except BaseException as exc:  # noqa: BLE001 - any failure here is the program's
        status = "memory" if isinstance(exc, MemoryError) else "error"
        evidence.final(status, phase="code", exception=exception_info(exc, SOLUTION_FILE),
                       reason=f"the program raised {type(exc).__name__} before the tests ran")
        return None
    # The tests run as a script would (``if __name__ == "__main__":`` blocks included).
    namespace = {**names, "__builtins__": builtins, "__name__": "__main__"}
    namespace[NOTE_HELPER] = explain
    namespace[ASSERTION_ERROR] = AssertionError
    shadowed = sorted(n for n in names if hasattr(builtins, n) and names[n] is not
                      getattr(builtins, n))
    if shadowed:  # legal, and the tests' own calls of these go to the program
        session.note(f"the program defines {', '.join(shadowed)[:300]}, shadowing the "
                     "builtins the tests see", False)
    return namespace


def report_unparsable_tests(tests: str, evidence: Evidence) -> None:
    """The tests did not compile in ``prepare_*``: parse again to report why."""
    register_source(TESTS_FILE, tests)
    try:
        ast.parse(tests, TESTS_FILE)
        compile(tests, TESTS_FILE, "exec", dont_inherit=True)  # ``return`` outside a function
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
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
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # too deep, too large
        return None
    lines = tests.splitlines()
    items = []
    try:  # parsing is not compiling: a top-level ``return`` or ``yield`` fails only here
        for stmt in tree.body:
            source = "\n".join(lines[stmt.lineno - 1: stmt.end_lineno or stmt.lineno])
            items.append((not isinstance(stmt, _SETUP), stmt.lineno, source,
                          compile_explained(stmt, TESTS_FILE)))
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # too deep, too large
        return None
    return tuple(items)


def prepare_humaneval(tests: str, tree: ast.Module | None = None) -> CodeType | None:
    """The tests compiled (``tree``: ``tests`` parsed already)."""
    try:
        return compile_explained(tree or ast.parse(tests, TESTS_FILE), TESTS_FILE)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # too deep, too large
        return None


# Tests the runner compiled for this job (see ``judge.read_content``), by (style, text),
# and the calls they will make when known in advance (``_plan``).
COMPILED: dict[tuple[str, str], Any] = {}
PLANS: dict[tuple[str, str], Any] = {}


def _ready(job: dict[str, Any], prepare_tests: Any) -> Any:
    key = (job["test_style"], job["tests"])
    tests = COMPILED[key] if key in COMPILED else prepare_tests(job["tests"])
    if tests is not None:
        register_source(TESTS_FILE, job["tests"])
    register_source(SOLUTION_FILE, job["code"])
    return tests


def run_assert(job: dict[str, Any], evidence: Evidence, session: Session) -> None:
    items = _ready(job, prepare_assert)
    if items is None:
        report_unparsable_tests(job["tests"], evidence)
        return
    namespace = load_solution(job["code"], evidence, session)
    if namespace is None:
        return
    evidence.phase("tests")
    first_failure: dict[str, Any] | None = None
    count = 0
    for is_test, lineno, source, code in items:
        name = f"{TESTS_FILE}:{lineno}"
        session.test = name
        exc, duration = _run_item(code, namespace)
        if isinstance(exc, ProgramGone):
            return  # no verdict from the judge: the runner tells how the program ended
        if not is_test and exc is None:
            continue
        count += 1
        if exc is None:
            evidence.test(name=name, outcome="passed", line=lineno, source=source,
                          duration=duration)
            continue
        fields, info = _outcome_fields(exc)
        fields["line"] = fields["line"] or lineno
        evidence.test(name=name, source=source, duration=duration, **fields)
        if first_failure is None:
            first_failure = info | {"line": fields["line"]}
    _finish(evidence, count, first_failure, session)


def run_humaneval(job: dict[str, Any], evidence: Evidence, session: Session) -> None:
    tests_code = _ready(job, prepare_humaneval)
    if tests_code is None:
        report_unparsable_tests(job["tests"], evidence)
        return
    namespace = load_solution(job["code"], evidence, session)
    if namespace is None:
        return
    entry_point = job.get("entry_point") or ""
    evidence.phase("tests")
    session.test = "check"
    exc, _ = _run_item(tests_code, namespace)
    if isinstance(exc, ProgramGone):
        return
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
        _finish(evidence, 1, info, session)
        return
    plan = PLANS.get((job["test_style"], job["tests"]))
    if plan:  # the calls check() will make, sent to the program in one request
        param, entries = plan
        session.expect({param: candidate}, entries, namespace)
    start = time.perf_counter()
    try:
        check(candidate)
    except ProgramGone:
        return
    except BaseException as failure:  # noqa: BLE001
        fields, info = _outcome_fields(failure)
        evidence.test(name="check", duration=time.perf_counter() - start, **fields)
        _finish(evidence, 1, info, session)
        return
    evidence.test(name="check", outcome="passed", duration=time.perf_counter() - start)
    _finish(evidence, 1, None, session)


def report_suspicious(evidence: Evidence, session: Session) -> None:
    for entry in session.suspicious:
        evidence.emit("suspicious", test=entry["test"], what=entry["what"])


def _finish(evidence: Evidence, count: int, first_failure: dict[str, Any] | None,
            session: Session) -> None:
    report_suspicious(evidence, session)
    if session.broken is not None:
        evidence.final("failed", phase="tests", reason=session.broken)
    elif count == 0:
        evidence.final("error", phase="tests", reason="the tests contain no test statement")
    elif first_failure is not None:
        status = "memory" if first_failure["type"] == "MemoryError" else "failed"
        where = f" at line {first_failure['line']}" if first_failure.get("line") else ""
        evidence.final(status, phase="tests", exception=first_failure,
                       reason=f"{first_failure['type']}{where}")
    else:
        evidence.final("passed", phase="tests", reason=f"{count} test(s) passed")
