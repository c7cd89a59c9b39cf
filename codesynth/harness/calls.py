"""Python equality assertions as calls: ``assert f(literals) == literal`` -> (args, expected).

This is what the other languages run in the ``assert``/``humaneval`` styles (HumanEval's
``check``, MBPP's ``test_list``, generated tests): the judge parses the Python tests with
``ast`` into :class:`Call` objects; a per-language driver (``harness/drivers``) evaluates
each call's ``f(args)`` in the program's process and writes a canonical JSON form of the
RESULT; the expected values stay in the judge, which compares with :func:`same`.

Accepted assertion shapes (``f`` is the entry point, or ``candidate`` inside ``check``):
``f(a) == v`` (either side), ``f(a)`` (True), ``not f(a)`` (False), ``f(a) is None``
(or ``is True``/``is False``: a bool, by identity), ``abs(f(a) - v) < tol`` (or ``<=``, kept
as written) and ``math.isclose(f(a), v)`` with literal ``rel_tol``/``abs_tol`` (Python's
defaults otherwise); ``v`` is a number in the last two. Arguments and expected values are
literals (``ast.literal_eval``: numbers, strings, bools, None, lists, tuples, dicts).
Anything else is :class:`Untranslatable`, with its line.

The last three decide as Python would on the result's value (:class:`Tolerance`). ``==``
follows MultiPL-E's translated deep equality with Python's numeric tower: tuples are lists
(the languages render them as arrays or tuples), ``True == 1``, an int expected value
equals exactly (as Python's ``==``: ``1000000400.5 == 1000000000`` is False), and a float
expected value compares with ``math.isclose(rel_tol=1e-6, abs_tol=1e-6)`` (HumanEval's own
float checks are ``abs(x - v) < 1e-6``; a C++ ``float`` result is printed from a 32-bit
value). Dict keys match the result's pairs one to one.
"""

from __future__ import annotations

import ast
import json
import math
from dataclasses import dataclass, field
from typing import Any

FLOAT_TOLERANCE = 1e-6
ERROR, MAP, OBJECT = "__error__", "__map__", "__object__"


@dataclass(frozen=True)
class Tolerance:
    """A comparison other than ``==``, with Python's semantics on the result's value:
    ``lt``/``le``: ``abs(got - v) < bound`` / ``<= bound``; ``isclose``: ``math.isclose(got,
    v, rel_tol=rel_tol, abs_tol=bound)``; ``is``: ``got is v`` (``v`` True or False)."""

    kind: str
    bound: float = 0.0
    rel_tol: float = 0.0

    @property
    def numeric(self) -> bool:
        return self.kind != "is"


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
    tolerance: Tolerance | None = None  # abs(...) < tol, math.isclose, is True/False


@dataclass
class Plan:
    calls: list[Call]
    signatures: dict[str, tuple[list[Any], Any]] = field(default_factory=dict)  # typed stubs


_FOLD = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
         ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b,
         ast.FloorDiv: lambda a, b: a // b, ast.Mod: lambda a, b: a % b}


_LARGEST = 1 << 20  # elements (a string: characters) a folded literal may hold in all


def _weight(value: Any) -> int:
    """How many elements (characters, for a string) ``value`` holds, nested ones included."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list | tuple):
        return 1 + sum(_weight(item) for item in value)
    if isinstance(value, dict):
        return 1 + sum(_weight(key) + _weight(item) for key, item in value.items())
    return 1


def _folded(node: ast.expr) -> Any:
    """A literal, or arithmetic on literals (``2.0 / 3.0``, ``3 * 19``, ``'ab' + 'c'``,
    ``[0] * 3``). Whatever would hold more than ``_LARGEST`` elements is refused before it is
    built: tests are read by the runner (outside any job's memory limit) and by the judge."""
    if isinstance(node, ast.BinOp) and type(node.op) in _FOLD:
        left, right = _folded(node.left), _folded(node.right)
        sequence = (str, list, tuple)
        if isinstance(node.op, ast.Mult) and isinstance(left, int) and isinstance(
                right, sequence):
            left, right = right, left  # ``n * [0]`` as ``[0] * n``
        if isinstance(node.op, ast.Mult) and isinstance(left, sequence) and isinstance(
                right, int) and _weight(left) * max(right, 0) > _LARGEST \
                or isinstance(node.op, ast.Add) and isinstance(left, sequence) and \
                _weight(left) + _weight(right) > _LARGEST:
            raise ValueError("too large")
        if isinstance(node.op, ast.Mod) and isinstance(left, str):
            raise ValueError("string formatting is not a literal")  # ``"%0999999999d" % 1``
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


def _number(node: ast.expr, line: int, what: str) -> int | float:
    value = _literal(node, line)
    if type(value) not in (int, float, bool):
        raise Untranslatable(line, f"{what} is not a number: {ast.unparse(node)[:80]}")
    return value  # type: ignore[no-any-return]


_ISCLOSE_KEYWORDS = frozenset({"rel_tol", "abs_tol"})


def _isclose(test: ast.Call, names: set[str], line: int
             ) -> tuple[str, tuple[Any, ...], Any, Tolerance | None] | None:
    """``math.isclose(f(a), v, rel_tol=..., abs_tol=...)`` (either argument order)."""
    if len(test.args) != 2 or any(isinstance(a, ast.Starred) for a in test.args):
        return None
    for one, other in ((test.args[0], test.args[1]), (test.args[1], test.args[0])):
        found = _call(one, names, line)
        if found is None:
            continue
        given = {k.arg: k.value for k in test.keywords}
        if None in given or not set(given) <= _ISCLOSE_KEYWORDS:  # type: ignore[operator]
            raise Untranslatable(line, "math.isclose takes only rel_tol and abs_tol")
        rel = float(_number(given["rel_tol"], line, "rel_tol")) if "rel_tol" in given else 1e-9
        bound = float(_number(given["abs_tol"], line, "abs_tol")) if "abs_tol" in given \
            else 0.0
        if not (rel >= 0 and bound >= 0):  # Python: ValueError, the assertion never holds
            raise Untranslatable(line, "math.isclose's tolerances must be non-negative")
        return (*found, _number(other, line, "the expected value"),
                Tolerance("isclose", bound, rel))
    return None


def _assertion(test: ast.expr, names: set[str], line: int
               ) -> tuple[str, tuple[Any, ...], Any, Tolerance | None]:
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
                    identity = isinstance(op, ast.Is) and expected is not None
                    return (*found, expected, Tolerance("is") if identity else None)
        if isinstance(op, (ast.Lt, ast.LtE)) and isinstance(left, ast.Call) \
                and isinstance(left.func, ast.Name) and left.func.id == "abs" \
                and len(left.args) == 1 and not left.keywords \
                and isinstance(left.args[0], ast.BinOp) and isinstance(left.args[0].op, ast.Sub):
            found = _call(left.args[0].left, names, line)
            if found is not None:
                tolerance = _literal(right, line)
                if isinstance(tolerance, (int, float)) and not isinstance(tolerance, bool):
                    expected = _number(left.args[0].right, line, "the expected value")
                    kind = "lt" if isinstance(op, ast.Lt) else "le"
                    return (*found, expected, Tolerance(kind, tolerance))
    if isinstance(test, ast.Call) and ast.unparse(test.func) in ("math.isclose", "isclose"):
        close = _isclose(test, names, line)
        if close is not None:
            return close
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


_NUMBERS = (int, float, bool)


def same(expected: Any, got: Any, tolerance: Tolerance | float | None = None) -> bool:
    """Deep equality of an expected Python value and a driver's decoded JSON result (or,
    with a :class:`Tolerance`, that comparison; a bare number is ``abs(got - v) <= it``
    throughout a value)."""
    if isinstance(got, dict) and (ERROR in got or OBJECT in got):
        return False
    if isinstance(tolerance, Tolerance):
        return _compared(expected, got, tolerance)
    if tolerance is not None and type(expected) in _NUMBERS and type(got) in _NUMBERS:
        return _compared(expected, got, Tolerance("le", tolerance))
    if expected is None:
        return got is None
    if isinstance(expected, (int, float)):
        if type(got) not in _NUMBERS:
            return False
        if isinstance(expected, int):  # bools too: Python's exact comparison (True == 1.0)
            return bool(got == expected)
        try:
            return math.isclose(float(got), expected, rel_tol=FLOAT_TOLERANCE,
                                abs_tol=FLOAT_TOLERANCE)
        except OverflowError:  # an int result beyond a float's range
            return False
    if isinstance(expected, str):
        return isinstance(got, str) and got == expected
    if isinstance(expected, (list, tuple)):
        return isinstance(got, list) and len(got) == len(expected) and all(
            same(e, g, tolerance) for e, g in zip(expected, got, strict=True))
    if isinstance(expected, dict):
        return _same_dict(expected, got, tolerance)
    return False


def _compared(expected: Any, got: Any, tolerance: Tolerance) -> bool:
    """What Python's ``abs(got - v) < tol``, ``math.isclose`` or ``is`` decides."""
    if tolerance.kind == "is":
        return type(got) is bool and got is expected
    if type(got) not in _NUMBERS or type(expected) not in _NUMBERS:
        return False
    try:
        if tolerance.kind == "isclose":
            return math.isclose(got, expected, rel_tol=tolerance.rel_tol,
                                abs_tol=tolerance.bound)
        distance = abs(got - expected)
        return bool(distance < tolerance.bound if tolerance.kind == "lt"
                    else distance <= tolerance.bound)
    except (OverflowError, ValueError):  # Python raises: the assertion does not hold
        return False


def _same_dict(expected: dict[Any, Any], got: Any, tolerance: float | None) -> bool:
    """Each expected key matches exactly one of the result's pairs, each pair one key (a
    bipartite matching: JavaScript's string keys can match ``1`` and ``"1"`` alike)."""
    if not isinstance(got, dict) or not isinstance(got.get(MAP), list):
        return False
    pairs = [p for p in got[MAP] if isinstance(p, list) and len(p) == 2]
    if len(pairs) != len(got[MAP]) or len(pairs) != len(expected):
        return False
    keyed_by_text = bool(got.get("string_keys"))  # a JavaScript object's keys
    fits = [[j for j, (k, g) in enumerate(pairs)
             if (str(key) == k if keyed_by_text and isinstance(k, str) else same(key, k))
             and same(value, g, tolerance)] for key, value in expected.items()]
    owner: dict[int, int] = {}  # pair -> expected key (Kuhn's augmenting paths)

    def place(i: int, seen: set[int]) -> bool:
        for j in fits[i]:
            if j not in seen:
                seen.add(j)
                if j not in owner or place(owner[j], seen):
                    owner[j] = i
                    return True
        return False

    try:
        return all(place(i, set()) for i in range(len(fits)))
    except RecursionError:  # thousands of ambiguous keys: not shown equal
        return False


def result_line(line: str, count: int) -> tuple[int, Any] | None:
    """One line of a driver's results (``<index>\\t<json>``): the call's index (ASCII
    digits, no leading zero, below ``count``: what the drivers write and what the per-call
    watcher, ``call_limits.ResultLines``, counts) and its result decoded, an
    ``{ERROR: ...}`` when unreadable or nested too deeply; None for any other line. Never
    raises."""
    index, tab, body = line.partition("\t")
    if not tab or not index.isascii() or not index.isdigit() or len(index) > 12 \
            or (index.startswith("0") and index != "0") or int(index) >= count:
        return None
    try:
        return int(index), json.loads(body)
    except (ValueError, RecursionError):
        return int(index), {ERROR: "unreadable result"}


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
    try:
        text = repr(plain(value))
    except (RecursionError, TypeError, ValueError):  # too deep; an unhashable key
        text = "<a result that cannot be shown>"
    return text if len(text) <= limit else text[:limit] + "..."


def _hashable(value: Any) -> Any:
    return tuple(_hashable(v) for v in value) if isinstance(value, list) else value
