"""Turning exceptions into trace data, and asserts into asserts that explain themselves."""

from __future__ import annotations

import ast
import linecache
import re
import traceback
from types import TracebackType
from typing import Any

NOTE_HELPER = "__codesynth_explain__"
ASSERTION_ERROR = "__codesynth_AssertionError__"  # the builtin, whatever the program defines
_MAX_REPR = 200
_MAX_TRACEBACK = 8000

_OPS = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
    ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in",
}


def register_source(filename: str, source: str) -> None:
    """Make ``source`` visible to tracebacks under ``filename`` without touching the disk."""
    lines = source.splitlines(keepends=True)
    linecache.cache[filename] = (len(source), None, lines, filename)


def safe_repr(value: Any) -> str:
    try:
        text = repr(value)
    except BaseException as exc:  # noqa: BLE001 - a hostile __repr__ must not break the harness
        text = f"<repr failed: {type(exc).__name__}>"
    return text if len(text) <= _MAX_REPR else text[: _MAX_REPR - 3] + "..."


def explain(exc: BaseException, left: Any, op: str, right: Any) -> BaseException:
    """Attach the operands of a failed assert to ``exc`` as a note (``str(exc)`` is unchanged)."""
    if op:
        exc.add_note(f"assert {safe_repr(left)} {op} {safe_repr(right)}")
    else:
        exc.add_note(f"assert {safe_repr(left)}")
    return exc


def last_line_in(tb: TracebackType | None, filename: str) -> int | None:
    line = None
    for frame, lineno in traceback.walk_tb(tb):
        if frame.f_code.co_filename == filename:
            line = lineno
    return line


def exception_info(exc: BaseException, filename: str | None = None) -> dict[str, Any]:
    """type, message (with notes), traceback text, and the last line in ``filename``."""
    try:
        tb_text = "".join(traceback.format_exception(exc))
    except BaseException:  # noqa: BLE001
        tb_text = ""
    notes = getattr(exc, "__notes__", None) or []
    try:
        message = str(exc)
    except BaseException:  # noqa: BLE001
        message = "<str failed>"
    detail = "\n".join(map(str, notes)) if isinstance(notes, list) else ""
    remote = getattr(exc, "__dict__", {}).get("_remote_traceback")
    if isinstance(remote, str):  # raised in the judged process: its own traceback
        tb_text = f"{tb_text}\nIn the program under test:\n{remote}"
    line: int | None
    # A SyntaxError's fields may come from the program (raised by it, rebuilt in the judge):
    # only a plain int line of a plain str file name is believed, never compared through
    # an object the program controls.
    lineno, where = getattr(exc, "lineno", None), getattr(exc, "filename", None)
    if isinstance(exc, SyntaxError) and type(lineno) is int and 0 < lineno < 1 << 31 \
            and type(where) is str and filename == where:
        line = lineno
    else:
        line = last_line_in(exc.__traceback__, filename) if filename else None
        if line is None and filename and isinstance(remote, str):
            found = re.findall(rf'File "{re.escape(filename)}", line (\d+)', remote)
            line = int(found[-1]) if found else None
    return {
        "type": type(exc).__name__,
        "message": message[:_MAX_TRACEBACK],
        "detail": detail[:_MAX_TRACEBACK],
        "traceback": tb_text[-_MAX_TRACEBACK:],
        "line": line,
    }


def explain_asserts(statements: list[ast.stmt]) -> list[ast.stmt]:
    """Rewrite every ``assert x OP y, msg`` in these statements (and nested blocks) so that a
    failure carries the operands' values as a note.

    Operands are evaluated once, in the original order, and compared once: the program sees
    the same semantics as a plain assert. Chained comparisons keep their plain form, and so
    do the operands of other asserts (their value is shown). Only statement lists are walked,
    because asserts cannot occur anywhere else: this is several times cheaper than a full
    ``NodeTransformer``.
    """
    counter = [0]

    def block(stmts: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for stmt in stmts:
            if isinstance(stmt, ast.Assert):
                counter[0] += 1
                out.extend(_explained(stmt, counter[0]))
                continue
            for name in ("body", "orelse", "finalbody"):
                inner = getattr(stmt, name, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                    setattr(stmt, name, block(inner))
            for handler in getattr(stmt, "handlers", ()) or ():
                handler.body = block(handler.body)
            for case in getattr(stmt, "cases", ()) or ():
                case.body = block(case.body)
            out.append(stmt)
        return out

    return block(statements)


def _explained(node: ast.Assert, index: int) -> list[ast.stmt]:
    where: dict[str, Any] = {"lineno": node.lineno, "col_offset": node.col_offset,
                             "end_lineno": node.end_lineno,
                             "end_col_offset": node.end_col_offset}

    def name(ident: str, store: bool = False) -> ast.Name:
        return ast.Name(id=ident, ctx=ast.Store() if store else ast.Load(), **where)

    left_name, right_name = f"__cs_l{index}", f"__cs_r{index}"
    test = node.test
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and type(test.ops[0]) in _OPS:
        op = _OPS[type(test.ops[0])]
        prelude: list[ast.stmt] = [
            ast.Assign(targets=[name(left_name, True)], value=test.left, **where),
            ast.Assign(targets=[name(right_name, True)], value=test.comparators[0], **where),
        ]
        condition: ast.expr = ast.Compare(left=name(left_name), ops=test.ops,
                                          comparators=[name(right_name)], **where)
        right: ast.expr = name(right_name)
    else:
        op = ""
        prelude = [ast.Assign(targets=[name(left_name, True)], value=test, **where)]
        condition = name(left_name)
        right = ast.Constant(None, **where)
    error = ast.Call(func=name(ASSERTION_ERROR), args=[node.msg] if node.msg else [],
                     keywords=[], **where)
    explained = ast.Call(func=name(NOTE_HELPER),
                         args=[error, name(left_name), ast.Constant(op, **where), right],
                         keywords=[], **where)
    guard = ast.If(test=ast.UnaryOp(op=ast.Not(), operand=condition, **where),
                   body=[ast.Raise(exc=explained, cause=None, **where)], orelse=[], **where)
    return [*prelude, guard]


def compile_explained(tree: ast.Module | ast.stmt, filename: str) -> Any:
    """Compile a module (or one statement) with explaining asserts."""
    body = tree.body if isinstance(tree, ast.Module) else [tree]
    module = ast.Module(body=explain_asserts(body), type_ignores=[])
    return compile(module, filename, "exec", dont_inherit=True)
