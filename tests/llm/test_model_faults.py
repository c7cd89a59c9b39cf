"""Model failures are named: a dead or unreachable server is one infrastructure fault with
its cause, raised at once; a malformed reply is that request's failure, never a crash. Through
the real ``openai`` SDK against local servers."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from codesynth.errors import ModelUnavailable
from codesynth.llm import LLM, LLMConfig, LLMError
from tests.openai_server import ScriptedServer, fixed

HELLO = [{"role": "user", "content": "hello"}]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_server_is_one_fault_naming_the_url() -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"

    async def go() -> None:
        llm = LLM(LLMConfig(cache=None, max_retries=1), url)
        try:
            await llm.resolve_model()
        finally:
            await llm.close()

    with pytest.raises(ModelUnavailable, match="cannot reach the model server") as caught:
        asyncio.run(go())
    assert url in str(caught.value) and "way out" in str(caught.value)


def test_a_server_that_dies_mid_run_stops_every_request_at_once() -> None:
    server = ScriptedServer(fixed("x")).start()

    async def go() -> tuple[list[Any], float, LLM]:
        llm = LLM(LLMConfig(cache=None, max_retries=2, model="m"), server.base_url)
        try:
            assert (await llm.chat(HELLO)).text == "x"
            server.close()
            started = time.monotonic()
            results = await asyncio.gather(*(llm.chat(HELLO, sample=i) for i in range(8)),
                                           return_exceptions=True)
            return results, time.monotonic() - started, llm
        finally:
            await llm.close()

    results, seconds, llm = asyncio.run(go())
    assert all(isinstance(r, ModelUnavailable) for r in results), results
    assert server.base_url in str(results[0])
    assert seconds < 15  # the retries of one request, not of eight in turn
    # every request that was sent is counted (the budget counts what was sent)
    assert llm.usage.requests >= 2 and llm.usage.replies == 1


class _Raw(BaseHTTPRequestHandler):
    bodies: list[bytes] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        self._send(b'{"object": "list", "data": [{"id": "m", "object": "model"}]}')

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._send(self.bodies.pop(0))

    def _send(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def raw_server() -> Iterator[tuple[str, list[bytes]]]:
    bodies: list[bytes] = []
    handler = type("Handler", (_Raw,), {"bodies": bodies})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", bodies
    httpd.shutdown()
    httpd.server_close()


MALFORMED = [
    b'{"id": "1", "object": "chat.completion", "created": 0, "model": "m", "choices": []}',
    json.dumps({"id": "1", "object": "chat.completion", "created": 0, "model": "m",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": 5}}]}).encode(),
    b"<html>a proxy error page</html>",
    b'{"choices": null}',
]


@pytest.mark.parametrize("body", MALFORMED, ids=["no-choices", "int-content", "html", "null"])
def test_a_malformed_reply_is_that_requests_failure(raw_server: tuple[str, list[bytes]],
                                                    body: bytes) -> None:
    url, bodies = raw_server
    good = json.dumps({"id": "2", "object": "chat.completion", "created": 0, "model": "m",
                       "choices": [{"index": 0, "finish_reason": "stop",
                                    "message": {"role": "assistant", "content": "fine"}}],
                       "usage": {"prompt_tokens": 1, "completion_tokens": 1,
                                 "total_tokens": 2}}).encode()
    bodies.extend([body, good])

    async def go() -> str:
        llm = LLM(LLMConfig(cache=None, max_retries=0), url)
        try:
            with pytest.raises(LLMError, match="malformed"):
                await llm.chat(HELLO)
            return (await llm.chat(HELLO, sample=1)).text  # the client is still usable
        finally:
            await llm.close()

    assert asyncio.run(go()) == "fine"


def test_the_portable_build_leaves_out_what_the_cpu_lacks() -> None:
    from codesynth.llm.portable import cmake_args

    modern = "flags\t\t: fpu sse2 avx avx2 fma f16c avx512f amx_tile amx_int8\n"
    assert cmake_args(modern) == "-DGGML_NATIVE=OFF"
    assert cmake_args("flags\t: fpu sse2 sse4_2\n").split() == [
        "-DGGML_NATIVE=OFF", "-DGGML_AVX=OFF", "-DGGML_AVX2=OFF", "-DGGML_FMA=OFF",
        "-DGGML_F16C=OFF"]
    assert cmake_args("Features\t: fp asimd\n") == "-DGGML_NATIVE=OFF"  # not x86


@pytest.mark.parametrize("values, key", [
    ({"concurrency": 10**30}, "concurrency"), ({"temperature": float("nan")}, "temperature"),
    ({"timeout": "soon"}, "timeout"), ({"budget_requests": -1}, "budget_requests"),
    ({"base_url": "http://[::1"}, "base_url"), ({"base_url": "http://127.0.0.1:99999/v1"},
                                                 "base_url"),
    ({"base_url": "ftp://host/v1"}, "base_url"), ({"api_key": "a\nb"}, "api_key"),
    ({"api_key": "ключ"}, "api_key"), ({"cache": "/tmp"}, "cache"), ({"mode": "x"}, "mode"),
    ({"max_tokens": True}, "max_tokens"),
])
def test_every_setting_is_checked_whatever_its_source(values: dict[str, Any],
                                                      key: str) -> None:
    from codesynth.errors import UserError

    with pytest.raises(UserError, match=f"llm {key}"):
        LLMConfig(**values)


def test_a_config_file_that_is_not_a_table_or_not_text_is_a_clear_error(tmp_path: Any) -> None:
    from codesynth.errors import UserError

    for name, content in (("int.toml", b"llm = 5\n"), ("bin.toml", b"\xff\xfe\x00x")):
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(UserError, match=name):
            LLMConfig.load(str(path))
    with pytest.raises(UserError, match="cannot read"):
        LLMConfig.load(str(tmp_path))  # a directory
