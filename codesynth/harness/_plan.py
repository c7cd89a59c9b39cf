"""The calls a test will make, known before it runs: sent to the program in one request.

Each call of the tests to the program is a round trip between the judge and the judged
process. When the first statements of HumanEval's ``check(candidate)`` can only call the
program as ``candidate(<literals>)`` -- one call per statement, nothing else of the
program's reached -- the sequence of those calls is known in advance. The judge then sends
them together (``Session.expect``); the judged process runs them in that order and answers
each as soon as it returns, stopping after the first that raises or returns anything but
plain data (an object of the program: what the tests do with it next is a request of its
own). The tests run as before and take each answer in turn; the verdict is the one they
reach. Semantics kept: the program sees the same calls with the same arguments, in the same
order, each after the previous one returned. The one difference: after an assertion
failed, calls planned after it may have started (the judge does not wait for them: its
verdict is already made).

A statement is *plannable* when it is an ``assert`` (whose message, evaluated only on
failure, neither calls nor names anything) or an expression, built only from literals,
operators (single comparisons: a chained one may stop early), subscripts, the names of a
few builtins (unless the program defines them: checked by the judge) and at most one
call of ``candidate`` with literal arguments. The plan is the plannable prefix of the
body: it stops at the first other statement.
"""

from __future__ import annotations

import ast
from typing import Any

# Builtins a plannable statement may call or name: pure functions of plain data.
SAFE_BUILTINS = frozenset({
    "abs", "round", "len", "sorted", "list", "tuple", "set", "frozenset", "dict", "sum",
    "min", "max", "int", "float", "str", "bool", "all", "any", "repr", "type",
    "isinstance"})
_OPERATORS = (ast.BinOp, ast.UnaryOp, ast.operator, ast.unaryop, ast.cmpop, ast.Load,
              ast.Constant, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.Subscript,
              ast.Slice, ast.keyword)
MAX_PLANNED = 200  # calls in one plan

# (callee, positional arguments, keyword arguments, builtin names the statement uses)
Entry = tuple[str, tuple[Any, ...], dict[str, Any], tuple[str, ...]]


def humaneval_plan(tree: ast.Module) -> tuple[str, tuple[Entry, ...]] | None:
    """(the parameter name of ``check``, the planned calls), or None."""
    checks = [s for s in tree.body if isinstance(s, ast.FunctionDef) and s.name == "check"]
    if len(checks) != 1 or _rebinds(tree, "check"):
        return None
    check = checks[0]
    arguments = check.args
    if check.decorator_list or len(arguments.args) != 1 or arguments.posonlyargs or \
            arguments.vararg or arguments.kwonlyargs or arguments.kwarg:
        return None
    param = arguments.args[0].arg
    entries: list[Entry] = []
    for index, stmt in enumerate(check.body):
        if index == 0 and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue  # a docstring
        entry = _statement(stmt, param)
        if entry is False or len(entries) >= MAX_PLANNED:
            break
        if isinstance(entry, tuple):
            entries.append(entry)
    return (param, tuple(entries)) if entries else None


def _rebinds(tree: ast.Module, name: str) -> bool:
    """Whether anything but one ``def`` binds ``name`` at module level (or anywhere)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == name and not isinstance(node.ctx,
                                                                             ast.Load):
            return True
        if isinstance(node, (ast.Global, ast.Nonlocal)) and name in node.names:
            return True
        if isinstance(node, ast.alias) and (node.asname or node.name) == name:
            return True
        if isinstance(node, (ast.ClassDef, ast.AsyncFunctionDef)) and node.name == name:
            return True
    return False


def _statement(stmt: ast.stmt, param: str) -> Entry | None | bool:
    """The one call a plannable statement makes (None: it makes none); False: the
    statement is not plannable."""
    if isinstance(stmt, ast.Pass):
        return None
    if isinstance(stmt, ast.Assert):
        if stmt.msg is not None and not _inert(stmt.msg):
            return False
        expression = stmt.test
    elif isinstance(stmt, ast.Expr):
        expression = stmt.value
    else:
        return False
    calls: list[Entry] = []
    names: set[str] = set()
    mentions = 0  # of ``param``: each must be the callee of a call (no bool(candidate) ...)
    for node in ast.walk(expression):
        if isinstance(node, ast.Compare):
            if len(node.ops) != 1:
                return False
        elif isinstance(node, ast.Name):
            if node.id != param and node.id not in SAFE_BUILTINS:
                return False
            if node.id == param:
                mentions += 1
            else:
                names.add(node.id)
        elif isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name):
                return False
            if node.func.id == param:
                call = _literal_call(node)
                if call is None:
                    return False
                calls.append((param, call[0], call[1], ()))
        elif not isinstance(node, _OPERATORS):
            return False
    if len(calls) > 1 or mentions != len(calls):
        return False
    if not calls:
        return None
    callee, args, kwargs, _ = calls[0]
    return callee, args, kwargs, tuple(sorted(names))


def _inert(node: ast.expr) -> bool:
    """An assert message that reaches nothing: literals, and f-strings of literals."""
    return all(isinstance(n, (ast.Constant, ast.JoinedStr, ast.FormattedValue, ast.Load))
               for n in ast.walk(node))


def _literal_call(node: ast.Call) -> tuple[tuple[Any, ...], dict[str, Any]] | None:
    try:
        args = tuple(ast.literal_eval(a) for a in node.args if not isinstance(a, ast.Starred))
        if len(args) != len(node.args):
            return None
        kwargs = {}
        for keyword in node.keywords:
            if keyword.arg is None:
                return None
            kwargs[keyword.arg] = ast.literal_eval(keyword.value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    return args, kwargs
