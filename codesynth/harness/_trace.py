"""Turning exceptions into trace data, and asserts into asserts that explain themselves."""

from __future__ import annotations

import ast
import linecache
import traceback
from types import TracebackType
from typing import Any

NOTE_HELPER = "__codesynth_explain__"
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
    if isinstance(exc, SyntaxError) and exc.lineno is not None and filename == exc.filename:
        line = exc.lineno
    else:
        line = last_line_in(exc.__traceback__, filename) if filename else None
    return {
        "type": type(exc).__name__,
        "message": message[:_MAX_TRACEBACK],
        "detail": detail[:_MAX_TRACEBACK],
        "traceback": tb_text[-_MAX_TRACEBACK:],
        "line": line,
    }


class ExplainAsserts(ast.NodeTransformer):
    """Rewrite ``assert x OP y, msg`` so a failure carries the operands' values as a note.

    Operands are evaluated once, in the original order, and compared once: the program sees
    the same semantics as a plain assert. Chained comparisons are left alone.
    """

    def __init__(self) -> None:
        self._counter = 0

    def visit_Assert(self, node: ast.Assert) -> Any:
        self._counter += 1
        left_name, right_name = f"__cs_l{self._counter}", f"__cs_r{self._counter}"
        test = node.test
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and type(test.ops[0]) in _OPS:
            op = _OPS[type(test.ops[0])]
            prelude = [
                _assign(left_name, test.left),
                _assign(right_name, test.comparators[0]),
            ]
            condition: ast.expr = ast.Compare(
                left=_load(left_name), ops=test.ops, comparators=[_load(right_name)])
            right: ast.expr = _load(right_name)
        else:
            op = ""
            prelude = [_assign(left_name, test)]
            condition = _load(left_name)
            right = ast.Constant(None)
        exc_args = [node.msg] if node.msg is not None else []
        error = ast.Call(func=_load("AssertionError"), args=exc_args, keywords=[])
        explained = ast.Call(
            func=_load(NOTE_HELPER),
            args=[error, _load(left_name), ast.Constant(op), right], keywords=[])
        raise_stmt = ast.Raise(exc=explained, cause=None)
        guard = ast.If(test=ast.UnaryOp(op=ast.Not(), operand=condition), body=[raise_stmt],
                       orelse=[])
        result = [*prelude, guard]
        for new_node in (*prelude, guard, raise_stmt, explained, error, guard.test, condition,
                         *prelude[0].targets, *(p.targets[0] for p in prelude[1:])):
            _locate(new_node, node)
        for arg in explained.args[1:]:
            _locate(arg, node)
        if isinstance(condition, ast.Compare):
            for name in (condition.left, *condition.comparators):
                _locate(name, node)
        _locate(error.func, node)
        _locate(explained.func, node)
        return result


def _locate(new: ast.AST, old: ast.AST) -> None:
    if "lineno" in new._attributes and getattr(new, "lineno", None) is None:
        ast.copy_location(new, old)


def _assign(name: str, value: ast.expr) -> ast.Assign:
    return ast.Assign(targets=[ast.Name(id=name, ctx=ast.Store())], value=value)


def _load(name: str) -> ast.Name:
    return ast.Name(id=name, ctx=ast.Load())


def compile_explained(tree: ast.Module | ast.stmt, filename: str) -> Any:
    """Compile a module (or one statement) with explaining asserts."""
    module = tree if isinstance(tree, ast.Module) else ast.Module(body=[tree], type_ignores=[])
    rewritten = ExplainAsserts().visit(module)
    return compile(rewritten, filename, "exec", dont_inherit=True)
