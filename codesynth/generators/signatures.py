"""The signature a translated function must have, in each language, from the tests.

A Python record whose tests are equality assertions (``harness/calls``) runs in another
language through a driver that passes the tests' literals to the function and reads back its
result: C++, Rust and TypeScript let the compiler type the literals from the function's
declaration, Go and Java convert them by reflection. The model translating the function must
therefore declare types that hold those literals. The types are the ones the drivers use
(:func:`codesynth.harness.drivers.argument_types`: the tests' typed stub where there is one,
else the literals), and the return type is the join of the expected values'. A part no literal
tells (an empty list) is an integer.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from codesynth.harness.calls import Plan
from codesynth.harness.drivers import argument_types, join, merge, type_of


@dataclass(frozen=True)
class Signature:
    name: str
    params: list[tuple[str, Any]]  # (name, type term)
    returns: Any  # type term; "none" when every call returns None


def signatures(plan: Plan, code: str) -> list[Signature]:
    """One per function the tests call, with parameter names from ``code``'s ``def`` (Python
    source) where found."""
    names = python_parameters(code)
    found = []
    for function in sorted({c.function for c in plan.calls}):
        types = argument_types(plan, function)
        given = names.get(function, [])
        params = [(given[i] if i < len(given) else f"arg{i}", t) for i, t in enumerate(types)]
        seen = join([type_of(c.expected) if c.tolerance is None or not c.tolerance.numeric
                     else "float"
                     for c in plan.calls if c.function == function])
        declared = plan.signatures.get(function, ([], "any"))[1]
        found.append(Signature(function, params, merge(declared, seen)))
    return found


def python_parameters(code: str) -> dict[str, list[str]]:
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return {}
    return {node.name: [a.arg for a in node.args.args if a.arg not in ("self", "cls")]
            for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def _opt(term: Any) -> tuple[bool, Any]:
    if isinstance(term, tuple) and term[0] == "opt":
        return True, term[1]
    return False, term


def rust(term: Any) -> str:
    optional, term = _opt(term)
    text = {"float": "f64", "bool": "bool", "str": "String", "none": "()"}.get(term, "i64") \
        if not isinstance(term, tuple) else (
            f"Vec<{rust(term[1])}>" if term[0] == "list" else
            f"HashMap<{rust(term[1])}, {rust(term[2])}>" if term[0] == "dict" else
            "(" + ", ".join(rust(t) for t in term[1]) + ("," if len(term[1]) == 1 else "") + ")")
    return f"Option<{text}>" if optional else text


def go(term: Any) -> str:
    optional, term = _opt(term)
    text = {"float": "float64", "bool": "bool", "str": "string", "none": "interface{}"}.get(
        term, "int") if not isinstance(term, tuple) else (
            f"[]{go(term[1])}" if term[0] == "list" else
            f"map[{go(term[1])}]{go(term[2])}" if term[0] == "dict" else "[]interface{}")
    return f"*{text}" if optional and not text.startswith(("[", "map", "interface")) else text


def java(term: Any, boxed: bool = False) -> str:
    optional, term = _opt(term)
    boxed = boxed or optional
    if not isinstance(term, tuple):
        plain = {"float": ("double", "Double"), "bool": ("boolean", "Boolean"),
                 "str": ("String", "String"), "none": ("Object", "Object")}.get(
            term, ("long", "Long"))
        return plain[1] if boxed else plain[0]
    if term[0] == "list":
        return f"List<{java(term[1], True)}>"
    if term[0] == "dict":
        return f"Map<{java(term[1], True)}, {java(term[2], True)}>"
    return "List<Object>"


def cpp(term: Any) -> str:
    optional, term = _opt(term)
    text = {"float": "double", "bool": "bool", "str": "std::string", "none": "void"}.get(
        term, "long long") if not isinstance(term, tuple) else (
            f"std::vector<{cpp(term[1])}>" if term[0] == "list" else
            f"std::map<{cpp(term[1])}, {cpp(term[2])}>" if term[0] == "dict" else
            "std::tuple<" + ", ".join(cpp(t) for t in term[1]) + ">")
    return f"std::optional<{text}>" if optional else text


def typescript(term: Any) -> str:
    optional, term = _opt(term)
    text = {"float": "number", "int": "number", "bool": "boolean", "str": "string",
            "none": "null"}.get(term, "number") if not isinstance(term, tuple) else (
        f"{_grouped(typescript(term[1]))}[]" if term[0] == "list" else
        f"Record<{'string' if term[1] == 'str' else 'number'}, {typescript(term[2])}>"
        if term[0] == "dict" else "[" + ", ".join(typescript(t) for t in term[1]) + "]")
    return f"{text} | null" if optional else text


def _grouped(text: str) -> str:
    return f"({text})" if "|" in text else text


def declaration(language: str, sig: Signature) -> str:
    """The function's first line in ``language`` (what the model is asked to keep)."""
    params, ret, name = sig.params, sig.returns, sig.name
    if language == "rust":
        args = ", ".join(f"{p}: {rust(t)}" for p, t in params)
        return f"fn {name}({args})" + ("" if ret == "none" else f" -> {rust(ret)}")
    if language == "go":
        args = ", ".join(f"{p} {go(t)}" for p, t in params)
        if isinstance(ret, tuple) and ret[0] == "tuple":
            results = " (" + ", ".join(go(t) for t in ret[1]) + ")"
        else:
            results = "" if ret == "none" else f" {go(ret)}"
        return f"func {name}({args}){results}"
    if language == "java":
        args = ", ".join(f"{java(t)} {p}" for p, t in params)
        return f"public static {'void' if ret == 'none' else java(ret)} {name}({args})"
    if language == "cpp":
        args = ", ".join(f"{cpp(t)} {p}" for p, t in params)
        return f"{cpp(ret)} {name}({args})"
    if language == "typescript":
        args = ", ".join(f"{p}: {typescript(t)}" for p, t in params)
        return f"function {name}({args}): {'void' if ret == 'none' else typescript(ret)}"
    if language == "javascript":
        types = ", ".join(f"{p}: {typescript(t)}" for p, t in params)
        return f"// {name}: ({types}) => {typescript(ret)}\n" \
               f"function {name}({', '.join(p for p, _ in params)})"
    return f"def {name}({', '.join(p for p, _ in params)})"
