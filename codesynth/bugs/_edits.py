"""Expression edits shared by the rules: off-by-one shifts, literals, parentheses."""

from __future__ import annotations

import libcst as cst

_LOOSE = (
    cst.BooleanOperation,
    cst.Comparison,
    cst.IfExp,
    cst.Lambda,
    cst.NamedExpr,
    cst.Yield,
)
_LOOSE_BINARY = (cst.BitOr, cst.BitXor, cst.BitAnd, cst.LeftShift, cst.RightShift)


def parenthesize(expr: cst.BaseExpression) -> cst.BaseExpression:
    return expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


def binds_looser_than_sum(expr: cst.BaseExpression) -> bool:
    """Whether `expr + 1` would not mean `(expr) + 1`."""
    if expr.lpar:
        return False
    if isinstance(expr, cst.UnaryOperation):
        return isinstance(expr.operator, cst.Not)
    if isinstance(expr, cst.BinaryOperation):
        return isinstance(expr.operator, _LOOSE_BINARY)
    return isinstance(expr, _LOOSE)


def int_value(expr: cst.BaseExpression) -> int | None:
    """The value of a plain decimal integer literal (`7`, `-7`), else None."""
    if isinstance(expr, cst.Integer) and not expr.lpar and expr.value.isdigit():
        return int(expr.value)
    if (
        isinstance(expr, cst.UnaryOperation)
        and isinstance(expr.operator, cst.Minus)
        and not expr.lpar
        and isinstance(expr.expression, cst.Integer)
        and not expr.expression.lpar
        and expr.expression.value.isdigit()
    ):
        return -int(expr.expression.value)
    return None


def int_node(value: int) -> cst.BaseExpression:
    if value >= 0:
        return cst.Integer(str(value))
    return cst.UnaryOperation(operator=cst.Minus(), expression=cst.Integer(str(-value)))


def shift(expr: cst.BaseExpression, delta: int) -> cst.BaseExpression:
    """`expr + delta`, folded: `3` -> `4`, `n - 1` -> `n`, `n` -> `n + 1`."""
    value = int_value(expr)
    if value is not None:
        return int_node(value + delta)
    if (
        isinstance(expr, cst.BinaryOperation)
        and not expr.lpar
        and isinstance(expr.operator, cst.Add | cst.Subtract)
        and isinstance(expr.right, cst.Integer)
        and expr.right.value.isdigit()
    ):
        sign = 1 if isinstance(expr.operator, cst.Add) else -1
        total = sign * int(expr.right.value) + delta
        if total == 0:
            return expr.left
        op = expr.operator
        new_op: cst.BaseBinaryOp = (
            cst.Add(whitespace_before=op.whitespace_before, whitespace_after=op.whitespace_after)
            if total > 0
            else cst.Subtract(
                whitespace_before=op.whitespace_before, whitespace_after=op.whitespace_after
            )
        )
        return expr.with_changes(operator=new_op, right=cst.Integer(str(abs(total))))
    base = parenthesize(expr) if binds_looser_than_sum(expr) else expr
    op_node: cst.BaseBinaryOp = cst.Add() if delta > 0 else cst.Subtract()
    return cst.BinaryOperation(left=base, operator=op_node, right=cst.Integer(str(abs(delta))))


def is_text(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.SimpleString | cst.ConcatenatedString | cst.FormattedString)


def is_sequence_literal(expr: cst.BaseExpression) -> bool:
    return is_text(expr) or isinstance(expr, cst.List | cst.Tuple | cst.ListComp)
