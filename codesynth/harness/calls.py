"""Python equality assertions as calls: ``assert f(literals) == literal`` -> (args, expected).

This is what the other languages run in the ``assert``/``humaneval`` styles (HumanEval's
``check``, MBPP's ``test_list``, generated tests): the judge parses the Python tests with
``ast`` into :class:`Call` objects; a per-language driver (``harness/drivers``) evaluates
each call's ``f(args)`` in the program's process and writes a canonical JSON form of the
RESULT; the expected values stay in the judge, which compares with :func:`same`.

Accepted assertion shapes (``f`` is the entry point, or ``candidate`` inside ``check``):
``f(a) == v`` (either side), ``f(a)`` (True), ``not f(a)`` (False), ``f(a) is None``
(or ``is True``/``is False``),
``abs(f(a) - v) < tol`` (``<=`` too) and ``math.isclose(f(a), v)``. Arguments and expected
values are literals (``ast.literal_eval``: numbers, strings, bools, None, lists, tuples,
dicts). Anything else is :class:`Untranslatable`, with its line.

Equality follows MultiPL-E's translated ``==``/deep equality, with Python's numeric tower:
tuples are lists (the languages render them as arrays or tuples), ``True == 1``, ints
compare exactly, and a float on either side compares with ``math.isclose(rel_tol=1e-6,
abs_tol=1e-6)`` (HumanEval's own float checks are ``abs(x - v) < 1e-6``; a C++ ``float``
result is printed from a 32-bit value).
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field
from typing import Any

FLOAT_TOLERANCE = 1e-6
ERROR, MAP, OBJECT = "__error__", "__map__", "__object__"


class Untranslatable(ValueError):
    """A test statement that is not an equality assertion on literals."""

    def __init__(self, line: int | None, why: str) -> None:
        super().__init__(f"line {line}: {why}" if line else why)
        self.line = line


@dataclass(frozen=True)
class Call:
    function: str  # the name the tests call (the entry point for ``candidate``)
    args: tuple[Any, ...]
    expected: Any
    line: int
    source: str
    tolerance: float | None = None  # set by ``abs(f(a) - v) < tol``


@dataclass
class Plan:
    calls: list[Call]
    signatures: dict[str, tuple[list[Any], Any]] = field(default_factory=dict)  # typed stubs


_FOLD = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
         ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b,
         ast.FloorDiv: lambda a, b: a // b, ast.Mod: lambda a, b: a % b}


def _folded(node: ast.expr) -> Any:
    """A literal, or arithmetic on literals (``2.0 / 3.0``, ``3 * 19``, ``'ab' + 'c'``)."""
    if isinstance(node, ast.BinOp) and type(node.op) in _FOLD:
        left, right = _folded(node.left), _folded(node.right)
        if isinstance(left, str) and isinstance(right, int) and len(left) * right > 1 << 20 \
                or isinstance(left, list | tuple | str) and len(left) > 1 << 20:
            raise ValueError("too large")
        return _FOLD[type(node.op)](left, right)
    if isinstance(node, (ast.Tuple, ast.List)):
        items = [_folded(e) for e in node.elts]
        return tuple(items) if isinstance(node, ast.Tuple) else items
    if isinstance(node, ast.Dict) and None not in node.keys:
        return {_folded(k): _folded(v)  # type: ignore[arg-type]
                for k, v in zip(node.keys, node.values, strict=True)}
    return ast.literal_eval(node)


def _literal(node: ast.expr, line: int) -> Any:
    try:
        value = _folded(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError, ArithmeticError,
            KeyError) as exc:
        raise Untranslatable(line, f"not a literal: {ast.unparse(node)[:80]}") from exc
    _check_value(value, line)
    return value


def _check_value(value: Any, line: int) -> None:
    if isinstance(value, (set, frozenset, bytes, complex)):
        raise Untranslatable(line, f"a {type(value).__name__} literal has no translation")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 1 << 63:
        raise Untranslatable(line, "an integer beyond 64 bits")
    if isinstance(value, (list, tuple)):
        for item in value:
            _check_value(item, line)
    if isinstance(value, dict):
        for key, item in value.items():
            _check_value(key, line)
            _check_value(item, line)


def _call(node: ast.expr, names: set[str], line: int) -> tuple[str, tuple[Any, ...]] | None:
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        return None
    if node.func.id not in names and (names or node.func.id in _BUILTINS):
        return None
    if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
        raise Untranslatable(line, "keyword or starred arguments")
    return node.func.id, tuple(_literal(a, line) for a in node.args)


def _assertion(test: ast.expr, names: set[str], line: int
               ) -> tuple[str, tuple[Any, ...], Any, float | None]:
    found = _call(test, names, line)
    if found is not None:
        return (*found, True, None)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        found = _call(test.operand, names, line)
        if found is not None:
            return (*found, False, None)
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        left, op, right = test.left, test.ops[0], test.comparators[0]
        if isinstance(op, (ast.Eq, ast.Is)):
            for one, other in ((left, right), (right, left)):
                found = _call(one, names, line)
                if found is not None:
                    expected = _literal(other, line)
                    if isinstance(op, ast.Is) and not (expected is None or
                                                       isinstance(expected, bool)):
                        break
                    return (*found, expected, None)
        if isinstance(op, (ast.Lt, ast.LtE)) and isinstance(left, ast.Call) \
                and isinstance(left.func, ast.Name) and left.func.id == "abs" \
                and len(left.args) == 1 and isinstance(left.args[0], ast.BinOp) \
                and isinstance(left.args[0].op, ast.Sub):
            found = _call(left.args[0].left, names, line)
            if found is not None:
                tolerance = _literal(right, line)
                if isinstance(tolerance, (int, float)) and not isinstance(tolerance, bool):
                    return (*found, _literal(left.args[0].right, line), float(tolerance))
    if isinstance(test, ast.Call) and ast.unparse(test.func) in ("math.isclose", "isclose") \
            and len(test.args) == 2:
        found = _call(test.args[0], names, line)
        if found is not None:
            return (*found, _literal(test.args[1], line), FLOAT_TOLERANCE)
    raise Untranslatable(line, f"not an equality assertion on a call of "
                               f"{'/'.join(sorted(names)) or 'a function'}: "
                               f"{ast.unparse(test)[:120]}")


_BUILTINS = frozenset(dir(__import__("builtins")))
_SKIP = (ast.Import, ast.ImportFrom, ast.Pass, ast.Expr)


def parse(tests: str, entry_point: str | None, humaneval: bool = False) -> Plan:
    """The calls of ``tests`` (raises :class:`Untranslatable`, or SyntaxError)."""
    tree = ast.parse(tests, "tests.py")
    lines = tests.splitlines()
    plan = Plan([])
    body: list[ast.stmt] = []
    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef) and stmt.name == "check" and humaneval:
            body.extend(stmt.body)
        elif isinstance(stmt, ast.FunctionDef) and _is_stub(stmt):
            plan.signatures[stmt.name] = _signature(stmt)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)) and humaneval:
            continue  # METADATA = {...}
        else:
            body.append(stmt)
    names = set(plan.signatures) | {"candidate"} if humaneval else set(plan.signatures)
    if entry_point:
        names.add(entry_point)  # else: any function the assertions call
    for stmt in body:
        if isinstance(stmt, _SKIP) and not (isinstance(stmt, ast.Expr) and
                                            not isinstance(stmt.value, ast.Constant)):
            continue
        if not isinstance(stmt, ast.Assert):
            raise Untranslatable(stmt.lineno, f"a {type(stmt).__name__} statement is not an "
                                              "equality assertion")
        function, args, expected, tolerance = _assertion(stmt.test, names, stmt.lineno)
        if function == "candidate" and entry_point:
            function = entry_point
        source = "\n".join(lines[stmt.lineno - 1: stmt.end_lineno or stmt.lineno]).strip()
        plan.calls.append(Call(function, args, expected, stmt.lineno, source, tolerance))
    if not plan.calls:
        raise Untranslatable(None, "the tests assert nothing")
    return plan


def _is_stub(stmt: ast.FunctionDef) -> bool:
    """``def f(x: int) -> int: ...``: a typed signature for the translators, not a test."""
    return stmt.name != "check" and all(
        isinstance(s, ast.Pass) or isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)
        for s in stmt.body)


def _signature(stmt: ast.FunctionDef) -> tuple[list[Any], Any]:
    return [annotation(a.annotation) for a in stmt.args.args], annotation(stmt.returns)


def annotation(node: ast.expr | None) -> Any:
    """A Python annotation as a type term: "int", "float", "bool", "str", "none", "any",
    ("list", T), ("tuple", (T, ...)), ("dict", K, V), ("opt", T)."""
    if node is None:
        return "any"
    if isinstance(node, ast.Constant) and node.value is None:
        return "none"
    if isinstance(node, ast.Name):
        return {"int": "int", "float": "float", "bool": "bool", "str": "str",
                "list": ("list", "any"), "List": ("list", "any"), "dict": ("dict", "any", "any"),
                "tuple": ("tuple", ()), "None": "none"}.get(node.id, "any")
    if isinstance(node, ast.Attribute):
        return annotation(ast.Name(node.attr))
    if isinstance(node, ast.Subscript):
        head = ast.unparse(node.value).rsplit(".", 1)[-1]
        inner = node.slice
        items = list(inner.elts) if isinstance(inner, ast.Tuple) else [inner]
        if head in ("List", "list", "Sequence", "Iterable"):
            return ("list", annotation(items[0]))
        if head in ("Tuple", "tuple"):
            return ("tuple", tuple(annotation(i) for i in items if not (
                isinstance(i, ast.Constant) and i.value is Ellipsis)))
        if head in ("Dict", "dict", "Mapping"):
            return ("dict", annotation(items[0]), annotation(items[-1]))
        if head == "Optional":
            return ("opt", annotation(items[0]))
        if head == "Union" and any(isinstance(i, ast.Constant) and i.value is None
                                   for i in items) and len(items) == 2:
            return ("opt", annotation(next(i for i in items if not (
                isinstance(i, ast.Constant) and i.value is None))))
    return "any"


def same(expected: Any, got: Any, tolerance: float | None = None) -> bool:
    """Deep equality of an expected Python value and a driver's decoded JSON result."""
    if isinstance(got, dict) and (ERROR in got or OBJECT in got):
        return False
    if expected is None:
        return got is None
    if isinstance(expected, bool) or isinstance(got, bool):
        return type(got) in (bool, int) and type(expected) in (bool, int) \
            and int(got) == int(expected)
    if isinstance(expected, (int, float)):
        if type(got) not in (int, float):
            return False
        if isinstance(expected, int) and isinstance(got, int) and tolerance is None:
            return expected == got
        tol = FLOAT_TOLERANCE if tolerance is None else tolerance
        if tolerance is not None:
            return abs(float(got) - float(expected)) <= tol
        return math.isclose(float(got), float(expected), rel_tol=tol, abs_tol=tol)
    if isinstance(expected, str):
        return isinstance(got, str) and got == expected
    if isinstance(expected, (list, tuple)):
        return isinstance(got, list) and len(got) == len(expected) and all(
            same(e, g, tolerance) for e, g in zip(expected, got, strict=True))
    if isinstance(expected, dict):
        if not isinstance(got, dict) or not isinstance(got.get(MAP), list):
            return False
        pairs = [p for p in got[MAP] if isinstance(p, list) and len(p) == 2]
        if len(pairs) != len(got[MAP]) or len(pairs) != len(expected):
            return False
        keyed_by_text = bool(got.get("string_keys"))  # a JavaScript object's keys
        for key, value in expected.items():
            match = [g for k, g in pairs if (str(key) == k if keyed_by_text and
                                             isinstance(k, str) else same(key, k))]
            if len(match) != 1 or not same(value, match[0], tolerance):
                return False
        return True
    return False


def shown(value: Any, limit: int = 200) -> str:
    """A result as the failure message shows it (Python spelling)."""
    def plain(v: Any) -> Any:
        if isinstance(v, list):
            return [plain(i) for i in v]
        if isinstance(v, dict) and isinstance(v.get(MAP), list):
            return {_hashable(plain(p[0])): plain(p[1]) for p in v[MAP]
                    if isinstance(p, list) and len(p) == 2}
        if isinstance(v, dict) and OBJECT in v:
            return f"<{str(v[OBJECT])[:80]}>"
        return v
    text = repr(plain(value))
    return text if len(text) <= limit else text[:limit] + "..."


def _hashable(value: Any) -> Any:
    return tuple(_hashable(v) for v in value) if isinstance(value, list) else value
