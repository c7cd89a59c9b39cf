"""Deterministic speed-ups (libcst) for ``optimize``: CPython peephole rewrites that do the
same work with fewer interpreter steps. A two-argument ``max``/``min`` becomes a conditional
expression (the builtins parse their arguments slowly); a generator consumed whole becomes a
list comprehension (no generator frame resumed per item); an identity comprehension becomes
the iterable; ``x ** 2`` becomes ``x * x``; ``x % 2 == 0`` becomes a bit test;
``"".join(reversed(s))`` becomes ``s[::-1]``.

Each takes ``(code, entry, rng)`` like the refactorings and gives the new program, or None.
None of them is trusted, since each is exact only for the usual types (a bit test needs
integers, ``s[::-1]`` a string): ``optimize`` keeps a variant only when it passes the tests,
agrees with the original on generated inputs and is measured statistically faster.
"""

from __future__ import annotations

import random

import libcst as cst

from codesynth.generators.rewrites import Transform

CONSUMERS = {"sum", "min", "max", "sorted", "tuple", "list", "set", "frozenset"}


def _parse(code: str) -> cst.Module | None:
    try:
        return cst.parse_module(code)
    except (cst.ParserSyntaxError, RecursionError, ValueError):
        return None


def _bound(module: cst.Module) -> set[str]:
    """Names the program binds (assigned, defined, imported, parameters): a builtin it
    shadows is not rewritten."""
    names: set[str] = set()

    class Visitor(cst.CSTVisitor):
        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:  # noqa: N802
            names.update(n.value for n in _names(node.target))

        def visit_FunctionDef(self, node: cst.FunctionDef) -> None:  # noqa: N802
            names.add(node.name.value)

        def visit_ClassDef(self, node: cst.ClassDef) -> None:  # noqa: N802
            names.add(node.name.value)

        def visit_Param(self, node: cst.Param) -> None:  # noqa: N802
            names.add(node.name.value)

        def visit_ImportAlias(self, node: cst.ImportAlias) -> None:  # noqa: N802
            alias = node.evaluated_alias or node.evaluated_name
            names.add(alias.split(".")[0])

        def visit_For(self, node: cst.For) -> None:  # noqa: N802
            names.update(n.value for n in _names(node.target))

    module.visit(Visitor())
    return names


def _names(node: cst.CSTNode) -> list[cst.Name]:
    if isinstance(node, cst.Name):
        return [node]
    if isinstance(node, cst.Tuple | cst.List):
        return [n for e in node.elements for n in _names(e.value)]
    return []


def _simple(node: cst.BaseExpression) -> bool:
    """Evaluated twice at no cost and with no effect: a name or a number."""
    return isinstance(node, cst.Name | cst.Integer | cst.Float)


def _paren(node: cst.BaseExpression) -> cst.BaseExpression:
    return node.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


def _builtin(call: cst.Call, names: set[str], bound: set[str]) -> str | None:
    func = call.func
    if isinstance(func, cst.Name) and func.value in names and func.value not in bound:
        return func.value
    return None


class _Rewriter(cst.CSTTransformer):
    def __init__(self, bound: set[str]) -> None:
        self.bound = bound
        self.count = 0

    def done(self, node: cst.BaseExpression) -> cst.BaseExpression:
        self.count += 1
        return node


class _MinMax(_Rewriter):
    def leave_Call(self, original: cst.Call,  # noqa: N802
                   updated: cst.Call) -> cst.BaseExpression:
        name = _builtin(updated, {"max", "min"}, self.bound)
        if name is None:
            return updated
        args = list(updated.args)
        if len(args) in (1, 2) and isinstance(args[0].value, cst.Tuple | cst.List) \
                and not args[0].star and args[0].keyword is None \
                and all(a.keyword is not None and a.keyword.value == "default"
                        for a in args[1:]):
            # max((a, b)) or max([a, b], default=d): the literal is never empty
            elements = args[0].value.elements
            if any(isinstance(e, cst.StarredElement) for e in elements):
                return updated
            args = [cst.Arg(e.value) for e in elements]
        if len(args) != 2 or any(a.star or a.keyword is not None for a in args):
            return updated
        a, b = args[0].value, args[1].value
        if not (_simple(a) and _simple(b)):
            return updated
        # max(a, b) is a unless b > a (the first of equal ones); min likewise with <
        op: cst.BaseCompOp = cst.GreaterThan() if name == "max" else cst.LessThan()
        test = cst.Comparison(b, [cst.ComparisonTarget(op, a)])
        return self.done(_paren(cst.IfExp(test=test, body=b, orelse=a)))


class _Consumed(_Rewriter):
    def leave_Call(self, original: cst.Call,  # noqa: N802
                   updated: cst.Call) -> cst.BaseExpression:
        joins = isinstance(updated.func, cst.Attribute) and updated.func.attr.value == "join"
        name = _builtin(updated, CONSUMERS, self.bound)
        if not (joins or name) or not updated.args:
            return updated
        first = updated.args[0]
        if not isinstance(first.value, cst.GeneratorExp) or first.keyword or first.star:
            return updated
        gen = first.value
        if gen.for_in.asynchronous is not None:
            return updated
        comp = cst.ListComp(elt=gen.elt, for_in=gen.for_in)
        if name == "list" and len(updated.args) == 1:
            return self.done(comp)
        return self.done(updated.with_changes(args=[first.with_changes(value=comp),
                                                    *updated.args[1:]]))


class _Identity(_Rewriter):
    def leave_ListComp(self, original: cst.ListComp,  # noqa: N802
                       updated: cst.ListComp) -> cst.BaseExpression:
        loop = updated.for_in
        if loop.ifs or loop.inner_for_in is not None or loop.asynchronous is not None \
                or not isinstance(updated.elt, cst.Name) \
                or not isinstance(loop.target, cst.Name) \
                or updated.elt.value != loop.target.value or "list" in self.bound:
            return updated
        return self.done(cst.Call(cst.Name("list"), [cst.Arg(loop.iter)]))


class _Square(_Rewriter):
    def leave_BinaryOperation(self, original: cst.BinaryOperation,  # noqa: N802
                              updated: cst.BinaryOperation) -> cst.BaseExpression:
        if isinstance(updated.operator, cst.Power) and isinstance(updated.left, cst.Name) \
                and isinstance(updated.right, cst.Integer) and updated.right.value == "2":
            return self.done(_paren(cst.BinaryOperation(updated.left, cst.Multiply(),
                                                        updated.left)))
        return updated


class _Parity(_Rewriter):
    def leave_Comparison(self, original: cst.Comparison,  # noqa: N802
                         updated: cst.Comparison) -> cst.BaseExpression:
        left = updated.left
        if len(updated.comparisons) != 1 or not isinstance(left, cst.BinaryOperation) \
                or not isinstance(left.operator, cst.Modulo) \
                or not isinstance(left.right, cst.Integer) or left.right.value != "2":
            return updated
        target = updated.comparisons[0]
        if not isinstance(target.comparator, cst.Integer) or \
                target.comparator.value not in ("0", "1") or \
                not isinstance(target.operator, cst.Equal | cst.NotEqual):
            return updated
        bit = _paren(cst.BinaryOperation(left.left, cst.BitAnd(), cst.Integer("1")))
        return self.done(updated.with_changes(left=bit))


class _ReversedJoin(_Rewriter):
    def leave_Call(self, original: cst.Call,  # noqa: N802
                   updated: cst.Call) -> cst.BaseExpression:
        func = updated.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "join"
                and isinstance(func.value, cst.SimpleString)
                and func.value.evaluated_value == "" and len(updated.args) == 1):
            return updated
        inner = updated.args[0].value
        if isinstance(inner, cst.Call) and _builtin(inner, {"reversed"}, self.bound) \
                and len(inner.args) == 1 and not inner.args[0].star \
                and isinstance(inner.args[0].value, cst.Name):
            name = inner.args[0].value.value
            return self.done(cst.parse_expression(f"{name}[::-1]"))
        return updated


def _transform(kind: type[_Rewriter]) -> Transform:
    def apply(code: str, entry: str | None, rng: random.Random) -> str | None:
        module = _parse(code)
        if module is None:
            return None
        rewriter = kind(_bound(module))
        try:
            new = module.visit(rewriter).code
        except (cst.CSTValidationError, RecursionError, ValueError):
            return None
        return new if rewriter.count and new != code else None

    apply.__doc__ = kind.__doc__
    return apply


SPEEDUPS: dict[str, Transform] = {
    "minmax_to_conditional": _transform(_MinMax),
    "generator_to_list": _transform(_Consumed),
    "identity_comprehension": _transform(_Identity),
    "square_by_multiplication": _transform(_Square),
    "parity_by_bit": _transform(_Parity),
    "reversed_join_to_slice": _transform(_ReversedJoin),
}


def chain(code: str, names: list[str], entry: str | None,
          rng: random.Random) -> tuple[str, list[str]]:
    """``code`` through each named speed-up in turn (those that apply), and which did."""
    applied: list[str] = []
    for name in names:
        new = SPEEDUPS[name](code, entry, rng)
        if new is not None:
            code, applied = new, [*applied, name]
    return code, applied
