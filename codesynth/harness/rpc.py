"""One end of the judge <-> judged connection, and exceptions crossing it.

Both processes run an :class:`Endpoint`: ``request`` sends a message and waits for its reply,
serving the requests the other side makes meanwhile (a program calling a callable the tests
passed it, or the tests calling back into the program from such a callable).

An exception crosses as a record: its class name, module, nearest builtin base, arguments
(when they are plain data), ``str()`` and traceback text, computed by the side that raised it.
The receiver raises the builtin class again when it is one, and otherwise a class of its own
with the same name deriving from that base: ``except ValueError`` and ``pytest.raises`` work,
and nothing of the sender's class (its ``__str__``, ``__eq__``, metaclass) runs on the receiver.
"""

from __future__ import annotations

import builtins
import json
import socket
import struct
import time
import traceback
from collections.abc import Callable
from typing import Any

from codesynth.harness.wire import MAX_MESSAGE, Encoder, Gone, Malformed, TooBig

_TEXT = 8000
_LEN = struct.Struct(">I")
Handler = Callable[[dict[str, Any]], dict[str, Any]]


_dumps = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode
_loads = json.loads
canonical = _dumps  # one text per value (1 and 1.0, True and 1 differ)


class Channel:
    """Framed JSON messages over a connected stream socket, each read under a deadline."""

    def __init__(self, sock: socket.socket, deadline: float | None = None) -> None:
        self.sock = sock
        self.deadline = deadline  # time.monotonic() value; None: wait as long as it takes
        self._buffer = bytearray()

    def send(self, message: dict[str, Any]) -> None:
        data = _dumps(message).encode("ascii")
        if len(data) > MAX_MESSAGE:
            raise TooBig(f"message of {len(data)} bytes")
        try:
            self.sock.sendall(_LEN.pack(len(data)) + data)
        except OSError as exc:
            raise Gone(f"the other side is gone ({exc})") from None

    def _fill(self, size: int) -> None:
        while len(self._buffer) < size:
            if self.deadline is not None:
                left = self.deadline - time.monotonic()
                if left <= 0:
                    raise Gone("no answer before the deadline")
                self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(max(1 << 16, size - len(self._buffer)))
            except TimeoutError:
                raise Gone("no answer before the deadline") from None
            except OSError as exc:
                raise Gone(f"the other side is gone ({exc})") from None
            if not chunk:
                raise Gone("the other side closed the connection")
            self._buffer += chunk

    def receive(self) -> dict[str, Any]:
        self._fill(_LEN.size)
        (size,) = _LEN.unpack_from(self._buffer)
        if size > MAX_MESSAGE:
            raise Malformed(f"a message of {size} bytes (the limit is {MAX_MESSAGE})")
        self._fill(_LEN.size + size)
        data = bytes(self._buffer[_LEN.size:_LEN.size + size])
        del self._buffer[:_LEN.size + size]
        try:
            message = _loads(data)
        except (ValueError, RecursionError) as exc:
            raise Malformed(f"not JSON: {exc}"[:200]) from None
        if type(message) is not dict:
            raise Malformed("a message must be an object")
        return message


class Endpoint:
    def __init__(self, channel: Channel, handler: Handler) -> None:
        self.channel = channel
        self.handler = handler

    def request(self, message: dict[str, Any]) -> dict[str, Any]:
        self.channel.send(message)
        return self.reply()

    def reply(self) -> dict[str, Any]:
        """The reply to the request sent last, serving the other side's requests meanwhile."""
        while True:
            incoming = self.channel.receive()
            if "op" not in incoming:
                return incoming
            self._answer(incoming)

    def serve(self) -> None:
        while True:
            self._answer(self.channel.receive())

    def _answer(self, message: dict[str, Any]) -> None:
        self.answer(self.handler(message))

    def answer(self, reply: dict[str, Any]) -> bool:
        """Send one answer; False if it was too large to cross (a MemoryError went)."""
        try:
            self.channel.send(reply)
        except TooBig as exc:
            self.channel.send({"x": exception_record(MemoryError(
                f"an answer too large to cross between the processes: {exc}"), False)})
            return False
        return True


def _plain_only(obj: Any) -> dict[str, Any]:
    raise TooBig("not plain data")


_PLAIN = Encoder(_plain_only)


def builtin_base(cls: type) -> type:
    for klass in cls.__mro__:
        if klass.__module__ == "builtins" and issubclass(klass, BaseException):
            return klass
    return BaseException


def safe_text(call: Callable[[], Any], limit: int = _TEXT) -> str:
    try:
        text = call()
        if type(text) is not str:
            text = "<not a string>"
    except BaseException as exc:  # noqa: BLE001 - a hostile __str__ / __repr__
        text = f"<failed: {type(exc).__name__}>"
    return text[:limit]


def exception_record(exc: BaseException, with_traceback: bool = True) -> dict[str, Any]:
    """What the receiver needs to raise an equivalent exception; computed here, capped."""
    cls = type(exc)
    try:
        args = _PLAIN.value(list(exc.args))
    except (TooBig, Exception):  # noqa: BLE001 - args that are not plain data
        args = None
    record = {"type": safe_text(lambda: cls.__name__, 200),
              "mod": safe_text(lambda: str(cls.__module__), 200),
              "base": builtin_base(cls).__name__, "args": args,
              "str": safe_text(lambda: str(exc))}
    if with_traceback:
        record["tb"] = safe_text(lambda: "".join(traceback.format_exception(exc)))[-_TEXT:]
    return record


_CLASSES: dict[tuple[str, str, str], type] = {}


def remote_class(module: Any, name: Any, base_name: Any) -> type[BaseException]:
    """The receiver's class for an exception class of the sender."""
    if not all(type(v) is str for v in (module, name, base_name)):
        raise Malformed("bad exception record")
    module, name = module[:200], name[:200]  # the sender's texts: bounded here
    base = getattr(builtins, base_name, None)
    if not (isinstance(base, type) and issubclass(base, BaseException)):
        raise Malformed(f"bad exception base {base_name[:40]!r}")
    if module == "builtins" and name == base_name:
        return base
    own = _standard(module, name)
    if own is not None and issubclass(own, base):
        return own
    key = (module, name, base_name)
    found = _CLASSES.get(key)
    if found is None:
        def __str__(self: BaseException) -> str:
            text = self.__dict__.get("_remote_str")
            return text if isinstance(text, str) else base.__str__(self)

        found = type(name, (base,), {"__module__": module, "__str__": __str__,
                                     "__remote__": True})
        _CLASSES[key] = found
    return found


# Standard-library modules whose exceptions steer a test framework (a skip, a debugger quit):
# raised by the program, they must stay the program's errors, never become the real class.
_CONTROL_MODULES = frozenset({"unittest", "bdb", "pdb", "doctest"})


def _standard(module: str, name: str) -> type[BaseException] | None:
    """The standard library's own exception class of that name (``json.JSONDecodeError``),
    when its module is already imported here: no import, no code of the sender runs. Never
    one that means "skip" or "stop" to the test runner (``unittest.SkipTest``)."""
    import sys
    import unittest

    top = module.split(".")[0]
    if top not in getattr(sys, "stdlib_module_names", ()) or top in _CONTROL_MODULES:
        return None
    found = getattr(sys.modules.get(module), name, None)
    if not (isinstance(found, type) and issubclass(found, BaseException)):
        return None
    return None if issubclass(found, unittest.SkipTest) else found


def rebuild_exception(record: Any, decode_args: Callable[[Any], Any]) -> BaseException:
    """The exception to raise on this side for the other side's ``record``."""
    if type(record) is not dict:
        raise Malformed("bad exception record")
    cls = remote_class(record.get("mod"), record.get("type"), record.get("base"))
    text = record.get("str")
    text = text if type(text) is str else ""
    args = record.get("args")
    exc: BaseException
    try:
        values = decode_args(args) if args is not None else [text]
        exc = cls(*values) if type(values) is list else cls(text)
    except Malformed:
        raise
    except Exception:  # noqa: BLE001 - a builtin class that wants other arguments
        exc = cls.__new__(cls)
        exc.args = (text,)
    if getattr(cls, "__remote__", False):
        exc.__dict__["_remote_str"] = text
    tb = record.get("tb")
    if type(tb) is str and tb:
        exc.__dict__["_remote_traceback"] = tb[-_TEXT:]
    return exc
