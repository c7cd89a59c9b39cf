"""Backpressure: a small queue under many clients gives 429s with Retry-After, and the
clients' retries get every result exactly once, in order; per-token limits."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codesynth.client import AsyncClient, Client, ServeError
from codesynth.serve.reward import extract_code
from tests.serve_server import serve


def numbered(count: int, start: int = 0) -> list[dict[str, Any]]:
    """Records whose verdict names them: record i passes only with its own code and tests."""
    return [{"id": f"r{i}", "code": f"import time\ntime.sleep(0.02)\ndef f():\n    return {i}\n",
             "tests": f"assert f() == {i}\n"} for i in range(start, start + count)]


def check_exactly_once(records: list[dict[str, Any]], answers: list[dict[str, Any]]) -> None:
    assert [a["id"] for a in answers] == [r["id"] for r in records]
    for record, answer in zip(records, answers, strict=True):
        result = answer["result"]
        assert result["status"] == "passed", (record["id"], result["reason"])
        assert result["tests"][0]["source"] == record["tests"].strip()


def test_overload_gives_429s_and_retries_lose_or_repeat_nothing() -> None:
    records = numbered(48)
    with serve("--workers", "1", "--queue", "3") as server:
        client = Client(server.url, batch_size=2, concurrency=12, max_wait=0.5)
        answers = client.verify(records)
        check_exactly_once(records, answers)
        assert client.retries > 0
        rejected = server.metric("codesynth_rejected_total")
        assert rejected >= client.retries * 0.5 > 0  # the retries answered 429s (or 503s)
        assert server.metric("codesynth_requests_total", 'code="429"') == rejected
        assert server.metric("codesynth_verdicts_total") == len(records)  # each ran once
        status, body, headers = server.post("/v1/verify", {"records": numbered(4)})
        assert status == 413 and "send smaller batches" in body["message"]  # it never fits


def test_async_client_under_overload() -> None:
    records = numbered(30, start=100)

    async def main(url: str) -> tuple[list[dict[str, Any]], int]:
        async with AsyncClient(url, batch_size=1, concurrency=10, max_wait=0.5) as client:
            return await client.verify(records), client.retries

    with serve("--workers", "1", "--queue", "2") as server:
        answers, retries = asyncio.run(main(server.url))
        assert server.metric("codesynth_verdicts_total") == len(records)
    check_exactly_once(records, answers)
    assert retries > 0


def test_each_token_has_its_own_share() -> None:
    first, second = "token-number-one", "token-number-two"
    slow = [{"id": f"s{i}", "code": "import time\ntime.sleep(1)", "tests": "assert True"}
            for i in range(2)]
    with serve("--workers", "1", "--queue", "8", "--per-token", "2", token=first,
               env={"CODESYNTH_TOKEN": second}) as server:
        busy = threading.Thread(target=Client(server.url, token=first).verify, args=(slow,))
        busy.start()
        time.sleep(0.3)
        greedy = Client(server.url, token=first, retry_for=0.2, max_wait=0.05)
        with pytest.raises(ServeError, match="this token has 2 jobs queued or running"):
            greedy.verify(numbered(1))
        status, body, headers = server.post("/v1/verify", {"records": numbered(1)},
                                            {"Authorization": f"Bearer {first}"})
        assert status == 429 and int(headers["Retry-After"]) >= 1
        check_exactly_once(numbered(2), Client(server.url, token=second).verify(numbered(2)))
        with pytest.raises(ServeError, match="send smaller batches"):
            Client(server.url, token=second).verify(numbered(3))  # 413 at once, no retry
        busy.join(30)


@given(st.text(alphabet=st.characters(blacklist_characters="`"), min_size=1))
def test_fenced_code_is_extracted_whole(code: str) -> None:
    code = code if code.endswith("\n") else code + "\n"
    assert extract_code(f"Sure.\n```python\n{code}```\nDone.") == code
    assert extract_code(f"```\nnot this\n```\n```py\n{code}```") == code
