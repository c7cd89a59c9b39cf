"""Rules of the expression-level operators: each yields the sites one node offers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import libcst as cst

from codesynth.bugs._edits import (
    int_node,
    int_value,
    is_sequence_literal,
    is_text,
    parenthesize,
    shift,
)
from codesynth.bugs._sites import Collector, Site, snippet

_Op = Callable[..., cst.CSTNode]

_COMPARE: dict[type, _Op] = {
    cst.LessThan: cst.LessThanEqual,
    cst.LessThanEqual: cst.LessThan,
    cst.GreaterThan: cst.GreaterThanEqual,
    cst.GreaterThanEqual: cst.GreaterThan,
    cst.Equal: cst.NotEqual,
    cst.NotEqual: cst.Equal,
    cst.In: cst.NotIn,
    cst.NotIn: cst.In,
    cst.Is: cst.IsNot,
    cst.IsNot: cst.Is,
}
_ARITHMETIC: dict[type, _Op] = {
    cst.Add: cst.Subtract,
    cst.Subtract: cst.Add,
    cst.Multiply: cst.Add,
    cst.Divide: cst.Multiply,
    cst.FloorDivide: cst.Divide,
    cst.Modulo: cst.FloorDivide,
    cst.Power: cst.Multiply,
}
_AUGMENTED: dict[type, _Op] = {
    cst.AddAssign: cst.SubtractAssign,
    cst.SubtractAssign: cst.AddAssign,
    cst.MultiplyAssign: cst.AddAssign,
    cst.DivideAssign: cst.MultiplyAssign,
    cst.FloorDivideAssign: cst.DivideAssign,
    cst.ModuloAssign: cst.FloorDivideAssign,
    cst.PowerAssign: cst.MultiplyAssign,
}
_BOOLEAN: dict[type, _Op] = {cst.And: cst.Or, cst.Or: cst.And}
_TYPE_NAMES = frozenset(
    {"int", "str", "float", "bool", "bytes", "list", "dict", "set", "tuple", "object", "type"}
)


def _swapped(op: cst.CSTNode, table: dict[type, _Op]) -> cst.CSTNode | None:
    """The operator `op` maps to in `table`, with `op`'s surrounding whitespace."""
    make = table.get(type(op))
    if make is None:
        return None
    spaced: Any = op  # every operator node has whitespace on both sides
    return make(
        whitespace_before=spaced.whitespace_before, whitespace_after=spaced.whitespace_after
    )


def _change(old: cst.CSTNode, new: cst.CSTNode) -> str:
    return f"`{snippet(old)}` -> `{snippet(new)}`"


def comparison_swap(node: cst.CSTNode, c: Collector) -> Iterator[Site]:
    if not isinstance(node, cst.Comparison):
        return
    for i, target in enumerate(node.comparisons):
        new_op = _swapped(target.operator, _COMPARE)
        if new_op is None:
            continue
        changed = list(node.comparisons)
        changed[i] = target.with_changes(operator=new_op)
        replacement = node.with_changes(comparisons=changed)
        yield c.site(node, replacement, target.operator, _change(target.operator, new_op))


def _sequence_like(expr: cst.BaseExpression) -> bool:
    """A string or list literal, or a `+` chain holding one (`a + "." + b`)."""
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
        return _sequence_like(expr.left) or _sequence_like(expr.right)
    return is_sequence_literal(expr)


def arithmetic_swap(node: cst.CSTNode, c: Collector) -> Iterator[Site]:
    if isinstance(node, cst.BinaryOperation):
        if isinstance(node.operator, cst.Add | cst.Multiply) and (
            _sequence_like(node.left) or _sequence_like(node.right)
        ):
            return  # concatenation or repetition, not arithmetic
        if isinstance(node.operator, cst.Modulo) and is_text(node.left):
            return  # %-formatting
        new_op = _swapped(node.operator, _ARITHMETIC)
        if new_op is not None:
            replacement = node.with_changes(operator=new_op)
            yield c.site(node, replacement, node.operator, _change(node.operator, new_op))
    elif isinstance(node, cst.AugAssign):
        if isinstance(node.operator, cst.AddAssign | cst.MultiplyAssign) and _sequence_like(
            node.value
        ):
            return
        new_op = _swapped(node.operator, _AUGMENTED)
        if new_op is not None:
            augmented = node.with_changes(operator=new_op)
            yield c.site(node, augmented, node.operator, _change(node.operator, new_op))


def boolean_swap(node: cst.CSTNode, c: Collector) -> Iterator[Site]:
    if isinstance(node, cst.BooleanOperation):
        new_op = _swapped(node.operator, _BOOLEAN)
        if new_op is not None:
            replacement = node.with_changes(operator=new_op)
            yield c.site(node, replacement, node.operator, _change(node.operator, new_op))


def _negated(test: cst.BaseExpression) -> cst.BaseExpression:
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        inner = test.expression
        if test.lpar and not inner.lpar:
            inner = inner.with_changes(lpar=test.lpar, rpar=test.rpar)
        return inner
    atom = test.lpar or isinstance(test, cst.Name | cst.Attribute | cst.Call | cst.Subscript)
    return cst.UnaryOperation(operator=cst.Not(), expression=test if atom else parenthesize(test))


def negate_condition(node: cst.CSTNode, c: Collector) -> Iterator[Site]:
    if isinstance(node, cst.If):
        parent = c.parent(node)
        keyword = "elif" if isinstance(parent, cst.If) and parent.orelse is node else "if"
        space_field = "whitespace_before_test"
    elif isinstance(node, cst.While):
        keyword, space_field = "while", "whitespace_after_while"
    elif isinstance(node, cst.IfExp):
        keyword, space_field = "ternary", "whitespace_after_if"
    else:
        return
    test = node.test
    new_test = _negated(test)
    changes: dict[str, object] = {"test": new_test}
    space = getattr(node, space_field)
    if isinstance(space, cst.SimpleWhitespace) and not space.value:
        changes[space_field] = cst.SimpleWhitespace(" ")
    what = f"`{keyword}` condition {_change(test, new_test)}"
    yield c.site(node, node.with_changes(**changes), test, what)


def _off_by_one(value: cst.BaseExpression, label: str) -> Iterator[tuple[cst.BaseExpression, str]]:
    for delta in (1, -1):
        new = shift(value, delta)
        yield new, f"{label} {_change(value, new)}"


def off_by_one_range(node: cst.CSTNode, c: Collector) -> Iterator[Site]:
    if not (isinstance(node, cst.Call) and isinstance(node.func, cst.Name)):
        return
    args = node.args
    if node.func.value != "range" or not 1 <= len(args) <= 3:
        return
    if any(arg.keyword is not None or arg.star for arg in args):
        return
    stop = args[0] if len(args) == 1 else args[1]
    for new, what in _off_by_one(stop.value, "`range` stop"):
        yield c.site(stop, stop.with_changes(value=new), stop.value, what)


def _is_type_like(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, cst.Name):
        return expr.value in _TYPE_NAMES or expr.value[:1].isupper() or expr.value == "None"
    return isinstance(expr, cst.Attribute) and expr.attr.value[:1].isupper()


def off_by_one_index(node: cst.CSTNode, c: Collector) -> Iterator[Site]:
    if not isinstance(node, cst.Subscript) or len(node.slice) != 1 or c.type_depth:
        return
    index = node.slice[0].slice
    if not isinstance(index, cst.Index) or index.star is not None:
        return
    value = index.value
    if is_text(value) or _is_type_like(value) or isinstance(value, cst.Tuple | cst.Float):
        return
    for new, what in _off_by_one(value, "index"):
        yield c.site(index, index.with_changes(value=new), value, what)


def off_by_one_constant(node: cst.CSTNode, c: Collector) -> Iterator[Site]:
    if c.default_depth or c.type_depth:
        return
    if isinstance(node, cst.Integer) and id(node) not in c.negated and node.value.isdigit():
        value = int(node.value)
    elif (
        isinstance(node, cst.UnaryOperation)
        and isinstance(node.operator, cst.Minus)
        and id(node.expression) in c.negated
        and isinstance(node.expression, cst.Integer)
    ):
        value = -int(node.expression.value)
    else:
        return
    for delta in (1, -1):
        new = int_node(value + delta).with_changes(lpar=node.lpar, rpar=node.rpar)
        yield c.site(node, new, node, f"`{snippet(node)}` -> `{snippet(new)}`")


def slice_bounds(node: cst.CSTNode, c: Collector) -> Iterator[Site]:
    if not isinstance(node, cst.Subscript):
        return
    for element in node.slice:
        bounds = element.slice
        if not isinstance(bounds, cst.Slice):
            continue
        new_lower: cst.BaseExpression
        if bounds.lower is None:
            new_lower = cst.Integer("1")
            what = "slice lower bound added: `1`"
            yield c.site(bounds, bounds.with_changes(lower=new_lower), bounds, what)
        else:
            new_lower = shift(bounds.lower, 1)
            what = f"slice lower bound {_change(bounds.lower, new_lower)}"
            yield c.site(bounds, bounds.with_changes(lower=new_lower), bounds.lower, what)
        if bounds.upper is not None:
            new_upper = shift(bounds.upper, -1)
            what = f"slice upper bound {_change(bounds.upper, new_upper)}"
            yield c.site(bounds, bounds.with_changes(upper=new_upper), bounds.upper, what)


def _changed_default(value: cst.BaseExpression) -> cst.BaseExpression | None:
    number = int_value(value)
    if number is not None:
        return int_node(number + 1)
    if isinstance(value, cst.Name) and value.value in ("True", "False", "None"):
        flipped = {"True": "False", "False": "True"}.get(value.value)
        return cst.Name(flipped) if flipped else cst.Integer("0")
    if isinstance(value, cst.SimpleString):
        quote = value.quote
        prefix = value.prefix
        return cst.SimpleString(f"{prefix}{quote}{' ' if not value.raw_value else ''}{quote}")
    return None


def change_default(node: cst.CSTNode, c: Collector) -> Iterator[Site]:
    if not isinstance(node, cst.Param) or node.default is None:
        return
    default = node.default
    new = _changed_default(default)
    if new is None:
        return
    new = new.with_changes(lpar=default.lpar, rpar=default.rpar)
    what = f"default of `{node.name.value}` {_change(default, new)}"
    yield c.site(default, new, default, what)


def flip_boolean_constant(node: cst.CSTNode, c: Collector) -> Iterator[Site]:
    if not isinstance(node, cst.Name) or node.value not in ("True", "False"):
        return
    if c.default_depth or c.type_depth:
        return
    new = node.with_changes(value="False" if node.value == "True" else "True")
    yield c.site(node, new, node, _change(node, new))


def drop_unary(node: cst.CSTNode, c: Collector) -> Iterator[Site]:
    if not isinstance(node, cst.UnaryOperation):
        return
    inner = node.expression
    if isinstance(node.operator, cst.Minus) and isinstance(
        inner, cst.Integer | cst.Float | cst.Imaginary
    ):
        return
    if not isinstance(node.operator, cst.Not | cst.Minus):
        return
    if node.lpar and not inner.lpar:
        inner = inner.with_changes(lpar=node.lpar, rpar=node.rpar)
    yield c.site(node, inner, node, _change(node, inner))
