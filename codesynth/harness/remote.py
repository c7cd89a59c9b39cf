"""The judge's view of the program: proxies (handles) for the judged process's objects.

A :class:`Remote` stands for one object of the program. Every operation on it -- attribute
access, calls, iteration, ``len``, indexing, comparison, arithmetic, ``repr``/``str``, hashing
-- is one request to the judged process. Calls send their arguments by value and copy the
mutations of list, dict, set and bytearray arguments back into the judge's own objects.

Comparisons the program controls are recorded (``suspicious``): an ``==`` whose outcome the
program's ``__eq__`` decides is legal Python, and also what a reward hack looks like. With
``strict``, a handle compared with a builtin value fails the test instead.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable
from typing import Any

from codesynth.harness.proxy import Remote, RemoteModule
from codesynth.harness.rpc import (
    Channel,
    Endpoint,
    canonical,
    exception_record,
    rebuild_exception,
    remote_class,
)
from codesynth.harness.wire import (
    MAX_MESSAGE,
    Decoder,
    Encoder,
    Gone,
    Malformed,
    TooBig,
    plain_name,
    resolve_ref,
    stdlib_ref,
)

MAX_SUSPICIOUS = 50
# Names tests use as modules, which no program object may stand for (see Session._modules).
MODULE_NAMES = frozenset({
    "pytest", "hypothesis", "unittest", "math", "cmath", "re", "json", "itertools",
    "functools", "collections", "typing", "os", "sys", "decimal", "fractions", "statistics",
    "heapq", "bisect", "copy", "operator"})


class ProgramGone(BaseException):
    """The judged process ended (or stopped answering) while the tests needed it."""


class ProtocolBroken(BaseException):
    """The judged process sent what the protocol does not allow: the job fails."""


class StrictComparison(AssertionError):
    """``--strict``: a test compared a program object with a builtin value."""


class Session:
    """The judge's connection to one judged process."""

    def __init__(self, channel: Channel, strict: bool = False) -> None:
        self.endpoint = Endpoint(channel, self._callback)
        self.encoder = Encoder(self._export)
        self.decoder = Decoder(self._import)
        self.proxies: weakref.WeakValueDictionary[int, Remote] = weakref.WeakValueDictionary()
        self.callables: dict[int, Any] = {}
        self.callable_ids: dict[int, int] = {}
        self.classes: dict[type, int] = {}
        self.strict = strict
        self.test = ""  # the test running now, for the suspicious records
        self.suspicious: list[dict[str, str]] = []
        self.broken: str | None = None
        self.gone: str | None = None
        # Reads (and checks) the judged process's greeting; set by the judge, called once,
        # after the first request is sent: that request waits in the connection while the
        # judged process sets itself up, so neither side waits for the other to start.
        self.greeting: Callable[[], None] | None = None
        # Calls announced by the tests (``expect``): (handle, arguments, keywords) as sent.
        self.planned: list[tuple[int, str, str | None, dict[str, Any]]] = []
        self.sent = False  # the planned calls went out in one request
        self.streaming = False  # its answers are still coming (until "done")

    # -- references ------------------------------------------------------------------------
    def _export(self, obj: Any) -> dict[str, Any]:
        if type(obj) is Remote:
            if obj._s is not self:
                raise TypeError("a handle of another program")
            return {"#": "r", "v": obj._id}
        if isinstance(obj, type) and obj in self.classes:
            return {"#": "r", "v": self.classes[obj]}
        ref = stdlib_ref(obj)
        if ref is not None:
            return {"#": "ref", "m": ref[0], "n": ref[1]}
        if callable(obj):
            ident = self.callable_ids.get(id(obj))
            if ident is None or self.callables.get(ident) is not obj:
                ident = len(self.callables) + 1
                self.callables[ident] = obj
                self.callable_ids[id(obj)] = ident
            return {"#": "cb", "v": ident}
        raise TypeError(f"a {type(obj).__name__} of the tests cannot be passed to the program "
                        "(plain data, callables and the program's own objects can)")

    def _import(self, data: dict[str, Any]) -> Any:
        tag, ident = data.get("#"), data.get("v")
        if tag == "h":
            if type(ident) is not int:
                raise Malformed("bad handle")
            exc = data.get("exc")
            if exc is not None:
                if type(exc) is not dict:
                    raise Malformed("bad exception class")
                cls = remote_class(exc.get("mod"), exc.get("type"), exc.get("base"))
                self.classes.setdefault(cls, ident)
                return cls
            found = self.proxies.get(ident)
            if found is None:
                name = data.get("t")
                found = Remote(self, ident, name[:200] if type(name) is str else "?")
                self.proxies[ident] = found
            return found
        if tag == "ref":
            return resolve_ref(data.get("m"), data.get("n"))
        if tag == "r":
            if type(ident) is not int or ident not in self.callables:
                raise Malformed("unknown callable")
            return self.callables[ident]
        raise Malformed(f"unknown tag {str(tag)[:20]!r}")

    def encode(self, value: Any) -> Any:
        try:
            return self.encoder.value(value)
        except TooBig as exc:
            raise ValueError(f"a value too large to pass to the program: {exc}") from None

    # -- requests --------------------------------------------------------------------------
    def request(self, message: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        return self._exchange(message, lambda: self._round_trip(message))

    def _round_trip(self, message: dict[str, Any]) -> dict[str, Any]:
        if self.streaming:  # whatever the program still runs of a plan comes first
            self._drain()
        if self.greeting is None:
            return self.endpoint.request(message)
        with contextlib.suppress(Gone):  # then the greeting is missing too
            self.endpoint.channel.send(message)
        greeting, self.greeting = self.greeting, None
        greeting()
        return self.endpoint.reply()

    def _exchange(self, message: dict[str, Any], obtain: Callable[[], dict[str, Any]]
                  ) -> tuple[Any, dict[str, Any]]:
        """The answer to ``message`` (``obtain`` gets it), as the tests see it."""
        if self.broken is not None:
            raise ProtocolBroken(self.broken)
        if self.gone is not None:
            raise ProgramGone(self.gone)
        try:
            try:
                reply = obtain()
            except (Malformed, Gone):
                raise
            except BaseException as interruption:  # a signal handler of the tests, Ctrl-C
                # The answer to this request may still come: read as the answer to the next
                # one, it would be another call's result. No call is answered any more.
                self.broken = (f"a call to the program was interrupted by "
                               f"{type(interruption).__name__}: no later call can be trusted")
                raise
            if "x" in reply:
                exc = rebuild_exception(reply["x"], self.decoder.value)
                if isinstance(exc, (StopIteration, StopAsyncIteration)) \
                        and message.get("f") != "next":
                    self.note(f"{type(exc).__name__} raised by the program out of a call: it "
                              "ends the caller's iteration (map, filter, ...) early", False)
                raise exc
            if "v" not in reply:
                raise Malformed(f"the program answered: {str(reply.get('bad'))[:300]}")
            return self.decoder.value(reply["v"]), reply
        except Malformed as exc:
            self.broken = f"the program broke the protocol: {exc}"
            raise ProtocolBroken(self.broken) from None
        except Gone as exc:
            self.gone = f"the program is gone: {exc}"
            raise ProgramGone(self.gone) from None

    def load(self, code: str) -> dict[str, Any]:
        """The program's top-level names. Only plain public identifiers are taken: a name
        such as ``__builtins__`` or ``__path__`` would change how the judge runs the tests
        (the judged process filters them too, but it is the program's)."""
        names, _ = self.request({"op": "load", "code": code})
        if type(names) is not dict:
            self.broken = "the program answered the load with no names"
            raise ProtocolBroken(self.broken)
        return self._modules({name: value for name, value in names.items()
                              if plain_name(name)})

    def _modules(self, names: dict[str, Any]) -> dict[str, Any]:
        """A program *object* under the name of a standard-library module (or pytest's,
        hypothesis's) would decide what the tests' ``math.isclose`` or
        ``@pytest.mark.parametrize`` do, in tests that use the program's import (a star
        import, MBPP's tests). Such a name is the judge's module when the program's value is
        a module; when it is another object it is noted, and it is the module anyway for the
        names tests use as modules (``MODULE_NAMES``) or under ``--strict``. Plain data
        (a list called ``numbers``) cannot pretend anything and stays the program's."""
        import sys

        reserved = getattr(sys, "stdlib_module_names", frozenset()) | {"pytest", "hypothesis"}
        for name in [n for n in names if n in reserved and type(names[n]) is Remote]:
            own = sys.modules.get(name)
            if names[name]._t == "module":
                if own is not None:
                    names[name] = own
                continue
            self.note(f"the program binds {name} to its own {names[name]._t}", False)
            if own is not None and (name in MODULE_NAMES or self.strict):
                names[name] = own
        return names

    def get(self, ident: int | None, name: str) -> Any:
        return self.request({"op": "get", "h": ident, "n": name})[0]

    def set(self, ident: int | None, name: str, value: Any) -> None:
        self.request({"op": "set", "h": ident, "n": name, "a": self.encode(value)})

    def delete(self, ident: int | None, name: str) -> None:
        self.request({"op": "del", "h": ident, "n": name})

    def apply(self, function: str, args: list[Any]) -> Any:
        return self.request({"op": "apply", "f": function, "a": self.encode(args)})[0]

    # -- planned calls (see ``_plan``) ----------------------------------------------------
    def expect(self, bound: dict[str, Any], entries: Any, namespace: dict[str, Any]) -> None:
        """The tests will call the program as ``entries`` say, in that order (``bound``: the
        program's objects by the names the tests use; ``namespace``: the tests' globals,
        where a builtin a statement uses must not be redefined). Stops at the first entry
        that does not hold here."""
        self.planned, self.sent = [], False
        size = 0  # the request must cross in one message
        for callee, args, kwargs, names in entries:
            target = bound.get(callee)
            if type(target) is not Remote or target._s is not self or \
                    any(name in namespace for name in names):
                break
            try:
                message = self._call_message(target._id, args, kwargs)
            except Exception:  # noqa: BLE001 - not plain data after all: not planned
                break
            texts = (canonical(message["a"]),
                     None if message["k"] is None else canonical(message["k"]))
            size += len(texts[0]) + len(texts[1] or "") + 64
            if size > MAX_MESSAGE // 2:
                break
            self.planned.append((target._id, *texts, message))

    def _planned(self, message: dict[str, Any]) -> bool:
        """Whether ``message`` is the next planned call (else the plan is dropped)."""
        if not self.planned:
            return False
        ident, args, kwargs, _ = self.planned[0]
        if message["h"] == ident and canonical(message["a"]) == args and \
                (None if message["k"] is None else canonical(message["k"])) == kwargs:
            return True
        self.planned = []  # the tests went another way: the program's answers are skipped
        return False

    def _take_planned(self) -> dict[str, Any]:
        """The answer to the next planned call: sent with the others at the first of them;
        if the program stopped before it (an exception, an object of its own before), it
        is called now like any other."""
        _, _, _, message = self.planned.pop(0)
        if not self.sent:
            self.sent = True
            calls = [message, *(m for *_, m in self.planned)]
            self._round_trip_start({"op": "batch", "calls": [
                {"h": m["h"], "a": m["a"], "k": m["k"]} for m in calls]})
            self.streaming = True
        if self.streaming:
            reply = self.endpoint.reply()
            if "done" not in reply:
                return reply
            self.streaming = False
            self.planned = []
        return self._round_trip(message)

    def _round_trip_start(self, message: dict[str, Any]) -> None:
        """Send ``message`` (its answers are read later)."""
        if self.streaming:
            self._drain()
        if self.greeting is None:
            self.endpoint.channel.send(message)
            return
        with contextlib.suppress(Gone):
            self.endpoint.channel.send(message)
        greeting, self.greeting = self.greeting, None
        greeting()

    def _drain(self) -> None:
        """Read (and drop) the answers of planned calls the tests did not take."""
        while "done" not in self.endpoint.reply():
            pass
        self.streaming = False

    def _call_message(self, ident: int, args: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        return {"op": "call", "h": ident, "a": self.encode(list(args)),
                "k": {name: self.encode(value) for name, value in kwargs.items()}
                if kwargs else None}

    def call(self, ident: int, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        message = self._call_message(ident, args, kwargs)
        if self._planned(message):
            value, reply = self._exchange(message, self._take_planned)
        else:
            value, reply = self.request(message)
        back = reply.get("back")
        if back is not None:
            try:
                for where, raw in back:
                    original = args[where] if type(where) is int else kwargs[where]
                    sync(original, self.decoder.value(raw))
            except Malformed:
                raise
            except Exception as exc:  # noqa: BLE001 - a copy-back that names no argument
                self.broken = f"the program sent back a bad argument: {exc!r}"[:300]
                raise ProtocolBroken(self.broken) from None
        return value

    def _callback(self, message: dict[str, Any]) -> dict[str, Any]:
        """The program calls a callable the tests gave it."""
        try:
            function = self.callables.get(message.get("id"))  # type: ignore[arg-type]
            args, kwargs = self.decoder.value(message.get("a")), \
                self.decoder.value(message.get("k"))
            if message.get("op") != "cb" or function is None or type(args) is not list \
                    or type(kwargs) is not dict or not all(type(k) is str for k in kwargs):
                return {"bad": "bad callback request"}
        except Malformed as exc:
            return {"bad": str(exc)[:200]}
        try:
            return {"v": self.encode(function(*args, **kwargs))}
        except (ProgramGone, ProtocolBroken):
            raise
        except BaseException as exc:  # noqa: BLE001 - its type only: messages of the tests
            record = exception_record(exc, with_traceback=False)  # may hold expected values
            return {"x": {**record, "args": [], "str": ""}}

    # -- reward hacks ----------------------------------------------------------------------
    def note(self, what: str, builtin_operand: bool) -> None:
        entry = {"test": self.test, "what": what[:1000]}
        if entry not in self.suspicious and len(self.suspicious) < MAX_SUSPICIOUS:
            self.suspicious.append(entry)
        if self.strict and builtin_operand:
            raise StrictComparison(f"strict: {what}; with --strict a test compares builtin "
                                   "values only")


def sync(original: Any, new: Any) -> None:
    """Make ``original`` (the judge's argument) equal to ``new`` (its state after the call),
    in place, keeping the identity of nested containers where the shapes agree."""
    kind = type(original)
    if kind is not type(new):
        return
    if kind is list:
        if len(original) == len(new):
            for index, (old, value) in enumerate(zip(original, new, strict=True)):
                if type(old) in (list, dict, set, bytearray) and type(old) is type(value):
                    sync(old, value)
                else:
                    original[index] = value
        else:
            original[:] = new
    elif kind is dict:
        for key in [k for k in original if k not in new]:
            del original[key]
        for key, value in new.items():
            old = original.get(key)
            if type(old) in (list, dict, set, bytearray) and type(old) is type(value):
                sync(old, value)
            else:
                original[key] = value
    elif kind is set:
        original.clear()
        original.update(new)
    elif kind is bytearray:
        original[:] = new




__all__ = ["ProgramGone", "ProtocolBroken", "Remote", "RemoteModule", "Session",
           "StrictComparison", "sync"]
