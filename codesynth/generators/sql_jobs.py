"""SQL queries as sandbox jobs: a Python program loads the database's dump into an in-memory
SQLite and runs the query; the reference's job prints its rows, a candidate's job asserts
that its rows equal the reference's (the harness's verdict is the evidence)."""

from __future__ import annotations

import json
from typing import Any

from codesynth.records import Execution, Job

MARKER = "CODESYNTH-ROWS "
PROGRAM = """import json as _cs_json, sqlite3 as _cs_sqlite3
_cs_db = _cs_sqlite3.connect(":memory:")
_cs_db.executescript({dump!r})
_cs_cursor = _cs_db.execute({sql!r})
COLUMNS = [d[0] for d in _cs_cursor.description or ()]
ROWS = _cs_cursor.fetchmany({limit} + 1)


def _cs_cell(value):
    if isinstance(value, bytes):
        return {{"hex": value.hex()}}
    if isinstance(value, float):
        value = round(value, 6)
        return int(value) if value.is_integer() else value
    return value


def _cs_rows(ordered):
    rows = [[_cs_cell(v) for v in row] for row in ROWS]
    return rows if ordered else sorted(rows, key=lambda r: _cs_json.dumps(r, sort_keys=True))
"""
PRINT = "print({marker!r} + _cs_json.dumps({{'columns': COLUMNS, 'rows': _cs_rows(True), " \
        "'truncated': len(ROWS) > {limit}}}))\n"
ASSERT = "_cs_expected = _cs_json.loads({expected!r})\n" \
         "assert len(ROWS) <= {limit}, 'more rows than the reference may have'\n" \
         "assert len(COLUMNS) == {columns}, 'another number of columns'\n" \
         "assert _cs_rows({ordered}) == _cs_expected\n"


def query_job(job_id: str, dump: str, sql: str, limit: int,
              expected: dict[str, Any] | None = None, ordered: bool = False) -> Job:
    """The query's job: it prints its rows (``expected`` None) or asserts that they are
    ``expected``'s (sorted both, unless ``ordered``)."""
    code = PROGRAM.format(dump=dump, sql=sql, limit=limit)
    if expected is None:
        tests = PRINT.format(marker=MARKER, limit=limit)
    else:
        rows = expected["rows"] if ordered else sorted(
            expected["rows"], key=lambda r: json.dumps(r, sort_keys=True))
        tests = ASSERT.format(expected=json.dumps(rows), limit=limit, ordered=ordered,
                              columns=len(expected["columns"]))
    return Job(id=job_id, code=code, tests=tests)


def reference_result(execution: Execution, limit: int
                     ) -> tuple[dict[str, Any] | None, str | None]:
    """The reference's rows, or why there are none to compare with."""
    if not execution.passed:
        return None, "reference_error"
    lines = [ln for ln in execution.stdout.splitlines() if ln.startswith(MARKER)]
    if execution.stdout_truncated or not lines:
        return None, "result_too_large" if execution.stdout_truncated else "reference_error"
    try:
        result = json.loads(lines[-1][len(MARKER):])
    except ValueError:
        return None, "reference_error"
    if result.get("truncated") or len(result.get("rows", ())) > limit:
        return None, "result_too_large"
    if not result.get("rows"):
        return None, "empty_result"  # any query that finds nothing would agree
    return {"columns": result["columns"], "rows": result["rows"]}, None


def outcome(execution: Execution) -> tuple[str | None, dict[str, Any]]:
    """Kept (None), or why not: the query failed to run, or its rows differ."""
    if execution.passed:
        return None, {}
    failed = next((t for t in execution.tests if t.outcome != "passed"), None)
    if execution.status.value == "error" or failed is None:
        exception = execution.exception
        message = f"{exception.type}: {exception.message}" if exception else execution.reason
        return "sql_error", {"error": message[:300]}
    return "result_differs", {"check": failed.source, "message": (failed.message or "")[:300]}
