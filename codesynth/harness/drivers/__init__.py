"""Per-language drivers: the program plus generated code that runs the tests' calls.

``driver_form(language, code, plan)`` gives the files to build for the equality-assertion
form (see ``harness/calls``): the program, made callable (its own ``main`` renamed, Go's
package made ``main``), and a driver that reads a start index on stdin, evaluates calls
``start..N-1`` in order and writes one line per call to fd 3: ``<index>\\t<json>\\n``, the
JSON being the RESULT (never an expected value: the driver holds none). A call that raises
writes ``{"__error__": message}`` (``"kind": "memory"`` for an allocation failure).

Arguments are rendered as each language's literals, as MultiPL-E's translators do, with
types from the tests' typed stub (``def f(x: List[float]) -> int: ...``) where there is one
and from the literals otherwise (a position where any call passes a float is a float, one
where any passes None is optional). Go and Java convert the rendered values to the
function's declared parameter types by reflection; C++, Rust and TypeScript let the
compiler infer them from the function's signature.

``native_form(language, code, nonce_fd)`` gives the files for a test block in the
program's own language (HumanEval-X's ``test``), with the completion evidence (see
``drivers/native``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from codesynth.harness.calls import Call, Plan


class Unrenderable(ValueError):
    """A value the target language's translation cannot express."""


@dataclass
class Form:
    source: str  # the text of the language's source file (the program, maybe with a driver)
    files: dict[str, str] = field(default_factory=dict)  # more files beside it
    compile: list[str] | None = None  # replaces the language's compile command
    run: list[str] | None = None  # replaces its run command
    env: dict[str, str] = field(default_factory=dict)  # added to the language's environment


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def pascal(name: str) -> str:
    text = camel(name)
    return text[:1].upper() + text[1:]


def resolve(name: str, code: str, pattern: str) -> str:
    """The program's spelling of ``name``: as is, camelCase or PascalCase, whichever the
    program defines (``pattern`` has one ``{}`` for the name), else ``name``."""
    for candidate in (name, camel(name), pascal(name)):
        if re.search(pattern.format(re.escape(candidate)), code, re.MULTILINE):
            return candidate
    return name


def type_of(value: Any) -> Any:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, tuple):
        return ("tuple", tuple(type_of(v) for v in value))
    if isinstance(value, list):
        return ("list", join([type_of(v) for v in value]))
    if isinstance(value, dict):
        return ("dict", join([type_of(k) for k in value]),
                join([type_of(v) for v in value.values()]))
    return "any"


def join(types: list[Any]) -> Any:
    """The type that holds values of all of ``types`` (unknown parts: "any")."""
    known = [t for t in types if t != "any"]
    if not known:
        return "any"
    optional = any(t == "none" or (isinstance(t, tuple) and t[0] == "opt") for t in known)
    inner = [t[1] if isinstance(t, tuple) and t[0] == "opt" else t for t in known if t != "none"]
    if not inner:
        return ("opt", "any") if optional else "none"
    first = inner[0]
    if all(t in ("int", "float") for t in inner):
        result: Any = "float" if "float" in inner else "int"
    elif all(t == first for t in inner) or not isinstance(first, tuple):
        result = first
    elif all(isinstance(t, tuple) and t[0] == first[0] for t in inner):
        if first[0] == "list":
            result = ("list", join([t[1] for t in inner]))
        elif first[0] == "dict":
            result = ("dict", join([t[1] for t in inner]), join([t[2] for t in inner]))
        elif first[0] == "tuple" and len({len(t[1]) for t in inner}) == 1:
            columns = zip(*(t[1] for t in inner), strict=True)
            result = ("tuple", tuple(join(list(parts)) for parts in columns))
        else:
            result = first
    else:
        result = first
    return ("opt", result) if optional else result


def argument_types(plan: Plan, function: str) -> list[Any]:
    """Per parameter of ``function``: its type (the stub's where typed, joined with the
    literals the calls pass)."""
    calls = [c for c in plan.calls if c.function == function]
    count = max((len(c.args) for c in calls), default=0)
    stub = plan.signatures.get(function, ([], "any"))[0]
    types = []
    for index in range(count):
        seen = [type_of(c.args[index]) for c in calls if index < len(c.args)]
        declared = stub[index] if index < len(stub) else "any"
        types.append(merge(declared, join(seen)))
    return types


def merge(declared: Any, seen: Any) -> Any:
    """The declared type, its unknown parts filled in from the literals."""
    if declared == "any":
        return seen
    if isinstance(declared, tuple) and isinstance(seen, tuple) and seen[0] == "opt" \
            and declared[0] != "opt":
        return merge(declared, seen[1])
    if isinstance(declared, tuple) and isinstance(seen, tuple) and declared[0] == seen[0]:
        if declared[0] in ("list", "opt"):
            return (declared[0], merge(declared[1], seen[1]))
        if declared[0] == "dict":
            return ("dict", merge(declared[1], seen[1]), merge(declared[2], seen[2]))
        if declared[0] == "tuple" and len(declared[1]) == len(seen[1]):
            return ("tuple", tuple(merge(d, s) for d, s in zip(declared[1], seen[1], strict=True)))
    if isinstance(declared, tuple) and declared[0] == "opt":
        return ("opt", merge(declared[1], seen))
    return declared


def driver_form(language: str, code: str, plan: Plan) -> Form:
    from codesynth.harness.drivers import cpp, go, java, javascript, rust

    makers = {"cpp": cpp.driver, "rust": rust.driver, "go": go.driver, "java": java.driver,
              "javascript": javascript.driver, "typescript": javascript.typescript_driver}
    maker = makers.get(language)
    if maker is None:
        raise Unrenderable(f"no equality-assertion driver for {language}")
    return maker(code, plan)  # type: ignore[no-any-return]


def functions(plan: Plan) -> list[str]:
    return sorted({c.function for c in plan.calls})


__all__ = ["Call", "Form", "Plan", "Unrenderable", "argument_types", "camel", "driver_form",
           "functions", "join", "pascal", "resolve", "type_of"]
