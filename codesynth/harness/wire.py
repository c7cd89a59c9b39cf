"""The judge and the judged talk in tagged JSON, never pickle or marshal.

Values cross by value when they are plain data (``None``, ``bool``, ``int``, ``float``,
``complex``, ``str``, ``bytes``, ``bytearray``, ``list``, ``tuple``, ``dict``, ``set``,
``frozenset``, ``range``, ``slice`` and a few stdlib containers, nested), exactly by type: a
subclass of ``str`` is not plain data. Everything else crosses as a reference (``#h``: an
object of the sender, ``#r``: an object of the receiver it sent before, ``#cb``: a callable
of the judge, ``#ref``: a standard-library object, found by name on both sides).

Whatever the other side sends, decoding raises ``Malformed`` or returns a value: it never
runs code of the sender and never builds an object of a type the sender chose. Messages
are framed, capped and read under a deadline (``rpc.Channel``).
"""

from __future__ import annotations

import base64
import collections
import decimal
import fractions
import sys
from collections.abc import Callable
from typing import Any

MAX_MESSAGE = 32 << 20  # bytes of one message
MAX_DEPTH = 100  # nesting of one value
MAX_ITEMS = 2_000_000  # elements in one message
_SCALARS = (type(None), bool, int, float, str)
_BIG = 1 << 12000  # ints beyond ~3600 digits cross as hex (str() of them is capped)
_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ()))
# Classes and functions cross by name only from these modules: the other side then uses its
# own. Elsewhere in the standard library are classes whose instances equal anything
# (``unittest.mock.ANY``'s): a program must not make the judge build one of those.
REF_MODULES = frozenset({
    "builtins", "math", "cmath", "collections", "itertools", "functools", "operator",
    "string", "re", "heapq", "bisect", "decimal", "fractions", "random", "statistics",
    "datetime", "typing", "json", "copy", "unicodedata", "textwrap", "array", "numbers",
    "dataclasses", "enum", "calendar", "time", "hashlib", "base64", "struct", "binascii"})



def plain_name(name: object) -> bool:
    """A name the judge takes from the program: an identifier, not ``__dunder__``."""
    return type(name) is str and name.isidentifier() and not (
        name.startswith("__") and name.endswith("__"))

class Malformed(Exception):
    """The peer sent something this protocol does not allow."""


class TooBig(Exception):
    """A value is too deep, too large or circular to cross by value."""


class Gone(Exception):
    """The peer closed the connection or missed the deadline."""


def stdlib_ref(obj: Any) -> tuple[str, str] | None:
    """(module, name) when ``obj`` is one of ``REF_MODULES`` (or a module in one), or an
    allowed class or function of one, that the other side can find by name. Any other
    module stays a handle: ``import pickle as json`` must not give the tests the judge's
    ``pickle`` to call on what the program made."""
    try:
        if type(obj).__name__ == "module":
            name = obj.__name__
            return (name, "") if name.split(".")[0] in REF_MODULES else None
        module, name = obj.__module__, obj.__qualname__
    except Exception:  # noqa: BLE001 - hostile attributes
        return None
    if not isinstance(module, str) or not isinstance(name, str) or "." in name:
        return None
    if module.split(".")[0] not in REF_MODULES or not _allowed(module, name):
        return None
    found = sys.modules.get(module)
    return (module, name) if found is not None and getattr(found, name, None) is obj else None


# Of ``builtins``, only these cross by name: never ``eval``, ``exec``, ``compile``,
# ``__import__``, ``open``, ``getattr`` and the like. A program that names one of those as
# a function must not have the judge run it on a value the program made (a test doing
# ``decode(encode(x))`` with ``decode = eval``): it stays a handle, run by the program.
SAFE_BUILTINS = frozenset({
    "abs", "all", "any", "ascii", "bin", "bool", "bytearray", "bytes", "callable", "chr",
    "classmethod", "complex", "dict", "divmod", "enumerate", "filter", "float", "format",
    "frozenset", "hash", "hex", "id", "int", "isinstance", "issubclass", "iter", "len",
    "list", "map", "max", "min", "next", "object", "oct", "ord", "pow", "print", "property",
    "range", "repr", "reversed", "round", "set", "slice", "sorted", "staticmethod", "str",
    "sum", "super", "tuple", "type", "zip"})
_UNSAFE = frozenset({("operator", "attrgetter"), ("operator", "methodcaller"),
                     ("typing", "get_type_hints"), ("typing", "ForwardRef")})


def _allowed(module: str, name: str) -> bool:
    if module == "builtins":
        return name in SAFE_BUILTINS or _is_exception(name)
    return (module, name) not in _UNSAFE


def _is_exception(name: str) -> bool:
    import builtins

    found = getattr(builtins, name, None)
    return isinstance(found, type) and issubclass(found, BaseException)


def resolve_ref(module: Any, name: Any) -> Any:
    if not isinstance(module, str) or not isinstance(name, str):
        raise Malformed("bad reference")
    top = module.split(".")[0]
    public = all(part.isidentifier() and not part.startswith("_")
                 for part in [*module.split("."), *([name] if name else [])])
    if not public or top not in REF_MODULES or top not in _STDLIB or name and \
            not _allowed(module, name):
        raise Malformed(f"reference to {module[:80]}.{name[:80]}: not allowed")
    import importlib
    import types

    try:
        found = importlib.import_module(module)
        value = getattr(found, name) if name else found
    except Exception as exc:  # noqa: BLE001
        raise Malformed(f"cannot resolve {module[:80]}.{name[:80]}: {exc!r}"[:300]) from None
    # Only what the allowlisted modules define themselves (``collections._sys`` is not
    # ``collections``'s): a module of the allowlist, or a class or function of one.
    home = value.__name__ if isinstance(value, types.ModuleType) else \
        getattr(value, "__module__", None)
    if not isinstance(home, str) or home.split(".")[0].lstrip("_") not in REF_MODULES:
        raise Malformed(f"reference to {module[:80]}.{name[:80]}: not allowed")
    return value


class Encoder:
    """Plain data by value; ``export(obj)`` gives the tagged reference of anything else."""

    def __init__(self, export: Callable[[Any], dict[str, Any]]) -> None:
        self.export = export

    def value(self, obj: Any, budget: int | None = None) -> Any:
        """``budget``: at most this many containers and long strings (else ``TooBig``)."""
        return self._enc(obj, 0, [MAX_ITEMS - (budget or MAX_ITEMS)])

    def _enc(self, obj: Any, depth: int, count: list[int]) -> Any:
        kind = type(obj)
        if kind in _SCALARS:
            if kind is int and not -_BIG < obj < _BIG:
                return {"#": "int", "v": hex(obj)}
            if kind is str and len(obj) > 4096:
                count[0] += len(obj) >> 12
                if count[0] > MAX_ITEMS:
                    raise TooBig("too large")
            return obj
        count[0] += 1
        if depth > MAX_DEPTH or count[0] > MAX_ITEMS:
            raise TooBig("too deep, too large or circular")
        depth += 1
        if kind is list:
            return [self._enc(v, depth, count) for v in obj]
        if kind is tuple:
            return {"#": "tuple", "v": [self._enc(v, depth, count) for v in obj]}
        if kind is dict or kind is collections.OrderedDict or kind is collections.Counter:
            return {"#": _DICTS[kind], "v": [[self._enc(k, depth, count),
                                              self._enc(v, depth, count)]
                                             for k, v in obj.items()]}
        if kind is set or kind is frozenset:
            return {"#": kind.__name__, "v": [self._enc(v, depth, count) for v in obj]}
        if kind is bytes or kind is bytearray:
            count[0] += len(obj) >> 12
            if count[0] > MAX_ITEMS:
                raise TooBig("too large")
            return {"#": kind.__name__, "v": base64.b64encode(obj).decode("ascii")}
        if kind is complex:
            return {"#": "complex", "v": [obj.real, obj.imag]}
        if kind is range:
            return {"#": "range", "v": [obj.start, obj.stop, obj.step]}
        if kind is slice:
            return {"#": "slice", "v": [self._enc(obj.start, depth, count),
                                        self._enc(obj.stop, depth, count),
                                        self._enc(obj.step, depth, count)]}
        if kind is collections.deque:
            return {"#": "deque", "v": [self._enc(v, depth, count) for v in obj],
                    "max": obj.maxlen}
        if kind is collections.defaultdict and obj.default_factory in _FACTORIES:
            return {"#": "defaultdict", "f": obj.default_factory.__name__,
                    "v": [[self._enc(k, depth, count), self._enc(v, depth, count)]
                          for k, v in obj.items()]}
        if kind is fractions.Fraction:
            return {"#": "Fraction", "v": [obj.numerator, obj.denominator]}
        if kind is decimal.Decimal:
            return {"#": "Decimal", "v": str(obj)}
        if obj is Ellipsis:
            return {"#": "Ellipsis"}
        return self.export(obj)


_DICTS = {dict: "dict", collections.OrderedDict: "OrderedDict", collections.Counter: "Counter"}
_FACTORIES = {int: "int", list: "list", set: "set", dict: "dict", str: "str", float: "float",
              tuple: "tuple"}
_FACTORY_BY_NAME = {name: kind for kind, name in _FACTORIES.items()}


class Decoder:
    """The inverse of :class:`Encoder`; ``imported(tagged)`` turns a reference into an object
    (it raises ``Malformed`` for a reference it does not accept)."""

    def __init__(self, imported: Callable[[dict[str, Any]], Any]) -> None:
        self.imported = imported

    def value(self, data: Any) -> Any:
        return self._dec(data, 0)

    def _dec(self, data: Any, depth: int) -> Any:
        kind = type(data)
        if kind in _SCALARS:
            return data
        if depth > MAX_DEPTH + 2:
            raise Malformed("too deep")
        depth += 1
        if kind is list:
            return [self._dec(v, depth) for v in data]
        if kind is not dict:
            raise Malformed(f"unexpected {kind.__name__}")
        tag = data.get("#")
        items = data.get("v")
        try:
            if tag in ("tuple", "set", "frozenset", "deque"):
                values = [self._dec(v, depth) for v in _list(items)]
                if tag == "deque":
                    maxlen = data.get("max")
                    if maxlen is not None and type(maxlen) is not int:
                        raise Malformed("bad deque")
                    return collections.deque(values, maxlen)
                return {"tuple": tuple, "set": set, "frozenset": frozenset}[tag](values)
            if tag in ("dict", "OrderedDict", "Counter", "defaultdict"):
                pairs = [(self._dec(k, depth), self._dec(v, depth))
                         for k, v in map(_pair, _list(items))]
                if tag == "defaultdict":
                    factory = _FACTORY_BY_NAME.get(data.get("f"))  # type: ignore[arg-type]
                    if factory is None:
                        raise Malformed("bad defaultdict")
                    return collections.defaultdict(factory, pairs)
                if tag == "Counter":
                    return collections.Counter(dict(pairs))
                return {"dict": dict, "OrderedDict": collections.OrderedDict}[tag](pairs)
            if tag in ("bytes", "bytearray"):
                raw = base64.b64decode(_str(items).encode("ascii"), validate=True)
                return raw if tag == "bytes" else bytearray(raw)
            if tag == "int":
                return int(_str(items), 16)
            if tag == "complex":
                real, imag = _list(items)
                return complex(_float(real), _float(imag))
            if tag == "range":
                start, stop, step = (_int(v) for v in _list(items))
                return range(start, stop, step)
            if tag == "slice":
                start, stop, step = (self._dec(v, depth) for v in _list(items))
                return slice(start, stop, step)
            if tag == "Fraction":
                num, den = (_int(v) for v in _list(items))
                return fractions.Fraction(num, den)
            if tag == "Decimal":
                return decimal.Decimal(_str(items))
            if tag == "Ellipsis":
                return Ellipsis
        except Malformed:
            raise
        except Exception as exc:  # noqa: BLE001 - wrong arity, bad literal, unhashable key
            raise Malformed(f"bad {str(tag)[:20]}: {exc!r}"[:200]) from None
        return self.imported(data)


def _list(value: Any) -> list[Any]:
    if type(value) is not list:
        raise Malformed("expected a list")
    return value


def _pair(value: Any) -> list[Any]:
    if type(value) is not list or len(value) != 2:
        raise Malformed("expected a pair")
    return value


def _str(value: Any) -> str:
    if type(value) is not str:
        raise Malformed("expected a string")
    return value


def _int(value: Any) -> int:
    if type(value) is not int:
        raise Malformed("expected an int")
    return value


def _float(value: Any) -> float:
    if type(value) not in (int, float):
        raise Malformed("expected a number")
    return float(value)
