"""Where mutation operators apply: one deterministic traversal that both counts and applies.

A `Collector` walks a parsed module once, in libcst's pre-order, and asks every rule which
sites a node offers. A site names the node to replace and its replacement. Applying a site
rewrites only that node (and the chain of its ancestors), so every other byte of the program,
comments and formatting included, is kept.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar, cast

import libcst as cst
from libcst.metadata import ExpressionContext, ExpressionContextProvider, PositionProvider

from codesynth.bugs._edits import int_value

_BUILTINS = frozenset(dir(builtins))
_EMPTY = cst.Module(body=[])
_SPACES = re.compile(r"\s+")
_NodeT = TypeVar("_NodeT", bound=cst.CSTNode)


@dataclass(frozen=True)
class Site:
    """One place an operator can change: `target` becomes `replacement`."""

    target: cst.CSTNode
    replacement: cst.CSTNode
    line: int  # 1-based, in the original code
    what: str  # the concrete change, e.g. "`<` -> `<=`"


Rule = Callable[[cst.CSTNode, "Collector"], Iterable[Site]]


def snippet(node: cst.CSTNode, limit: int = 40) -> str:
    """The node's code on one line, shortened to `limit` characters."""
    text = _SPACES.sub(" ", _EMPTY.code_for_node(node)).strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Binder(cst.CSTVisitor):
    """Names a function body binds in its own scope (nested scopes are not entered)."""

    def __init__(self) -> None:
        self.bound: set[str] = set()
        self.excluded: set[str] = set()  # nested functions, classes, imports

    def _bind(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            self.bound.add(target.value)
        elif isinstance(target, cst.Tuple | cst.List):
            for element in target.elements:
                self._bind(element.value)
        elif isinstance(target, cst.StarredElement):
            self._bind(target.value)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.excluded.add(node.name.value)
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.excluded.add(node.name.value)
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_ListComp(self, node: cst.ListComp) -> bool:
        return False

    def visit_SetComp(self, node: cst.SetComp) -> bool:
        return False

    def visit_DictComp(self, node: cst.DictComp) -> bool:
        return False

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> bool:
        return False

    def visit_ImportAlias(self, node: cst.ImportAlias) -> bool:
        alias: cst.BaseExpression = node.asname.name if node.asname else node.name
        while isinstance(alias, cst.Attribute):
            alias = alias.value
        if isinstance(alias, cst.Name):
            self.excluded.add(alias.value)
        return False

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bind(target.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._bind(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._bind(node.target)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind(node.asname.name)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind(node.target)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self._bind(node.name.name)


def local_names(function: cst.FunctionDef) -> frozenset[str]:
    """Parameters and variables of a function, without builtins, nested defs and imports."""
    params = function.params
    names = {p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)}
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            names.add(star.name.value)
    binder = _Binder()
    function.body.visit(binder)
    return frozenset((names | binder.bound) - binder.excluded - _BUILTINS)


class Collector(cst.CSTVisitor):
    """Visits every node once, in order, collecting each rule's sites with some context."""

    METADATA_DEPENDENCIES = (PositionProvider, ExpressionContextProvider)

    def __init__(self, rules: Mapping[str, Rule]) -> None:
        super().__init__()
        self.rules = rules
        self.sites: dict[str, list[Site]] = {name: [] for name in rules}
        self.parents: dict[int, cst.CSTNode] = {}
        self.scopes: list[frozenset[str]] = []  # locals of the enclosing functions
        self.not_reads: set[int] = set()  # Names that are not variable reads (callees, ...)
        self.negated: set[int] = set()  # Integer literals under a unary minus
        self.default_depth = 0  # > 0 inside a parameter's default value
        self.type_depth = 0  # > 0 inside an annotation
        self._defaults: set[int] = set()
        self._stack: list[cst.CSTNode] = []

    # -- context ----------------------------------------------------------------------------
    def line(self, node: cst.CSTNode) -> int:
        return self.get_metadata(PositionProvider, node).start.line

    def is_read(self, name: cst.Name) -> bool:
        context = self.get_metadata(ExpressionContextProvider, name, None)
        return context is ExpressionContext.LOAD and id(name) not in self.not_reads

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self.parents.get(id(node))

    def site(
        self, target: cst.CSTNode, replacement: cst.CSTNode, at: cst.CSTNode, what: str
    ) -> Site:
        return Site(target, replacement, self.line(at), what)

    def _enter(self, node: cst.CSTNode) -> None:
        if self._stack:
            self.parents[id(node)] = self._stack[-1]
        self._stack.append(node)
        if id(node) in self._defaults:
            self.default_depth += 1
        if isinstance(node, cst.Annotation):
            self.type_depth += 1
        elif isinstance(node, cst.FunctionDef):
            self.scopes.append(local_names(node))
        elif isinstance(node, cst.Param) and node.default is not None:
            self._defaults.add(id(node.default))
        elif isinstance(node, cst.Call):
            self.not_reads.add(id(node.func))
        elif isinstance(node, cst.Attribute):
            self.not_reads.add(id(node.attr))
        elif isinstance(node, cst.Arg) and node.keyword is not None:
            self.not_reads.add(id(node.keyword))
        elif (
            isinstance(node, cst.UnaryOperation)
            and isinstance(node.operator, cst.Minus)
            and int_value(node.expression) is not None
        ):
            self.negated.add(id(node.expression))

    def on_visit(self, node: cst.CSTNode) -> bool:
        self._enter(node)
        for name, rule in self.rules.items():
            try:
                self.sites[name].extend(rule(node, self))
            except Exception:  # a rule that cannot handle an odd node offers no site there
                continue
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self._stack.pop()
        if id(original_node) in self._defaults:
            self.default_depth -= 1
        if isinstance(original_node, cst.Annotation):
            self.type_depth -= 1
        elif isinstance(original_node, cst.FunctionDef):
            self.scopes.pop()


class _Applier(cst.CSTTransformer):
    """Replaces one node; visits only the target's ancestors, so nothing else is rebuilt."""

    def __init__(self, site: Site, ancestors: set[int]) -> None:
        super().__init__()
        self.site = site
        self.ancestors = ancestors

    def on_visit(self, node: cst.CSTNode) -> bool:
        return id(node) in self.ancestors

    def on_leave(self, original_node: _NodeT, updated_node: _NodeT) -> _NodeT:
        if original_node is self.site.target:
            return cast(_NodeT, self.site.replacement)
        return updated_node


def apply_site(module: cst.Module, collector: Collector, site: Site) -> str:
    """The code of `module` (the one `collector` walked) with `site` applied."""
    ancestors: set[int] = set()
    node = collector.parent(site.target)
    while node is not None:
        ancestors.add(id(node))
        node = collector.parent(node)
    return module.visit(_Applier(site, ancestors)).code
