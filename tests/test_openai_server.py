"""The scripted OpenAI server, driven by the real ``openai`` SDK (nothing is mocked)."""

from __future__ import annotations

import asyncio
import http.client
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import openai
import pytest

from tests.openai_server import (
    Delay,
    Fault,
    Request,
    ScriptedServer,
    by_content,
    failing_first,
    fixed,
    sequence,
)


@contextmanager
def client_for(
    server: ScriptedServer, max_retries: int = 0, timeout: float = 5.0
) -> Iterator[openai.OpenAI]:
    client = openai.OpenAI(
        base_url=server.base_url, api_key="test", max_retries=max_retries, timeout=timeout
    )
    try:
        yield client
    finally:
        client.close()


def ask(client: openai.OpenAI, text: str) -> str | None:
    response = client.chat.completions.create(
        model="scripted-model", messages=[{"role": "user", "content": text}]
    )
    return response.choices[0].message.content


def test_chat_round_trip_with_usage() -> None:
    reply = fixed("def f():\n    return 1")
    with ScriptedServer(reply=reply) as server, client_for(server) as client:
        response = client.chat.completions.create(
            model="some-model",
            messages=[
                {"role": "system", "content": "You write Python."},
                {"role": "user", "content": "write f please"},
            ],
        )
    assert server.base_url.startswith("http://127.0.0.1:") and server.base_url.endswith("/v1")
    assert response.object == "chat.completion" and response.id and response.created > 0
    assert response.model == "some-model"
    [choice] = response.choices
    assert choice.index == 0 and choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert choice.message.content == "def f():\n    return 1"
    assert response.usage is not None
    assert response.usage.prompt_tokens == 6  # "You write Python." + "write f please"
    assert response.usage.completion_tokens == 4  # "def", "f():", "return", "1"
    assert response.usage.total_tokens == 10
    [request] = server.requests
    assert server.count == 1
    assert request.kind == "chat" and request.index == 0
    assert request.body["model"] == "some-model"
    assert [m["role"] for m in request.messages] == ["system", "user"]
    assert request.last_user == "write f please"


def test_completion_round_trip_with_usage() -> None:
    with ScriptedServer(reply=fixed("    return a + b")) as server, client_for(server) as client:
        response = client.completions.create(model="m", prompt="def add(a, b):\n")
    assert response.object == "text_completion"
    [choice] = response.choices
    assert choice.text == "    return a + b" and choice.finish_reason == "stop"
    assert response.usage is not None
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (3, 4)
    assert response.usage.total_tokens == 7
    [request] = server.requests
    assert request.kind == "completion" and request.prompt == "def add(a, b):\n"
    assert request.last_user == request.prompt and request.messages == []


def test_empty_reply_still_counts_one_token() -> None:
    with ScriptedServer(reply=fixed("")) as server, client_for(server) as client:
        response = client.completions.create(model="m", prompt="")
    assert response.usage is not None
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (1, 1)


def test_n_gives_n_choices() -> None:
    with ScriptedServer(reply=fixed("one two")) as server, client_for(server) as client:
        chat = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}], n=3
        )
        text = client.completions.create(model="m", prompt="hi", n=3)
    assert [c.index for c in chat.choices] == [0, 1, 2]
    assert [c.message.content for c in chat.choices] == ["one two"] * 3
    assert chat.usage is not None and chat.usage.completion_tokens == 6
    assert [c.text for c in text.choices] == ["one two"] * 3
    assert server.count == 2  # one request each, whatever n is


def test_rate_limit_fault_is_rate_limit_error() -> None:
    fault = Fault(429, "slow down", retry_after=7)
    with (
        ScriptedServer(reply=lambda r: fault) as server,
        client_for(server) as client,
        pytest.raises(openai.RateLimitError) as caught,
    ):
        ask(client, "hi")
    assert caught.value.status_code == 429
    assert caught.value.response.headers["retry-after"] == "7"
    assert caught.value.body == {
        "message": "slow down",
        "type": "requests",
        "param": None,
        "code": "rate_limit_exceeded",
    }
    assert "slow down" in str(caught.value)
    assert server.count == 1  # max_retries=0


def test_server_fault_is_internal_server_error() -> None:
    with (
        ScriptedServer(reply=lambda r: Fault(500, "boom")) as server,
        client_for(server) as client,
        pytest.raises(openai.InternalServerError) as caught,
    ):
        client.completions.create(model="m", prompt="x")
    assert caught.value.status_code == 500
    assert isinstance(caught.value.body, dict) and caught.value.body["type"] == "server_error"


def test_failing_first_then_sdk_retries_succeed() -> None:
    reply = failing_first(2, Fault(503, "busy", retry_after=0.01), fixed("finally"))
    with ScriptedServer(reply=reply) as server, client_for(server, max_retries=2) as client:
        assert ask(client, "hi") == "finally"
    assert [r.index for r in server.requests] == [0, 1, 2]


def test_delay_past_client_timeout_is_api_timeout_error() -> None:
    started = time.monotonic()
    with (
        ScriptedServer(reply=lambda r: Delay(5.0, "too late")) as server,
        client_for(server, timeout=0.3) as client,
        pytest.raises(openai.APITimeoutError),
    ):
        ask(client, "hi")
    # Leaving the block wakes the sleeping handler instead of waiting the delay out.
    assert time.monotonic() - started < 2.5
    assert server.count == 1


def test_short_delay_then_answer() -> None:
    with ScriptedServer(reply=lambda r: Delay(0.05, "later")) as server, client_for(server) as c:
        assert ask(c, "hi") == "later"


def test_models_list() -> None:
    with ScriptedServer() as server, client_for(server) as client:
        models = client.models.list()
        assert [m.id for m in models.data] == ["scripted-model"]
        assert client.models.retrieve("scripted-model").id == "scripted-model"
    assert server.count == 0  # only completion requests are recorded


def test_stream_is_rejected() -> None:
    with (
        ScriptedServer() as server,
        client_for(server) as client,
        pytest.raises(openai.BadRequestError) as caught,
    ):
        client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}], stream=True
        )
    assert "stream" in str(caught.value)


def test_sequence_and_by_content_helpers() -> None:
    with ScriptedServer(reply=sequence(["a", "b"])) as server, client_for(server) as client:
        assert [ask(client, "x") for _ in range(3)] == ["a", "b", "a"]
    routing = by_content({"sort": "sorted(xs)", "add": "a + b"}, default="pass")
    with ScriptedServer(reply=routing) as server, client_for(server) as client:
        assert ask(client, "please add two numbers") == "a + b"
        assert ask(client, "sort and add") == "sorted(xs)"  # first matching key wins
        assert client.completions.create(model="m", prompt="sort it").choices[0].text == (
            "sorted(xs)"
        )
        assert ask(client, "nothing") == "pass"


def test_reply_exception_becomes_500() -> None:
    def broken(request: Request) -> str:
        raise KeyError("oops")

    with (
        ScriptedServer(reply=broken) as server,
        client_for(server) as client,
        pytest.raises(openai.InternalServerError, match="KeyError"),
    ):
        ask(client, "hi")
    assert len(server.errors) == 1


def test_keep_alive_and_error_routes_on_one_connection() -> None:
    with ScriptedServer(reply=fixed("ok")) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        try:
            conn.request("POST", "/v1/nope", body=b'{"x": 1}')
            response = conn.getresponse()
            assert response.status == 404
            assert json.loads(response.read())["error"]["type"] == "invalid_request_error"
            conn.request("POST", "/v1/completions", body=b"not json")
            response = conn.getresponse()
            assert response.status == 400 and "JSON" in response.read().decode()
            body = json.dumps({"model": "m", "prompt": "p"}).encode()
            conn.request("POST", "/v1/completions", body=body)
            response = conn.getresponse()
            assert response.status == 200
            assert json.loads(response.read())["choices"][0]["text"] == "ok"
            assert response.getheader("Connection") != "close"
        finally:
            conn.close()
    assert server.count == 1


def test_concurrent_requests_overlap() -> None:
    total, latency = 32, 0.2
    with (
        ScriptedServer(reply=lambda r: f"answer {r.index}", latency=latency) as server,
        client_for(server) as client,
        ThreadPoolExecutor(max_workers=total) as pool,
    ):
        started = time.monotonic()
        answers = list(pool.map(lambda i: ask(client, f"q{i}"), range(total)))
        elapsed = time.monotonic() - started
    assert sorted(answers, key=lambda a: int(str(a).split()[1])) == [
        f"answer {i}" for i in range(total)
    ]
    assert server.count == total
    assert elapsed < total * latency / 4, elapsed
    assert server.in_flight_max >= 16


def test_concurrent_requests_async_client() -> None:
    total, latency = 32, 0.2

    async def run(base_url: str) -> list[str | None]:
        client = openai.AsyncOpenAI(base_url=base_url, api_key="test", max_retries=0)
        try:
            responses = await asyncio.gather(
                *(
                    client.completions.create(model="m", prompt=f"p{i}")
                    for i in range(total)
                )
            )
        finally:
            await client.close()
        return [r.choices[0].text for r in responses]

    with ScriptedServer(reply=by_content({}, default="x"), latency=latency) as server:
        started = time.monotonic()
        texts = asyncio.run(run(server.base_url))
        elapsed = time.monotonic() - started
    assert texts == ["x"] * total
    assert elapsed < total * latency / 4, elapsed
    assert server.in_flight_max >= 16
