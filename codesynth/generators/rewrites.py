"""Deterministic refactorings (libcst) that should keep a program's behaviour: renamed locals,
an extracted helper, loop <-> comprehension rewrites, normalized formatting, no comments.

Each transform takes ``(code, entry, rng)`` and gives the new program, or None when it does
not apply (or changes nothing). None of them is trusted: the ``refactor`` generator keeps a
variant only when it passes the original's tests and agrees with it on generated inputs.
"""

from __future__ import annotations

import ast
import random
from collections.abc import Callable

import libcst as cst
from libcst.metadata import Assignment, FunctionScope, MetadataWrapper, ScopeProvider

Transform = Callable[[str, str | None, random.Random], str | None]

_WORDS = {"i": "index", "j": "inner", "k": "key", "v": "value", "x": "item", "y": "other",
          "n": "count", "s": "text", "c": "char", "r": "row", "e": "element", "a": "first",
          "b": "second", "t": "temp", "res": "result", "result": "outcome", "ans": "answer",
          "total": "running_total", "out": "output", "acc": "accumulator"}


def _parse(code: str) -> cst.Module | None:
    try:
        return cst.parse_module(code)
    except (cst.ParserSyntaxError, RecursionError, ValueError):
        return None


def _changed(code: str, new: str) -> str | None:
    return new if new != code else None


class _Rename(cst.CSTTransformer):
    def __init__(self, nodes: dict[int, str]) -> None:
        self.nodes = nodes

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:  # noqa: N802
        new = self.nodes.get(id(original))
        return updated.with_changes(value=new) if new else updated


def _keyword_arguments(tree: ast.Module) -> set[tuple[str, str]]:
    """(function, keyword) of every call ``f(..., keyword=...)`` in the program."""
    return {(node.func.id, k.arg) for node in ast.walk(tree) if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name) for k in node.keywords if k.arg}


def rename_locals(code: str, entry: str | None, rng: random.Random) -> str | None:
    """Local variables of top-level functions renamed, with every use of each, as libcst's
    scope analysis finds them. Parameters are the signature: only those of private
    functions (``_name``, not the entry point) that no call passes by keyword are renamed."""
    module = _parse(code)
    if module is None:
        return None
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    scopes = wrapper.resolve(ScopeProvider)
    tree = ast.parse(code)
    taken = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | \
        {n.arg for n in ast.walk(tree) if isinstance(n, ast.arg)}
    by_keyword = _keyword_arguments(tree)
    nodes: dict[int, str] = {}
    for function in module.body:
        if not isinstance(function, cst.FunctionDef) or not function.body.body:
            continue
        scope = scopes.get(function.body.body[0])
        if not isinstance(scope, FunctionScope):
            continue
        params = {p.name.value for p in (*function.params.params,
                                         *function.params.posonly_params,
                                         *function.params.kwonly_params)}
        for extra in (function.params.star_arg, function.params.star_kwarg):
            if isinstance(extra, cst.Param):
                params.add(extra.name.value)
        private = function.name.value.startswith("_") and function.name.value != entry
        renamable = {p.name.value for p in (*function.params.posonly_params,
                                            *function.params.params)
                     if (function.name.value, p.name.value) not in by_keyword} \
            if private else set()
        names = sorted({a.name for a in scope.assignments if isinstance(a, Assignment)
                        and (a.name not in params or a.name in renamable)})
        for name in names:
            assignments = [a for a in scope.assignments[name] if isinstance(a, Assignment)]
            if not all(isinstance(a.node, cst.Name) or (isinstance(a.node, cst.Param)
                                                         and name in renamable)
                       for a in assignments):
                continue  # an import or a def: left alone
            new = _WORDS.get(name) or f"{name}_{rng.choice(('val', 'tmp', 'local'))}"
            while new in taken:
                new += "_"
            taken.add(new)
            for assignment in assignments:
                node = assignment.node
                nodes[id(node.name if isinstance(node, cst.Param) else node)] = new
                for access in assignment.references:
                    if isinstance(access.node, cst.Name):
                        nodes[id(access.node)] = new
    if not nodes:
        return None
    return _changed(code, wrapper.module.visit(_Rename(nodes)).code)


def extract_helper(code: str, entry: str | None, rng: random.Random) -> str | None:
    """The entry point's body moved into a private helper it calls with its arguments."""
    module = _parse(code)
    if module is None or entry is None:
        return None
    index = next((i for i, f in enumerate(module.body)
                  if isinstance(f, cst.FunctionDef) and f.name.value == entry), None)
    if index is None:
        return None
    function = module.body[index]
    assert isinstance(function, cst.FunctionDef)
    if function.decorators or function.asynchronous \
            or not isinstance(function.body, cst.IndentedBlock):
        return None
    params = function.params
    body = list(function.body.body)
    docstring = []
    if body and isinstance(body[0], cst.SimpleStatementLine) and \
            isinstance(body[0].body[0], cst.Expr) and \
            isinstance(body[0].body[0].value, cst.SimpleString | cst.ConcatenatedString):
        docstring, body = [body[0]], body[1:]
    if not body:
        return None
    helper_name = f"_{entry}_impl"
    names = {n.id for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Name)}
    while helper_name in names:
        helper_name += "_"
    plain = [p.with_changes(default=None, equal=cst.MaybeSentinel.DEFAULT)
             for p in (*params.posonly_params, *params.params)]
    helper_params = cst.Parameters(
        params=plain, star_arg=params.star_arg,
        kwonly_params=[p.with_changes(default=None, equal=cst.MaybeSentinel.DEFAULT)
                       for p in params.kwonly_params], star_kwarg=params.star_kwarg)
    args = [cst.Arg(cst.Name(p.name.value)) for p in plain]
    if isinstance(params.star_arg, cst.Param):
        args.append(cst.Arg(cst.Name(params.star_arg.name.value), star="*"))
    args += [cst.Arg(cst.Name(p.name.value), keyword=cst.Name(p.name.value))
             for p in params.kwonly_params]
    if params.star_kwarg is not None:
        args.append(cst.Arg(cst.Name(params.star_kwarg.name.value), star="**"))
    helper = function.with_changes(name=cst.Name(helper_name), params=helper_params,
                                   returns=function.returns,
                                   body=function.body.with_changes(body=body))
    call = cst.SimpleStatementLine([cst.Return(cst.Call(cst.Name(helper_name), args))])
    public = function.with_changes(body=function.body.with_changes(body=[*docstring, call]),
                                   leading_lines=[cst.EmptyLine(), cst.EmptyLine()])
    new_body = [*module.body[:index], helper, public, *module.body[index + 1:]]
    return _changed(code, module.with_changes(body=new_body).code)


def _append_call(statement: cst.BaseStatement, target: str) -> cst.BaseExpression | None:
    """E when ``statement`` is ``target.append(E)``."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    expr = statement.body[0]
    if not isinstance(expr, cst.Expr) or not isinstance(expr.value, cst.Call):
        return None
    call = expr.value
    func = call.func
    if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) \
            and func.value.value == target and func.attr.value == "append" \
            and len(call.args) == 1 and call.args[0].keyword is None and not call.args[0].star:
        return call.args[0].value
    return None


def _empty_list_target(statement: cst.BaseStatement) -> str | None:
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
        assign = statement.body[0]
        if isinstance(assign, cst.Assign) and len(assign.targets) == 1 \
                and isinstance(assign.targets[0].target, cst.Name) \
                and isinstance(assign.value, cst.List) and not assign.value.elements:
            return assign.targets[0].target.value
    return None


class _LoopToComprehension(cst.CSTTransformer):
    def __init__(self) -> None:
        self.count = 0

    def leave_IndentedBlock(self, original: cst.IndentedBlock,  # noqa: N802
                            updated: cst.IndentedBlock) -> cst.IndentedBlock:
        body = list(updated.body)
        out: list[cst.BaseStatement] = []
        i = 0
        while i < len(body):
            target = _empty_list_target(body[i])
            loop = body[i + 1] if i + 1 < len(body) else None
            if target and isinstance(loop, cst.For) and loop.orelse is None \
                    and not loop.asynchronous and isinstance(loop.body, cst.IndentedBlock) \
                    and len(loop.body.body) == 1:
                inner = loop.body.body[0]
                condition = None
                if isinstance(inner, cst.If) and inner.orelse is None \
                        and isinstance(inner.body, cst.IndentedBlock) \
                        and len(inner.body.body) == 1:
                    condition, inner = inner.test, inner.body.body[0]
                element = _append_call(inner, target)
                if element is not None:
                    ifs = [cst.CompIf(condition)] if condition is not None else []
                    comp = cst.ListComp(element, cst.CompFor(target=loop.target, iter=loop.iter,
                                                             ifs=ifs))
                    out.append(body[i].with_changes(body=[cst.Assign(
                        [cst.AssignTarget(cst.Name(target))], comp)]))
                    self.count += 1
                    i += 2
                    continue
            out.append(body[i])
            i += 1
        return updated.with_changes(body=out)


def loop_to_comprehension(code: str, entry: str | None, rng: random.Random) -> str | None:
    """``xs = []`` + ``for v in it: [if c:] xs.append(e)`` -> ``xs = [e for v in it if c]``."""
    module = _parse(code)
    if module is None:
        return None
    transformer = _LoopToComprehension()
    new = module.visit(transformer)
    return _changed(code, new.code) if transformer.count else None


class _ComprehensionToLoop(cst.CSTTransformer):
    def __init__(self) -> None:
        self.count = 0

    def leave_IndentedBlock(self, original: cst.IndentedBlock,  # noqa: N802
                            updated: cst.IndentedBlock) -> cst.IndentedBlock:
        out: list[cst.BaseStatement] = []
        for statement in updated.body:
            loop = self._loop(statement)
            if loop is None:
                out.append(statement)
                continue
            out.extend(loop)
            self.count += 1
        return updated.with_changes(body=out)

    @staticmethod
    def _loop(statement: cst.BaseStatement) -> list[cst.BaseStatement] | None:
        if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
            return None
        assign = statement.body[0]
        if not isinstance(assign, cst.Assign) or len(assign.targets) != 1 \
                or not isinstance(assign.targets[0].target, cst.Name) \
                or not isinstance(assign.value, cst.ListComp):
            return None
        comp = assign.value
        loop = comp.for_in
        if loop.inner_for_in is not None or len(loop.ifs) > 1 or loop.asynchronous:
            return None
        target = assign.targets[0].target.value
        append = cst.SimpleStatementLine([cst.Expr(cst.Call(
            cst.Attribute(cst.Name(target), cst.Name("append")), [cst.Arg(comp.elt)]))])
        inner: cst.BaseStatement = append
        if loop.ifs:
            inner = cst.If(loop.ifs[0].test, cst.IndentedBlock([append]))
        start = statement.with_changes(body=[cst.Assign([cst.AssignTarget(cst.Name(target))],
                                                        cst.List([]))])
        return [start, cst.For(target=loop.target, iter=loop.iter,
                               body=cst.IndentedBlock([inner]))]


def comprehension_to_loop(code: str, entry: str | None, rng: random.Random) -> str | None:
    """``xs = [e for v in it if c]`` -> an explicit loop that appends."""
    module = _parse(code)
    if module is None:
        return None
    transformer = _ComprehensionToLoop()
    new = module.visit(transformer)
    return _changed(code, new.code) if transformer.count else None


class _NoComments(cst.CSTTransformer):
    def leave_TrailingWhitespace(self, original: cst.TrailingWhitespace,  # noqa: N802
                                 updated: cst.TrailingWhitespace) -> cst.TrailingWhitespace:
        return updated.with_changes(comment=None, whitespace=cst.SimpleWhitespace(""))

    def leave_EmptyLine(self, original: cst.EmptyLine,  # noqa: N802
                        updated: cst.EmptyLine) -> cst.EmptyLine | cst.RemovalSentinel:
        return cst.RemovalSentinel.REMOVE if updated.comment is not None else updated


def strip_comments(code: str, entry: str | None, rng: random.Random) -> str | None:
    """Every comment removed; the rest of the text byte for byte."""
    module = _parse(code)
    if module is None:
        return None
    return _changed(code, module.visit(_NoComments()).code)


def reformat(code: str, entry: str | None, rng: random.Random) -> str | None:
    """The program as ``ast.unparse`` prints it: one canonical layout, no comments."""
    try:
        return _changed(code, ast.unparse(ast.parse(code)) + "\n")
    except (SyntaxError, ValueError, RecursionError):
        return None


TRANSFORMS: dict[str, Transform] = {
    "rename_locals": rename_locals, "extract_helper": extract_helper,
    "loop_to_comprehension": loop_to_comprehension,
    "comprehension_to_loop": comprehension_to_loop, "strip_comments": strip_comments,
    "reformat": reformat,
}


def apply_chain(code: str, names: list[str], entry: str | None,
                rng: random.Random) -> tuple[str, list[str]]:
    """``code`` through each named transform in turn (those that apply), and which did."""
    applied: list[str] = []
    for name in names:
        new = TRANSFORMS[name](code, entry, rng)
        if new is not None:
            code, applied = new, [*applied, name]
    return code, applied
