"""Proxies: the judge's handles on the program's objects (see ``remote``).

Every operation on a :class:`Remote` is one request to the judged process; nothing of the
program's object runs here. Comparisons are noted with the session first (``suspicious``,
``strict``).
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from codesynth.harness.wire import plain_name

if TYPE_CHECKING:
    from codesynth.harness.remote import Session

_SYMBOLS = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">=",
            "contains": "in"}


def _binary(name: str, reflected: bool = False) -> Callable[[Remote, Any], Any]:
    symbol = _OPERATORS.get(name, name)

    def method(self: Remote, other: Any) -> Any:
        # The program's operator sees the test's value and returns what it likes: in
        # ``abs(result - expected) < tol`` it decides the verdict as ``==`` would.
        plain = type(other) is not Remote
        other_name = type(other).__name__ if plain else f"program object {other._t}"
        self._s.note(f"{self._t} {symbol} {other_name}: the program's {self._t} computes the "
                     "result", plain)
        return self._s.apply(name, [other, self] if reflected else [self, other])
    return method


def _number(name: str) -> Callable[..., Any]:
    def method(self: Remote, *args: Any) -> Any:
        # ``abs(result) < tol``, ``float(result) == x``: the program decides the number.
        self._s.note(f"{name}() of {self._t}: the program's {self._t} decides the number",
                     True)
        return self._s.apply(name, [self, *args])
    return method


_OPERATORS = {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "floordiv": "//",
              "mod": "%", "pow": "**", "matmul": "@", "lshift": "<<", "rshift": ">>",
              "and_": "&", "or_": "|", "xor": "^", "divmod": "divmod"}


def _compare(name: str) -> Callable[[Remote, Any], Any]:
    def method(self: Remote, other: Any) -> Any:
        plain = type(other) is not Remote
        other_name = type(other).__name__ if plain else f"program object {other._t}"
        self._s.note(f"{self._t} {_SYMBOLS[name]} {other_name}: the program's {self._t} "
                     f"decides the comparison", plain)
        return self._s.apply(name, [self, other])
    return method


class Remote:
    """A handle to an object of the program."""

    __slots__ = ("_s", "_id", "_t", "__weakref__")

    def __init__(self, session: Session, ident: int, type_name: str) -> None:
        object.__setattr__(self, "_s", session)
        object.__setattr__(self, "_id", ident)
        object.__setattr__(self, "_t", type_name)

    def __getattr__(self, name: str) -> Any:
        return self._s.get(self._id, name)

    def __setattr__(self, name: str, value: Any) -> None:
        self._s.set(self._id, name, value)

    def __delattr__(self, name: str) -> None:
        self._s.delete(self._id, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._s.call(self._id, args, kwargs)

    def _text(self, function: str) -> str:
        text = self._s.apply(function, [self])
        return text if type(text) is str else f"<{self._t} object of the program>"

    def __repr__(self) -> str:
        return self._text("repr")

    def __str__(self) -> str:
        return self._text("str")

    def __format__(self, spec: str) -> str:
        text = self._s.apply("format", [self, spec])
        return text if type(text) is str else self._text("str")

    def __len__(self) -> int:
        return self._s.apply("len", [self])  # type: ignore[no-any-return]

    def __iter__(self) -> Any:
        return self._s.apply("iter", [self])

    def __next__(self) -> Any:
        return self._s.apply("next", [self])

    def __reversed__(self) -> Any:
        return self._s.apply("reversed", [self])

    def __getitem__(self, key: Any) -> Any:
        return self._s.apply("getitem", [self, key])

    def __setitem__(self, key: Any, value: Any) -> None:
        self._s.apply("setitem", [self, key, value])

    def __delitem__(self, key: Any) -> None:
        self._s.apply("delitem", [self, key])

    def __contains__(self, item: Any) -> bool:
        self._s.note(f"in {self._t}: the program's {self._t} decides membership",
                     type(item) is not Remote)
        return bool(self._s.apply("contains", [self, item]))

    def __hash__(self) -> int:
        value = self._s.apply("hash", [self])
        return value if type(value) is int else 0

    def __bool__(self) -> bool:
        self._s.note(f"truth value of {self._t}: the program decides it", False)
        return self._s.apply("bool", [self]) is True

    __index__ = _number("index")
    __int__ = _number("int")
    __float__ = _number("float")
    __complex__ = _number("complex")
    __neg__ = _number("neg")
    __pos__ = _number("pos")
    __abs__ = _number("abs")
    __invert__ = _number("invert")

    def __round__(self, digits: int | None = None) -> Any:
        return _number("round")(self, *([] if digits is None else [digits]))

    def __enter__(self) -> Any:
        return self.__getattr__("__enter__")()

    def __exit__(self, *exc: Any) -> Any:
        return self.__getattr__("__exit__")(*[None if isinstance(e, types.TracebackType)
                                              else e for e in exc])

    def __instancecheck__(self, instance: Any) -> bool:
        return self._s.apply("isinstance", [instance, self]) is True

    def __subclasscheck__(self, cls: Any) -> bool:
        return self._s.apply("issubclass", [cls, self]) is True

    def __dir__(self) -> list[str]:
        names = self._s.apply("dir", [self])
        return [n for n in names if type(n) is str] if type(names) is list else []

    __eq__ = _compare("eq")  # type: ignore[assignment]
    __ne__ = _compare("ne")  # type: ignore[assignment]
    __lt__ = _compare("lt")
    __le__ = _compare("le")
    __gt__ = _compare("gt")
    __ge__ = _compare("ge")


for _name, _op in (("add", "add"), ("sub", "sub"), ("mul", "mul"), ("truediv", "truediv"),
                   ("floordiv", "floordiv"), ("mod", "mod"), ("pow", "pow"),
                   ("matmul", "matmul"), ("lshift", "lshift"), ("rshift", "rshift"),
                   ("and", "and_"), ("or", "or_"), ("xor", "xor"), ("divmod", "divmod")):
    setattr(Remote, f"__{_name}__", _binary(_op))
    setattr(Remote, f"__r{_name}__", _binary(_op, reflected=True))


class _Forwarded:
    """``__module__`` and ``__doc__`` are attributes of every class: on a handle, they are
    the program object's (the class itself keeps its own)."""

    def __init__(self, name: str, own: Any) -> None:
        self.name, self.own = name, own

    def __get__(self, obj: Remote | None, cls: Any = None) -> Any:
        return self.own if obj is None else obj._s.get(obj._id, self.name)


Remote.__doc__ = _Forwarded("__doc__", Remote.__doc__)  # type: ignore[assignment]
Remote.__module__ = _Forwarded("__module__", __name__)  # type: ignore[assignment]


class RemoteModule(types.ModuleType):
    """``solution`` in the judge: the program's top-level names as they were after it loaded
    (plain data by value, everything else as handles); other names are asked for."""

    def __init__(self, session: Session, names: dict[str, Any]) -> None:
        super().__init__("solution")
        self.__dict__.update((n, v) for n, v in names.items() if plain_name(n))
        self.__dict__["__file__"] = "solution.py"
        self.__dict__["_cs_session"] = session

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        session: Session = self.__dict__["_cs_session"]
        return session.get(None, name)
