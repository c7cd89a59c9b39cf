"""The evidence channel: how the harness tells the runner what happened.

Every line is ``<mac> <json>``, where ``mac`` is keyed BLAKE2b (128 bits; BLAKE2's own MAC mode,
which needs no HMAC construction, and runs without OpenSSL in the job) of the JSON under a
per-job key that the runner draws just before the fork and never writes anywhere.
Reading the channel back reveals no key, and lines the program makes up fail the check.
The runner ignores every line whose MAC does not verify. Only a ``final`` event, written by the
harness after the last test returned, can make a verdict ``passed``. Exit status and printed
text never count.

The functions used to sign and write are captured when this module is imported (in the
runner, before any program runs). A program that later patches ``os.write``, ``json``,
``hashlib`` or this class changes nothing the harness does.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Callable
from typing import Any

_MAC_BYTES = 16
_blake2b = hashlib.blake2b
_compare = hmac.compare_digest
_write = os.write


def _encoder() -> Callable[[Any], str]:
    """JSON text of an event. The C encoder is made once, here (``JSONEncoder.encode`` makes
    a new one per call): the fewer objects an event touches, the fewer pages the job copies."""
    from json import encoder

    fallback = json.JSONEncoder(default=repr, ensure_ascii=True).encode
    make_encoder: Any = getattr(encoder, "c_make_encoder", None)
    try:  # markers=None: events are built by the harness, never circular
        make = make_encoder(None, repr, encoder.encode_basestring_ascii, None, ":", ",",
                            False, False, True)
        if "".join(make({"e": [1.5, None, "\u00e9"]}, 0)) != '{"e":[1.5,null,"\\u00e9"]}':
            return fallback
    except Exception:  # noqa: BLE001 - no C accelerator, or another signature
        return fallback

    def encode(event: Any) -> str:
        return "".join(make(event, 0))

    return encode


_encode = _encoder()


def _cut(value: Any, limit: int) -> Any:
    if isinstance(value, str):
        return value[:limit] if len(value) > limit else value
    if isinstance(value, dict):
        return {k: _cut(v, limit) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_cut(v, limit) for v in value]
    return value


def new_key() -> bytes:
    return os.urandom(32)


def _signer(key: bytes) -> Callable[[bytes | memoryview], bytes]:
    def sign(payload: bytes | memoryview) -> bytes:
        return _blake2b(payload, key=key, digest_size=_MAC_BYTES).hexdigest().encode()

    return sign


class Evidence:
    """The harness's writer. Every method is a closure made here, on the instance: patching
    the class afterwards does not change what an existing writer does."""

    __slots__ = ("emit", "phase", "test", "final")

    def __init__(self, fd: int, key: bytes) -> None:
        sign = _signer(key)

        spent = [0, 0]  # bytes and events written (the final one aside)

        def emit(kind: str, **fields: Any) -> None:
            event = {"e": kind, **fields}
            payload = _encode(event).encode()
            limit = MAX_TEXT
            while len(payload) > _SAFE_EVENT_BYTES and limit > 8:
                # Texts the program chose (a type name, a message) must not make the event
                # larger than the runner decodes: that would turn a verdict into
                # sandbox_error. Cut them until it fits.
                limit //= 4
                event = _cut(event, limit)
                payload = _encode(event).encode()
            if kind != "final":
                # Nor may many events together: past half the runner's budget texts are cut
                # short, and past three quarters (or _WRITTEN_EVENTS) events are left out.
                # The final verdict, which counts every test, always fits.
                if spent[0] + len(payload) > MAX_DECODED_BYTES // 2:
                    event = _cut(event, 200)
                    payload = _encode(event).encode()
                if spent[0] + len(payload) > MAX_DECODED_BYTES * 3 // 4 or \
                        spent[1] >= _WRITTEN_EVENTS:
                    return
                spent[0] += len(payload)
                spent[1] += 1
            line = sign(payload) + b" " + payload + b"\n"
            written = _write(fd, line)
            if written < len(line):
                view = memoryview(line)[written:]
                while view:
                    view = view[_write(fd, view):]

        def phase(name: str) -> None:
            emit("phase", phase=name)

        def test(**outcome: Any) -> None:
            emit("test", **outcome)

        def final(status: str, **fields: Any) -> None:
            emit("final", status=status, **fields)

        self.emit, self.phase, self.test, self.final = emit, phase, test, final


# What the runner decodes of one job's evidence, at most: its memory must stay bounded (tens
# of MB) whatever a job writes, signed or not (a job that reaches the writer can sign).
# The harness writes flat events (one nested ``exception`` object), no arrays, and texts it
# has already cut: these budgets are far above what it writes.
MAX_EVENT_BYTES = 1 << 20  # one event's JSON
_SAFE_EVENT_BYTES = MAX_EVENT_BYTES // 2  # what the writer keeps its events under
_WRITTEN_EVENTS = 10_000  # events a judge writes at most (the final one aside)
MAX_EVENTS = 20_000
MAX_DECODED_BYTES = 8 << 20  # all events' JSON together
MAX_TEXT = 20_000  # characters kept of any text
_MAX_OBJECTS = 2  # per event: the event and its exception
_MAX_FIELDS = 32  # per object
OVER = "_over_budget"  # the kind of the event that ends a trace cut at a budget


class _Refused(ValueError):
    pass


def _bounded(value: Any) -> bool:
    """Cut ``value``'s texts to MAX_TEXT in place; False if it holds an array."""
    for name, item in value.items():
        if isinstance(item, str):
            if len(item) > MAX_TEXT:
                value[name] = item[:MAX_TEXT]
        elif isinstance(item, dict):
            if not _bounded(item):
                return False
        elif isinstance(item, list):
            return False
    return True


def parse(data: bytes, key: bytes) -> list[dict[str, Any]]:
    """The events in ``data`` whose MAC verifies under ``key``; anything else is ignored.

    Decoded one at a time, under the budgets above. The first signed event beyond one (too
    large, too many, arrays, too many objects or fields, too deep) ends the trace with an
    ``OVER`` event that says why: the job's verdict is then a sandbox_error."""
    sign = _signer(key)
    view = memoryview(data)
    events: list[dict[str, Any]] = []
    decoded = 0
    objects = 0

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal objects
        objects += 1
        if objects > _MAX_OBJECTS or len(pairs) > _MAX_FIELDS:
            raise _Refused("an event with too many objects or fields")
        return dict(pairs)

    def over(why: str) -> list[dict[str, Any]]:
        return [*events, {"e": OVER, "message": why}]

    position, size = 0, len(data)
    while position < size:
        end = data.find(b"\n", position)
        end = size if end < 0 else end
        gap = data.find(b" ", position, end)
        line, position = (position, gap, end), end + 1
        if gap < 0 or gap + 1 >= end:
            continue
        payload = view[line[1] + 1:line[2]]
        if not _compare(view[line[0]:line[1]], sign(payload)):
            continue
        if len(payload) > MAX_EVENT_BYTES:
            return over(f"a signed event of {len(payload)} bytes")
        decoded += len(payload)
        if len(events) >= MAX_EVENTS or decoded > MAX_DECODED_BYTES:
            return over(f"more than {MAX_EVENTS} events or {MAX_DECODED_BYTES} bytes of them")
        objects = 0
        try:
            event = json.loads(bytes(payload), object_pairs_hook=hook)
        except _Refused as exc:
            return over(str(exc))
        except RecursionError:
            return over("an event nested too deep")
        except ValueError:
            continue
        if isinstance(event, dict):
            if not _bounded(event):
                return over("an event holding an array")
            events.append(event)
    return events
