"""Rules of the statement-level operators, plus argument swaps and wrong variables."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import libcst as cst

from codesynth.bugs._sites import Collector, Site, snippet

_Block = cst.Module | cst.IndentedBlock
_REMOVABLE = (cst.Expr, cst.Assign, cst.AnnAssign, cst.AugAssign, cst.Del, cst.Assert)


def _pass_line() -> cst.SimpleStatementLine:
    return cst.SimpleStatementLine(body=[cst.Pass()])


def _pass_body(body: cst.BaseSuite) -> cst.BaseSuite:
    """The same suite (header and footer comments kept) with `pass` as its only statement."""
    if isinstance(body, cst.IndentedBlock):
        return body.with_changes(body=[_pass_line()])
    return body.with_changes(body=[cst.Pass()])


def _text(statement: cst.BaseSmallStatement) -> str:
    return snippet(statement).rstrip("; ")


def _removable(statement: cst.BaseSmallStatement) -> bool:
    if isinstance(statement, cst.Expr):  # a docstring or `...` is not behaviour
        value = statement.value
        return not isinstance(value, cst.SimpleString | cst.ConcatenatedString | cst.Ellipsis)
    if isinstance(statement, cst.AnnAssign):
        return statement.value is not None
    return isinstance(statement, _REMOVABLE)


def _without(body: Sequence[cst.BaseSmallStatement], index: int) -> list[cst.BaseSmallStatement]:
    """`body` without one small statement; the new last one keeps the old last's `;`."""
    kept = [statement for i, statement in enumerate(body) if i != index]
    if index == len(body) - 1:
        kept[-1] = kept[-1].with_changes(semicolon=body[index].semicolon)
    return kept


def _drop_line(block: _Block, index: int) -> _Block:
    """`block` without its index-th statement; comments above it move to what follows."""
    lines = list(block.body)
    removed: Any = lines.pop(index)  # every statement has leading_lines
    footer = list(block.footer)
    if removed.leading_lines:
        if index < len(lines):
            after: Any = lines[index]
            lines[index] = after.with_changes(
                leading_lines=[*removed.leading_lines, *after.leading_lines]
            )
        else:
            footer = [*removed.leading_lines, *footer]
    return block.with_changes(body=lines, footer=footer)


def remove_statement(node: cst.CSTNode, c: Collector) -> Iterator[Site]:
    if isinstance(node, cst.SimpleStatementSuite):
        for j, small in enumerate(node.body):
            if not _removable(small):
                continue
            what = f"statement `{_text(small)}` removed"
            if len(node.body) > 1:
                yield c.site(node, node.with_changes(body=_without(node.body, j)), small, what)
            else:
                pass_ = cst.Pass(semicolon=small.semicolon)
                yield c.site(small, pass_, small, f"statement `{_text(small)}` -> `pass`")
        return
    if not isinstance(node, cst.Module | cst.IndentedBlock):
        return
    total = sum(len(s.body) if isinstance(s, cst.SimpleStatementLine) else 1 for s in node.body)
    for i, line in enumerate(node.body):
        if not isinstance(line, cst.SimpleStatementLine):
            continue
        for j, small in enumerate(line.body):
            if not _removable(small):
                continue
            what = f"statement `{_text(small)}` removed"
            if len(line.body) > 1:
                yield c.site(line, line.with_changes(body=_without(line.body, j)), small, what)
            elif total > 1:
                yield c.site(node, _drop_line(node, i), small, what)
            else:
                pass_ = cst.Pass(semicolon=small.semicolon)
                yield c.site(small, pass_, small, f"statement `{_text(small)}` -> `pass`")


def remove_branch(node: cst.CSTNode, c: Collector) -> Iterator[Site]:
    if not isinstance(node, cst.If):
        return
    orelse = node.orelse
    if isinstance(orelse, cst.Else):
        yield c.site(node, node.with_changes(orelse=None), orelse, "`else` branch removed")
    elif isinstance(orelse, cst.If):
        what = f"`elif {snippet(orelse.test)}` branch removed"
        yield c.site(node, node.with_changes(orelse=orelse.orelse), orelse, what)
    else:
        what = f"body of `if {snippet(node.test)}` -> `pass`"
        yield c.site(node, node.with_changes(body=_pass_body(node.body)), node, what)


def remove_loop(node: cst.CSTNode, c: Collector) -> Iterator[Site]:
    if isinstance(node, cst.For | cst.While):
        header = (
            f"for {snippet(node.target)} in {snippet(node.iter)}"
            if isinstance(node, cst.For)
            else f"while {snippet(node.test)}"
        )
        replacement = _pass_line().with_changes(leading_lines=node.leading_lines)
        yield c.site(node, replacement, node, f"loop `{header}` -> `pass`")


def remove_return(node: cst.CSTNode, c: Collector) -> Iterator[Site]:
    if not isinstance(node, cst.Return) or node.value is None:
        return
    if isinstance(node.value, cst.Name) and node.value.value == "None":
        return
    bare = node.with_changes(value=None, whitespace_after_return=cst.MaybeSentinel.DEFAULT)
    yield c.site(node, bare, node, f"`{snippet(node)}` -> `return`")


def swallow_exception(node: cst.CSTNode, c: Collector) -> Iterator[Site]:
    if isinstance(node, cst.ExceptHandler | cst.ExceptStarHandler):
        clause = "except" if node.type is None else f"except {snippet(node.type)}"
        what = f"body of `{clause}` -> `pass`"
        yield c.site(node, node.with_changes(body=_pass_body(node.body)), node, what)
    elif isinstance(node, cst.Raise):
        replacement = cst.Pass(semicolon=node.semicolon)
        yield c.site(node, replacement, node, f"`{snippet(node)}` -> `pass`")


def swap_call_args(node: cst.CSTNode, c: Collector) -> Iterator[Site]:
    if not isinstance(node, cst.Call):
        return
    args = node.args
    for i in range(len(args) - 1):
        first, second = args[i], args[i + 1]
        if first.keyword or second.keyword or first.star or second.star:
            continue
        if snippet(first.value, 10_000) == snippet(second.value, 10_000):
            continue
        swapped = list(args)
        swapped[i] = first.with_changes(value=second.value)
        swapped[i + 1] = second.with_changes(value=first.value)
        what = (
            f"arguments `{snippet(first.value)}` and `{snippet(second.value)}`"
            f" of `{snippet(node.func)}(...)` swapped"
        )
        yield c.site(node, node.with_changes(args=swapped), first.value, what)


def wrong_variable(node: cst.CSTNode, c: Collector) -> Iterator[Site]:
    if not isinstance(node, cst.Name) or not c.scopes or c.default_depth or c.type_depth:
        return
    names = sorted(c.scopes[-1])
    if node.value not in names or len(names) < 2 or not c.is_read(node):
        return
    other = names[(names.index(node.value) + 1) % len(names)]
    yield c.site(node, node.with_changes(value=other), node, f"`{node.value}` -> `{other}`")
