"""The LLM layer against a local server speaking the OpenAI API (the real ``openai`` SDK)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from codesynth.errors import UserError
from codesynth.llm import LLM, BudgetExhausted, LLMConfig, LLMError
from codesynth.llm.client import render_prompt
from tests.openai_server import Delay, Fault, Request, ScriptedServer, fixed

HELLO = [{"role": "user", "content": "hello"}]


def make(server: ScriptedServer, tmp_path: Path | None, **options: Any) -> LLM:
    cache = str(tmp_path / "cache.sqlite") if tmp_path else None
    return LLM(LLMConfig(cache=cache, **options), server.base_url)


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_chat_round_trip_counts_tokens(tmp_path: Path) -> None:
    with ScriptedServer(fixed("def f():\n    return 1")) as server:
        async def go() -> Any:
            llm = make(server, tmp_path)
            reply = await llm.chat(HELLO)
            await llm.close()
            return llm, reply

        llm, reply = run(go())
    assert reply.text.startswith("def f()") and not reply.cached
    assert llm.model == "scripted-model"  # the server's first model
    assert llm.usage.requests == 1 and llm.usage.completion_tokens == reply.completion_tokens > 0
    assert server.requests[0].kind == "chat"
    assert server.requests[0].body["seed"] == 0


def test_cache_answers_the_same_request_and_only_it(tmp_path: Path) -> None:
    with ScriptedServer(lambda r: f"reply {r.index}") as server:
        async def go(**options: Any) -> list[Any]:
            llm = make(server, tmp_path, **options)
            replies = [await llm.chat(HELLO), await llm.chat(HELLO, sample=1),
                       await llm.chat(HELLO, temperature=0.1)]
            await llm.close()
            return [llm.usage, *replies]

        usage, *first = run(go())
        assert usage.requests == 3 and server.count == 3
        # A new process, other timeout and retry settings: the same semantic requests.
        usage, *again = run(go(timeout=5.0, max_retries=1))
    assert server.count == 3
    assert usage.requests == 0 and usage.cache_hits == 3
    assert [r.text for r in again] == [r.text for r in first]
    assert all(r.cached for r in again)


def test_retries_with_backoff_on_429_and_5xx() -> None:
    script: list[str | Fault] = [Fault(429, retry_after=0.05), Fault(503), "fine"]
    with ScriptedServer(lambda r: script[min(r.index, 2)]) as server:
        async def go() -> Any:
            llm = make(server, None, max_retries=3)
            answer = await llm.chat(HELLO)
            await llm.close()
            return llm, answer

        llm, answer = run(go())
    assert answer.text == "fine"
    assert llm.usage.retries == 2 and server.count == 3


def test_a_request_that_keeps_failing_is_an_llm_error() -> None:
    with ScriptedServer(fixed("x")) as server:
        server.reply = lambda r: Fault(500)

        async def go() -> Any:
            llm = make(server, None, max_retries=2)
            try:
                await llm.chat(HELLO)
            finally:
                await llm.close()

        with pytest.raises(LLMError, match="3 attempts"):
            run(go())
    assert server.count == 3


def test_timeouts_are_retried() -> None:
    with ScriptedServer(lambda r: Delay(2.0, "slow") if r.index == 0 else "quick") as server:
        async def go() -> str:
            llm = make(server, None, timeout=0.5, max_retries=2)
            try:
                return (await llm.chat(HELLO)).text
            finally:
                await llm.close()

        assert run(go()) == "quick"


def test_client_errors_are_not_retried() -> None:
    with ScriptedServer(lambda r: Fault(400, "bad request")) as server:
        async def go() -> None:
            llm = make(server, None, max_retries=5)
            try:
                await llm.chat(HELLO)
            finally:
                await llm.close()

        with pytest.raises(LLMError, match="400"):
            run(go())
    assert server.count == 1


def test_request_budget_is_a_hard_cap_and_cache_hits_are_free(tmp_path: Path) -> None:
    with ScriptedServer(lambda r: "ok") as server:
        async def go() -> Any:
            llm = make(server, tmp_path, budget_requests=2)
            await llm.chat(HELLO)
            await llm.chat(HELLO, sample=1)
            await llm.chat(HELLO)  # cached: free
            try:
                with pytest.raises(BudgetExhausted):
                    await asyncio.gather(*(llm.chat(HELLO, sample=i) for i in range(2, 6)))
            finally:
                await llm.close()
            return llm.usage

        usage = run(go())
    assert server.count == 2 and usage.requests == 2 and usage.cache_hits == 1


def test_token_budget_is_a_cap_on_what_requests_may_use() -> None:
    with ScriptedServer(lambda r: "one two three four five") as server:
        async def go(budget: int) -> tuple[int, Any]:
            llm = make(server, None, budget_tokens=budget, max_tokens=8, concurrency=8)
            try:
                results = await asyncio.gather(*(llm.chat(HELLO, sample=i) for i in range(20)),
                                               return_exceptions=True)
            finally:
                await llm.close()
            stops = [r for r in results if isinstance(r, BudgetExhausted)]
            assert stops and all("token budget" in str(r) for r in stops)
            return server.count, llm.usage

        before = server.count
        count, usage = run(go(1))  # one request could use 8 tokens: none is sent
        assert count == before and usage.requests == 0
        count, usage = run(go(40))
        sent = count - before
        assert 1 <= sent == usage.requests < 20
        # what was sent could not use more than the budget, whatever the replies said
        assert usage.completion_tokens <= 40


def test_concurrency_is_bounded() -> None:
    with ScriptedServer(lambda r: "ok", latency=0.1) as server:
        async def go() -> float:
            llm = make(server, None, concurrency=4)
            start = time.monotonic()
            await asyncio.gather(*(llm.chat(HELLO, sample=i) for i in range(16)))
            await llm.close()
            return time.monotonic() - start

        elapsed = run(go())
    assert server.in_flight_max == 4
    assert elapsed >= 0.39  # 16 requests, 4 at a time, 0.1 s each


def test_completion_mode_renders_the_turns_as_a_prompt() -> None:
    seen: list[Request] = []

    def reply(request: Request) -> str:
        seen.append(request)
        return "answer"

    with ScriptedServer(reply) as server:
        async def go() -> str:
            llm = make(server, None, mode="completion")
            try:
                return (await llm.ask(HELLO)).text
            finally:
                await llm.close()

        assert run(go()) == "answer"
    assert seen[0].kind == "completion"
    assert seen[0].prompt == render_prompt(HELLO)
    assert seen[0].prompt.endswith("### Response\n")


def test_config_sources_and_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://env.example/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "env-key")
    assert LLMConfig.load().base_url == "http://env.example/v1"
    assert LLMConfig.load().api_key == "env-key"
    config_file = tmp_path / "codesynth.toml"
    config_file.write_text('[llm]\nbase_url = "http://file.example/v1"\nconcurrency = 3\n')
    loaded = LLMConfig.load(str(config_file), model="m")
    assert (loaded.base_url, loaded.concurrency, loaded.model) == ("http://file.example/v1", 3,
                                                                   "m")
    assert LLMConfig.load(str(config_file), base_url="http://flag/v1").base_url == "http://flag/v1"
    config_file.write_text('[llm]\ntemprature = 0.1\n')
    with pytest.raises(UserError, match="unknown .*temprature"):
        LLMConfig.load(str(config_file))
    with pytest.raises(UserError, match="mode"):
        LLMConfig(mode="edit")
