"""Servers that misbehave at the protocol level, as an outside tester made them: every wait
has a deadline, a malformed reply is that request's failure (never a crash, never an empty
answer taken as the model's), a broken model list is one named fault, and budgets are caps
on what is sent. Through the real ``openai`` SDK against raw sockets."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from codesynth.errors import ModelUnavailable
from codesynth.llm import LLM, LLMConfig, LLMError

HELLO = [{"role": "user", "content": "hello"}]
MODELS = b'{"object": "list", "data": [{"id": "m", "object": "model"}]}'
Action = Callable[[socket.socket], None]


def answer(body: bytes, status: int = 200, ctype: str = "application/json") -> Action:
    def act(conn: socket.socket) -> None:
        conn.sendall(f"HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: "
                     f"{len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
    return act


def chat(content: Any = "fine", usage: Any = None) -> Action:
    reply = {"id": "1", "object": "chat.completion", "created": 0, "model": "m",
             "choices": [{"index": 0, "finish_reason": "stop",
                          "message": {"role": "assistant", "content": content}}],
             "usage": usage or {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
    return answer(json.dumps(reply).encode())


def dribble(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 100000\r\n\r\n")
    for _ in range(60):
        time.sleep(0.5)
        conn.sendall(b" ")


def cut(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 500\r\n\r\n{\"choices\": [")
    conn.shutdown(socket.SHUT_RDWR)


class RawServer:
    """Answers GET /v1/models with ``models`` and each POST with the next of ``posts``
    (the last one repeats); counts what it receives."""

    def __init__(self, posts: list[Action], models: Action | None = None) -> None:
        self.posts, self.models = posts, models or answer(MODELS)
        self.gets = self.count = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.base_url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        try:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            while len(body) < length:
                body += conn.recv(65536)
            if head.startswith(b"GET"):
                self.gets += 1
                self.models(conn)
            else:
                self.count += 1
                self.posts[min(self.count, len(self.posts)) - 1](conn)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def serve() -> Iterator[Callable[..., RawServer]]:
    servers: list[RawServer] = []

    def make(posts: list[Action], models: Action | None = None) -> RawServer:
        servers.append(RawServer(posts, models))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def ask(server: RawServer, n: int = 1, **options: Any) -> list[Any]:
    async def go() -> list[Any]:
        llm = LLM(LLMConfig(cache=None, **{"max_retries": 0, **options}), server.base_url)
        try:
            return await asyncio.gather(*(llm.chat(HELLO, sample=i) for i in range(n)),
                                        return_exceptions=True)
        finally:
            await llm.close()
    return asyncio.run(go())


def test_a_server_that_dribbles_bytes_times_out_on_the_whole_reply(serve: Any) -> None:
    server = serve([dribble, chat()])
    started = time.monotonic()
    results = ask(server, timeout=1.5, max_retries=1, model="m")
    assert results == [results[0]] and not isinstance(results[0], Exception), results
    assert time.monotonic() - started < 10  # one whole-reply timeout, then the retry


def test_a_dribbled_model_list_is_a_fault_within_the_timeout(serve: Any) -> None:
    server = serve([chat()], models=dribble)
    started = time.monotonic()
    [result] = ask(server, timeout=1.5)
    assert isinstance(result, ModelUnavailable) and time.monotonic() - started < 10


@pytest.mark.parametrize("body", [b"not json{", b"[1, 2]", b'{"data": ["m"]}',
                                  b'{"data": {"a": 1}}', b'{"data": [{}]}', b'{"data": []}'],
                         ids=["nonjson", "list", "str-item", "dict", "no-id", "empty"])
def test_an_unusable_model_list_is_one_named_fault(serve: Any, body: bytes) -> None:
    server = serve([chat()], models=answer(body))
    results = ask(server, n=4)
    assert all(isinstance(r, ModelUnavailable) for r in results), results
    assert "--model" in str(results[0]) and server.gets == 1 and server.count == 0


@pytest.mark.parametrize("action", [
    chat(None), chat(["a"]), chat("x", {"prompt_tokens": float("inf"), "completion_tokens": 1}),
    chat("x", {"prompt_tokens": -1000000000, "completion_tokens": 1}),
    chat("x" * (2 << 20)), answer(b"\x1f\x8b garbage", ctype="application/json"),
], ids=["null-content", "list-content", "inf-tokens", "negative-tokens", "huge", "gzip-junk"])
def test_a_malformed_reply_is_that_requests_failure(serve: Any, action: Action) -> None:
    server = serve([action, chat("fine")])
    first, second = ask(server, n=1, model="m")[0], None
    assert isinstance(first, LLMError) and "malformed" in str(first), first
    second = ask(server, n=1, model="m")[0]
    assert not isinstance(second, Exception) and second.text == "fine"


def test_a_reply_cut_mid_body_is_a_request_failure_not_an_unreachable_server(
        serve: Any) -> None:
    server = serve([cut])
    [result] = ask(server, model="m", max_retries=1)
    assert isinstance(result, LLMError) and not isinstance(result, ModelUnavailable)
    assert "cut or unreadable" in str(result)


def test_retries_count_as_sent_and_the_request_budget_caps_them(serve: Any) -> None:
    server = serve([answer(b'{"error": {"message": "slow down"}}', status=429)])
    results = ask(server, n=3, model="m", max_retries=5, budget_requests=4, concurrency=1)
    assert server.count == 4  # never more than the budget, retries included
    assert any(type(r).__name__ == "BudgetExhausted" for r in results)
