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


def test_clients_wait_what_retry_after_says() -> None:
    """Against a stand-in that refuses twice (429, then 503) with Retry-After: 1."""
    import http.server
    import json as json_

    answers = [(429, {"Retry-After": "1"}), (503, {"Retry-After": "1"})]
    seen: list[float] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            body = json_.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append(time.monotonic())
            status, headers = answers.pop(0) if answers else (200, {})
            payload = json_.dumps({"records": [{**r, "result": {}} for r in body["records"]]}
                                  if status == 200 else {"error": "overloaded"}).encode()
            self.send_response(status)
            for name, value in {**headers, "Content-Length": str(len(payload))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    stand_in = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=stand_in.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{stand_in.server_address[1]}"
    try:
        with Client(url) as client:
            assert [r["id"] for r in client.verify(numbered(2))] == ["r0", "r1"]
        assert client.retries == 2 and len(seen) == 3
        assert seen[1] - seen[0] >= 1.0 and seen[2] - seen[1] >= 1.0
        answers[:] = [(429, {"Retry-After": "1"})]
        seen.clear()

        async def main() -> list[dict[str, Any]]:
            async with AsyncClient(url) as client:
                return await client.verify(numbered(1))

        assert asyncio.run(main())[0]["id"] == "r0"
        assert len(seen) == 2 and seen[1] - seen[0] >= 1.0
    finally:
        stand_in.shutdown()
        stand_in.server_close()
