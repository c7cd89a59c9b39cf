"""The judged process: it runs the program and answers the judge's requests about it.

It starts as a fork of the zygote (made before the runner read any job) and receives the
program, and nothing else, on its connection to the judge. It holds no evidence key, no
test, no expected value and nothing of another job. Every request is a small operation on
one of its objects (get an attribute, call, iterate, compare, ...); results cross by value
when they are plain data, else as handles the judge can use remotely.
"""

from __future__ import annotations

import builtins
import operator
import sys
import types
from typing import Any

from codesynth.harness.compiled import Built
from codesynth.harness.rpc import (
    Channel,
    Endpoint,
    builtin_base,
    exception_record,
    rebuild_exception,
)
from codesynth.harness.wire import (
    Decoder,
    Encoder,
    Malformed,
    TooBig,
    resolve_ref,
    stdlib_ref,
)

SOLUTION_FILE = "solution.py"
SNAPSHOT_ITEMS = 10_000  # a larger top-level value of the program crosses as a handle
MAX_BATCH = 200  # calls in one request (see ``_plan``)
_MUTABLE = (list, dict, set, bytearray)

# The operations a judge may apply to the program's objects (the operator module's own).
OPERATIONS: dict[str, Any] = {
    name: getattr(operator, name) for name in (
        "add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "lshift",
        "rshift", "and_", "or_", "xor", "neg", "pos", "invert", "abs", "lt", "le", "eq",
        "ne", "gt", "ge", "contains", "getitem", "setitem", "delitem", "index",
        "iadd", "isub", "imul", "itruediv", "ifloordiv", "imod", "ior", "iand", "ixor")}
OPERATIONS.update({"len": len, "iter": iter, "next": next, "repr": repr, "str": str,
                   "hash": hash, "bool": bool, "int": int, "float": float, "complex": complex,
                   "format": format, "divmod": divmod, "round": round, "reversed": reversed,
                   "isinstance": isinstance, "issubclass": issubclass, "dir": dir,
                   "bytes": bytes})


class Callback:
    """A callable of the judge, seen from the program: calling it asks the judge."""

    __slots__ = ("_server", "_id")

    def __init__(self, server: Server, ident: int) -> None:
        self._server, self._id = server, ident

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._server.callback(self._id, args, kwargs)

    def __repr__(self) -> str:
        return f"<callable of the tests #{self._id}>"


class Server:
    def __init__(self, channel: Channel) -> None:
        self.objects: dict[int, Any] = {}
        self.ids: dict[int, int] = {}
        self.callbacks: dict[int, Callback] = {}
        self.encoder = Encoder(self._export)
        self.decoder = Decoder(self._import)
        self.endpoint = Endpoint(channel, self.reply)
        self.module: types.ModuleType | None = None
        self.built = Built()
        self.exported = 0  # objects of ours sent as handles so far

    # -- references ------------------------------------------------------------------------
    def _export(self, obj: Any) -> dict[str, Any]:
        if type(obj) is Callback:
            return {"#": "r", "v": obj._id}
        ref = stdlib_ref(obj)
        if ref is not None:
            return {"#": "ref", "m": ref[0], "n": ref[1]}
        self.exported += 1
        ident = self.ids.get(id(obj))
        if ident is None or self.objects.get(ident) is not obj:
            ident = len(self.objects) + 1
            self.objects[ident] = obj
            self.ids[id(obj)] = ident
        tagged: dict[str, Any] = {"#": "h", "v": ident,
                                  "t": _name(type(obj)), "c": callable(obj)}
        if isinstance(obj, type) and issubclass(obj, BaseException):
            tagged["exc"] = {"type": _name(obj, "__name__"), "mod": _module(obj),
                             "base": builtin_base(obj).__name__}
        return tagged

    def _import(self, data: dict[str, Any]) -> Any:
        tag, value = data.get("#"), data.get("v")
        if tag == "r":  # one of ours, sent back
            if type(value) is not int or value not in self.objects:
                raise Malformed("unknown handle")
            return self.objects[value]
        if tag == "cb":
            if type(value) is not int:
                raise Malformed("bad callback")
            found = self.callbacks.get(value)
            if found is None:
                found = self.callbacks[value] = Callback(self, value)
            return found
        if tag == "ref":
            return resolve_ref(data.get("m"), data.get("n"))
        raise Malformed(f"unknown tag {str(tag)[:20]!r}")

    def encode(self, value: Any, budget: int | None = None) -> Any:
        try:
            return self.encoder.value(value, budget)
        except TooBig:
            return self._export(value)

    def reply(self, message: dict[str, Any]) -> dict[str, Any]:
        """Answer one request. The program's output so far is flushed first: the process
        may be killed at any moment after the last answer."""
        reply = self.batch(message) if message.get("op") == "batch" else self.handle(message)
        _flush()
        return reply

    def batch(self, message: dict[str, Any]) -> dict[str, Any]:
        """Calls the tests will make in this order (``harness._plan``): each answered as soon
        as it returns; after the first that raises, or answers with an object of ours (what
        the tests do with it is a request of its own), the rest are not made. Then
        ``done``, with how many were."""
        calls = message.get("calls")
        if type(calls) is not list or len(calls) > MAX_BATCH or \
                not all(type(call) is dict for call in calls):
            return {"bad": "bad batch"}
        made = 0
        for call in calls:
            self.exported = 0
            reply = self.handle({"op": "call", "h": call.get("h"), "a": call.get("a"),
                                 "k": call.get("k")})
            _flush()
            made += 1
            if not self.endpoint.answer(reply) or "v" not in reply or self.exported:
                break
        return {"done": made}

    # -- requests --------------------------------------------------------------------------
    def handle(self, message: dict[str, Any]) -> dict[str, Any]:
        try:
            op = message.get("op")
            if op == "load":
                return self.load(message.get("code"))
            if op == "case":
                from codesynth.harness.stdio import run_case

                return run_case(message.get("code"), message.get("i"))
            if op == "build":  # another language's program (harness/compiled.py)
                return self.built.build(message.get("language"), message.get("code"),
                                        message.get("form"))
            if op == "run":
                return self.built.run(message.get("i"), message.get("results", False),
                                      message.get("call_limit"))
            target = self._target(message.get("h"))
            if op == "get":
                return {"v": self.encode(getattr(target, _name_arg(message)))}
            if op == "set":
                setattr(target, _name_arg(message), self.decoder.value(message.get("a")))
                return {"v": None}
            if op == "del":
                delattr(target, _name_arg(message))
                return {"v": None}
            if op == "call":
                return self.call(target, message)
            if op == "apply":
                function = OPERATIONS.get(message.get("f"))  # type: ignore[arg-type]
                if function is None:
                    raise Malformed("unknown operation")
                args = self.decoder.value(message.get("a"))
                if type(args) is not list:
                    raise Malformed("bad arguments")
                return {"v": self.encode(function(*args))}
            raise Malformed(f"unknown request {str(op)[:20]!r}")
        except Malformed as exc:
            return {"bad": str(exc)[:500]}
        except BaseException as exc:  # noqa: BLE001 - the program's exception, for the judge
            return {"x": exception_record(exc)}

    def _target(self, handle: Any) -> Any:
        if handle is None:
            if self.module is None:
                raise Malformed("no program loaded")
            return self.module
        if type(handle) is not int or handle not in self.objects:
            raise Malformed("unknown handle")
        return self.objects[handle]

    def load(self, code: Any) -> dict[str, Any]:
        if type(code) is not str or self.module is not None:
            raise Malformed("bad load")
        module = types.ModuleType("solution")
        module.__file__ = SOLUTION_FILE
        from codesynth.harness._trace import register_source

        register_source(SOLUTION_FILE, code)
        namespace = module.__dict__
        namespace["__builtins__"] = builtins
        sys.modules["solution"] = module
        self.module = module
        try:
            exec(compile(code, SOLUTION_FILE, "exec", dont_inherit=True), namespace)
        except BaseException as exc:  # noqa: BLE001 - the program failed to load
            return {"x": exception_record(exc)}
        names = []
        for name, value in list(namespace.items()):
            if type(name) is str and not (name.startswith("__") and name.endswith("__")):
                names.append([name, self.encode(value, SNAPSHOT_ITEMS)])
        return {"v": {"#": "dict", "v": names}}

    def call(self, target: Any, message: dict[str, Any]) -> dict[str, Any]:
        raw_args, raw_kwargs = message.get("a"), message.get("k")
        args = self.decoder.value(raw_args)
        if raw_kwargs is None:
            raw_kwargs = {}
        if type(args) is not list or type(raw_kwargs) is not dict:
            raise Malformed("bad call")
        kwargs = {str(k): self.decoder.value(v) for k, v in raw_kwargs.items()}
        result = target(*args, **kwargs)
        reply: dict[str, Any] = {"v": self.encode(result)}
        # Arguments the program may have mutated go back (the judge updates its own).
        back = []
        raws: list[Any] = raw_args  # type: ignore[assignment]
        raw_named: dict[str, Any] = raw_kwargs or {}  # type: ignore[assignment]
        for where, value, raw in [*((i, v, raws[i]) for i, v in enumerate(args)),
                                  *((k, v, raw_named[k]) for k, v in kwargs.items())]:
            if type(value) in _MUTABLE:
                try:
                    if value != self.decoder.value(raw):
                        back.append([where, self.encode(value)])
                except BaseException:  # noqa: BLE001 - an element's __eq__ raised
                    back.append([where, self.encode(value)])
        if back:
            reply["back"] = back
        return reply

    def callback(self, ident: int, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        reply = self.endpoint.request({"op": "cb", "id": ident, "a": self.encode(list(args)),
                                       "k": self.encode(kwargs)})
        if "x" in reply:
            raise rebuild_exception(reply["x"], self.decoder.value)
        if "v" not in reply:
            raise RuntimeError("the tests did not answer a callback")
        return self.decoder.value(reply["v"])


def _flush() -> None:
    """The program's output so far: the process may be killed at any moment after an
    answer."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - a closed or replaced stream
            pass


def _name_arg(message: dict[str, Any]) -> str:
    name = message.get("n")
    if type(name) is not str:
        raise Malformed("bad attribute name")
    return name


def _name(cls: type, attribute: str = "__qualname__") -> str:
    try:
        return str(getattr(cls, attribute))[:200]
    except BaseException:  # noqa: BLE001
        return "?"


def _module(cls: type) -> str:
    try:
        return str(cls.__module__)[:200]
    except BaseException:  # noqa: BLE001
        return "?"


def serve(sock_fd: int) -> None:
    """The judged process's main loop, until the judge hangs up."""
    import socket

    from codesynth.harness.wire import Gone

    sock = socket.socket(fileno=sock_fd)
    server = Server(Channel(sock))
    try:
        server.endpoint.channel.send({"ready": True})
        server.endpoint.serve()
    except (Gone, Malformed):
        pass
