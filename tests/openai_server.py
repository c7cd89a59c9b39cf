"""A local HTTP server that speaks the OpenAI API with scripted replies.

The test suite points the real ``openai`` SDK at it (no mocking of the SDK), and the throughput
benchmark uses it as a backend with a fixed latency. Standard library only::

    with ScriptedServer(reply=sequence(["a", "b"]), latency=0.0) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="test", max_retries=0)
        ...
        client.close()

A reply function receives a :class:`Request` and returns the completion text, a :class:`Fault`
(answered as an HTTP error with an OpenAI-style body) or a :class:`Delay` (sleep, then answer).
Streaming is not supported: a request with ``stream: true`` gets a 400.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal, TypeAlias

__all__ = [
    "Delay",
    "Fault",
    "Reply",
    "Request",
    "ScriptedServer",
    "by_content",
    "failing_first",
    "fixed",
    "sequence",
]

DEFAULT_MODEL = "scripted-model"
MAX_CHOICES = 128

# (error type, error code) per status, as the OpenAI API reports them.
_ERROR_KINDS: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("authentication_error", "invalid_api_key"),
    403: ("permission_error", None),
    404: ("invalid_request_error", "not_found"),
    409: ("conflict_error", None),
    422: ("invalid_request_error", None),
    429: ("requests", "rate_limit_exceeded"),
}


@dataclass(frozen=True)
class Request:
    """One chat or text completion request, as the server received it."""

    kind: Literal["chat", "completion"]
    body: dict[str, Any]
    messages: list[dict[str, Any]] = field(default_factory=list)
    prompt: str = ""
    index: int = 0  # 0-based arrival order among all completion requests

    @property
    def last_user(self) -> str:
        """Text of the last user message (chat), or the prompt (completion)."""
        if self.kind == "completion":
            return self.prompt
        for message in reversed(self.messages):
            if isinstance(message, dict) and message.get("role") == "user":
                return _content_text(message.get("content"))
        return ""


@dataclass(frozen=True)
class Fault:
    """Answer with this HTTP status and an OpenAI-style error body."""

    status: int
    message: str = "scripted fault"
    retry_after: float | None = None  # seconds, sent as a ``Retry-After`` header when set


@dataclass(frozen=True)
class Delay:
    """Sleep ``seconds``, then answer ``then`` (e.g. to trigger a client timeout)."""

    seconds: float
    then: str | Fault


Reply: TypeAlias = Callable[[Request], "str | Fault | Delay"]


# --------------------------------------------------------------------------- reply helpers


def fixed(text: str) -> Reply:
    """Every request gets ``text``."""

    def reply(request: Request) -> str:
        return text

    return reply


def sequence(texts: Sequence[str]) -> Reply:
    """The i-th request (by arrival) gets ``texts[i % len(texts)]``."""
    items = list(texts)
    if not items:
        raise ValueError("sequence() needs at least one text")

    def reply(request: Request) -> str:
        return items[request.index % len(items)]

    return reply


def by_content(mapping: Mapping[str, str], default: str) -> Reply:
    """The first key that is a substring of the last user message (or prompt) wins."""
    pairs = list(mapping.items())

    def reply(request: Request) -> str:
        text = request.last_user
        for needle, answer in pairs:
            if needle in text:
                return answer
        return default

    return reply


def failing_first(n: int, fault: Fault, then: Reply | str) -> Reply:
    """The first ``n`` requests (by arrival) get ``fault``; later ones get ``then(request)``."""
    after: Reply = fixed(then) if isinstance(then, str) else then

    def reply(request: Request) -> str | Fault | Delay:
        return fault if request.index < n else after(request)

    return reply


# --------------------------------------------------------------------------- the server


class ScriptedServer:
    """OpenAI-compatible HTTP server on 127.0.0.1 with a free port, served from a daemon thread.

    ``requests`` records every chat/text completion request (in arrival order), ``in_flight_max``
    the largest number of completion requests handled at the same time. ``latency`` seconds are
    slept before every completion answer. Use as a context manager, or ``start()``/``close()``.
    """

    def __init__(
        self,
        reply: Reply | None = None,
        latency: float = 0.0,
        *,
        model: str = DEFAULT_MODEL,
        host: str = "127.0.0.1",
    ) -> None:
        self.reply: Reply = reply if reply is not None else fixed("ok")
        self.latency = latency
        self.model = model
        self.requests: list[Request] = []
        self.errors: list[BaseException] = []  # exceptions raised by the reply function
        self.in_flight = 0
        self.in_flight_max = 0
        self.answered = 0  # completion requests answered with a 200
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._connections: set[socket.socket] = set()
        self._httpd = _HTTPServer((host, 0), _Handler, self)
        self._thread: threading.Thread | None = None
        self._closed = False
        self._ids = 0

    # ---- lifecycle

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    def start(self) -> ScriptedServer:
        if self._thread is not None:
            raise RuntimeError("server already started")
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"scripted-openai-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving, drop keep-alive connections, wake sleeping handlers, join threads."""
        if self._closed:
            return
        self._closed = True
        self._closing.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            _shutdown_socket(conn)
        self._httpd.server_close()  # closes the listening socket, joins handler threads

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ---- used by the handler threads

    def _register(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.add(conn)
        if self._closing.is_set():  # close() may have taken its snapshot before we registered
            _shutdown_socket(conn)

    def _unregister(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.discard(conn)

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._closing.wait(seconds)

    def _record(self, kind: Literal["chat", "completion"], body: dict[str, Any]) -> Request:
        messages = body.get("messages") if kind == "chat" else None
        prompt = _prompt_text(body.get("prompt")) if kind == "completion" else ""
        with self._lock:
            request = Request(
                kind=kind,
                body=body,
                messages=list(messages) if isinstance(messages, list) else [],
                prompt=prompt,
                index=len(self.requests),
            )
            self.requests.append(request)
        return request

    def _enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.in_flight_max = max(self.in_flight_max, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _next_id(self) -> int:
        with self._lock:
            self._ids += 1
            return self._ids

    def _answer(self, request: Request) -> str | list[str] | Fault:
        """Run the reply function; a ``Delay`` is slept here, an exception becomes a 500."""
        try:
            answer: object = self.reply(request)
            if isinstance(answer, Delay):
                self._sleep(answer.seconds)
                answer = answer.then
        except Exception as exc:  # a bug in a test's reply function: make it visible
            with self._lock:
                self.errors.append(exc)
            return Fault(500, f"reply function raised {type(exc).__name__}: {exc}")
        if isinstance(answer, str | Fault):
            return answer
        if isinstance(answer, list | tuple) and answer and all(isinstance(a, str) for a in answer):
            return list(answer)  # one text per choice (cycled when n is larger)
        return Fault(500, f"reply function returned {type(answer).__name__}, not str/Fault/Delay")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = True  # server_close() joins the handler threads
    request_queue_size = 128
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        owner: ScriptedServer,
    ) -> None:
        self.owner = owner
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out or closed its pool is normal here; anything else is a bug.
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the SDK pools connections
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    server: _HTTPServer
    server_version = "ScriptedOpenAI/1.0"

    def setup(self) -> None:
        super().setup()
        self.server.owner._register(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.owner._unregister(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # ---- routing

    def do_GET(self) -> None:
        path = self._path()
        owner = self.server.owner
        if path == "/models":
            self._send_json(200, {"object": "list", "data": [_model_card(owner.model)]})
        elif path == f"/models/{owner.model}":
            self._send_json(200, _model_card(owner.model))
        else:
            self._send_fault(Fault(404, f"no route for GET {self.path}"))

    def do_POST(self) -> None:
        if self._dying():
            return
        try:
            raw = self._read_body()
        except ValueError as exc:
            self.close_connection = True  # framing is lost: do not reuse this connection
            self._send_fault(Fault(400, str(exc)))
            return
        path = self._path()
        kind: Literal["chat", "completion"]
        if path == "/chat/completions":
            kind = "chat"
        elif path == "/completions":
            kind = "completion"
        else:
            self._send_fault(Fault(404, f"no route for POST {self.path}"))
            return
        try:
            body = json.loads(raw or b"{}")
        except ValueError as exc:
            self._send_fault(Fault(400, f"request body is not valid JSON: {exc}"))
            return
        if not isinstance(body, dict):
            self._send_fault(Fault(400, "request body must be a JSON object"))
            return
        self._complete(kind, body)

    def _complete(self, kind: Literal["chat", "completion"], body: dict[str, Any]) -> None:
        owner = self.server.owner
        request = owner._record(kind, body)
        owner._enter()
        try:
            owner._sleep(owner.latency)
            if self._dying():  # closed while this request waited: it gets no answer
                return
            problem = _validate(request)
            answer = problem if problem is not None else owner._answer(request)
            if isinstance(answer, Fault):
                self._send_fault(answer)
                return
            n = int(body.get("n") or 1)
            texts = [answer] * n if isinstance(answer, str) else answer
            self._send_json(200, _completion(request, owner, texts, n))
            with owner._lock:
                owner.answered += 1
        finally:
            owner._leave()

    # ---- plumbing

    def _dying(self) -> bool:
        """A closing server answers nothing more, as a dead process would: the connection is
        dropped (keep-alive requests must not slip through while ``close()`` runs)."""
        if not self.server.owner._closing.is_set():
            return False
        self.close_connection = True
        _shutdown_socket(self.connection)
        return True

    def _path(self) -> str:
        path = self.path.split("?", 1)[0].rstrip("/")
        return path[len("/v1") :] if path.startswith("/v1/") else path

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                line = self.rfile.readline(65537)
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise ValueError("malformed chunked request body") from None
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(3)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise ValueError("malformed Content-Length") from None
        return self.rfile.read(length) if length > 0 else b""

    def _send_json(
        self, status: int, payload: object, headers: Mapping[str, str] | None = None
    ) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def _send_fault(self, fault: Fault) -> None:
        default: tuple[str, str | None] = ("invalid_request_error", None)
        if fault.status >= 500:
            default = ("server_error", "server_error")
        error_type, code = _ERROR_KINDS.get(fault.status, default)
        headers: dict[str, str] = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = f"{fault.retry_after:g}"
        error = {"message": fault.message, "type": error_type, "param": None, "code": code}
        self._send_json(fault.status, {"error": error}, headers)


# --------------------------------------------------------------------------- payloads


def _validate(request: Request) -> Fault | None:
    body = request.body
    if body.get("stream"):
        return Fault(400, "streaming is not supported by the scripted server")
    n = body.get("n", 1)
    valid_n = isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= MAX_CHOICES
    if n is not None and not valid_n:
        return Fault(400, f"n must be an integer between 1 and {MAX_CHOICES}, got {n!r}")
    if request.kind == "chat" and not isinstance(body.get("messages"), list):
        return Fault(400, "'messages' is a required list")
    if request.kind == "completion" and body.get("prompt") is None:
        return Fault(400, "'prompt' is required")
    return None


def _completion(
    request: Request, owner: ScriptedServer, texts: list[str], n: int
) -> dict[str, Any]:
    choices: list[dict[str, Any]] = []
    completion_tokens = 0
    for i in range(n):
        text = texts[i % len(texts)]
        completion_tokens += _tokens(text)
        choice: dict[str, Any] = {"index": i, "logprobs": None, "finish_reason": "stop"}
        if request.kind == "chat":
            choice["message"] = {"role": "assistant", "content": text, "refusal": None}
        else:
            choice["text"] = text
        choices.append(choice)
    if request.kind == "chat":
        contents = (m.get("content") for m in request.messages if isinstance(m, dict))
        prompt_text = " ".join(_content_text(c) for c in contents)
        prefix, obj = "chatcmpl", "chat.completion"
    else:
        prompt_text, prefix, obj = request.prompt, "cmpl", "text_completion"
    prompt_tokens = _tokens(prompt_text)
    return {
        "id": f"{prefix}-scripted-{owner._next_id()}",
        "object": obj,
        "created": int(time.time()),
        "model": str(request.body.get("model") or owner.model),
        "system_fingerprint": None,
        "choices": choices,
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def _model_card(model: str) -> dict[str, Any]:
    return {"id": model, "object": "model", "created": 0, "owned_by": "scripted"}


def _tokens(text: str) -> int:
    return max(1, len(text.split()))


def _content_text(content: object) -> str:
    """A message's content as text: a string, or the text parts of a list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text") for p in content if isinstance(p, dict) and p.get("type") == "text"]
        return "\n".join(p for p in parts if isinstance(p, str))
    return ""


def _prompt_text(prompt: object) -> str:
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, list) and all(isinstance(p, str) for p in prompt):
        return "\n".join(prompt)
    return "" if prompt is None else json.dumps(prompt)


def _shutdown_socket(conn: socket.socket) -> None:
    try:
        conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already gone
