"""Generator parameters, declared once: validated, coerced and documented from the same place.

Each generator class declares ``params: ClassVar[tuple[Param, ...]]``. :func:`check_params`
checks a ``params`` table (a pipeline file's, or ``--param KEY=VALUE`` pairs) against it
before any work: unknown keys, types, choices and ranges are errors that name where they
are. Strings are converted to the declared type (``"3"`` -> 3, ``"true"`` -> True), because
``--param`` values are strings; a value of another type (``samples = 4.5`` for an integer,
``rounds = true``) is an error. A plugin generator that declares no ``params`` gets its table
unchecked.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from codesynth.errors import UserError

_KIND_NAMES = {int: "an integer", float: "a number", bool: "true or false", str: "a string",
               list: "a list of strings (or one comma-separated string)"}
_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


@dataclass(frozen=True)
class Param:
    """One parameter of a generator. ``default`` None means computed (``help`` says how)."""

    name: str
    kind: type
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None

    def normalize(self, value: Any, where: str) -> Any:
        """``value`` as this parameter's type, checked; a UserError starting with ``where``."""
        converted = _convert(self.kind, value)
        if self.kind is list:
            wrong = [item for item in converted or () if self.choices
                     and item not in self.choices]
            if converted is None or wrong or not converted:
                raise UserError(f"{where}: expected a non-empty list of "
                                f"{', '.join(self.choices) or 'strings'}, got {value!r}")
            return converted
        if converted is None and self.choices:
            raise UserError(f"{where}: expected one of {', '.join(self.choices)}, "
                            f"got {value!r}")
        if converted is None:
            raise UserError(f"{where}: expected {_KIND_NAMES.get(self.kind, self.kind.__name__)}"
                            f", got {value!r}")
        if self.choices and converted not in self.choices:
            raise UserError(f"{where}: expected one of {', '.join(self.choices)}, "
                            f"got {value!r}")
        if self.minimum is not None and converted < self.minimum:
            raise UserError(f"{where}: must be at least {self.minimum:g}, got {value!r}")
        if self.maximum is not None and converted > self.maximum:
            raise UserError(f"{where}: must be at most {self.maximum:g}, got {value!r}")
        return converted

    def describe(self) -> str:
        """``name`` (type, default): help; one line of ``generate --help``."""
        kind = "|".join(self.choices) if self.choices else self.kind.__name__
        if self.kind is list:
            kind = f"list of {kind}" if self.choices else "list"
        default = "computed" if self.default is None else repr(self.default)
        bounds = []
        if self.minimum is not None:
            bounds.append(f">= {self.minimum:g}")
        if self.maximum is not None:
            bounds.append(f"<= {self.maximum:g}")
        limits = f", {' and '.join(bounds)}" if bounds else ""
        return f"{self.name} ({kind}, default {default}{limits}): {self.help}"


def _convert(kind: type, value: Any) -> Any:
    """``value`` as ``kind``, or None when it is not one (a string is parsed)."""
    if kind is list:  # a TOML/YAML list of strings, or "a,b,c" from --param
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            return None
        return [i.strip() for i in items if i.strip()]
    if isinstance(value, str) and kind is not str:
        text = value.strip()
        if kind is bool:
            lowered = text.lower()
            return True if lowered in _TRUE else False if lowered in _FALSE else None
        try:
            number = int(text) if kind is int else float(text) if kind is float else None
        except ValueError:
            return None
        return number if number is None or math.isfinite(number) else None
    if kind is bool:
        return value if isinstance(value, bool) else None
    if isinstance(value, bool):
        return None  # True is an int in Python, never a number here
    if kind is int:
        return value if isinstance(value, int) else None
    if kind is float:
        ok = isinstance(value, int | float) and math.isfinite(value)
        return float(value) if ok else None
    return value if isinstance(value, kind) else None


def declared(generator: Any) -> tuple[Param, ...] | None:
    """The parameters a generator class declares, or None for a plugin that declares none."""
    params = getattr(generator, "params", None)
    return tuple(params) if params is not None else None


def normalize_all(schema: Iterable[Param], params: Mapping[str, Any],
                  where: str) -> dict[str, Any]:
    """``params`` checked against ``schema``: unknown keys are errors; values normalized."""
    specs = {p.name: p for p in schema}
    if not isinstance(params, Mapping):
        raise UserError(f"{where} params: expected a table, got {params!r}")
    result = {}
    for key, value in params.items():
        spec = specs.get(key)
        if spec is None:
            known = ", ".join(specs) or "none"
            raise UserError(f"{where} params.{key}: unknown parameter (known: {known})")
        result[key] = spec.normalize(value, f"{where} params.{key}")
    return result


def check_params(method: str, params: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Validate generator ``method``'s ``params`` before any work; return them normalized.

    ``where`` names the step, and starts every message: with ``where`` =
    ``"seeds/pipeline.toml: [generate #2]"``, a bad value reads
    ``seeds/pipeline.toml: [generate #2] params.rounds: expected an integer, got 'x'``, and
    an unknown method ``seeds/pipeline.toml: [generate #2] method: unknown generator 'x'
    (known: ...)``. Raises :class:`~codesynth.errors.UserError` for an unknown method, an
    unknown key (listing the known ones), a wrong type, choice or range.
    """
    from codesynth.registry import generators

    try:
        generator = generators.get(method)
    except UserError as exc:
        raise UserError(f"{where} method: {exc}") from None
    schema = declared(generator)
    if schema is None:
        return dict(params)
    return normalize_all(schema, params, where)
