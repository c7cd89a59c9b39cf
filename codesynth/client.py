"""Clients of ``codesynth serve``: :class:`Client` (sync) and :class:`AsyncClient`.

Records go in batches (``batch_size`` per request, ``concurrency`` requests at a time) and
come back in input order. A 429 or 503 is retried after the server's ``Retry-After``
(seconds, at most ``max_wait``), a refused or dropped connection after an exponential
backoff, until ``retry_for`` seconds have passed; other errors raise :class:`ServeError`
at once (a 504 is the request's own deadline: :class:`DeadlineExceeded`).

    from codesynth.client import Client
    client = Client("http://127.0.0.1:8080", token="...")
    records = client.verify([{"id": "1", "code": "...", "tests": "assert ..."}])
    rewards = client.reward(completions, tests="assert f(1) == 2", policy="fraction")
"""

from __future__ import annotations

import asyncio
import http.client
import json
import random
import threading
import time
import urllib.parse
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

RETRY_STATUSES = (429, 503)


class ServeError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        message = body.get("message", body) if isinstance(body, dict) else body
        super().__init__(f"HTTP {status}: {message}")
        self.status, self.body = status, body


class DeadlineExceeded(ServeError):
    """The server dropped the request when its deadline passed (HTTP 504)."""


def _raise_for(status: int, body: Any) -> None:
    if status == 504:
        raise DeadlineExceeded(status, body)
    raise ServeError(status, body)


def _batches(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)] or [items]


def _refused(status: int, raw: bytes, give_up: float, retry_for: float) -> None:
    """After an answer other than 200 (``status`` 0: none): raise what the caller gets, or
    return when the request is to be sent again (a retryable refusal, time left)."""
    if status and status not in RETRY_STATUSES:
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = raw.decode(errors="replace")
        _raise_for(status, parsed)
    if time.monotonic() >= give_up:
        raise ServeError(status, f"still refused after retrying for "
                                 f"{retry_for:g} s: {raw.decode(errors='replace')}")


def _retry_after(headers: Any, attempt: int, max_wait: float) -> float:
    value = headers.get("Retry-After") if headers is not None else None
    try:
        wait = float(value) if value is not None else min(max_wait, 0.1 * 2 ** attempt)
    except ValueError:
        wait = min(max_wait, 0.1 * 2 ** attempt)
    return min(max_wait, max(0.0, wait)) * (1 + 0.1 * random.random())


def _reward_bodies(completions: Sequence[Any], batch_size: int, options: dict[str, Any]
                   ) -> list[dict[str, Any]]:
    specs = options.pop("specs", None)
    bodies = []
    for start in range(0, len(completions), batch_size):
        body = {**options, "completions": list(completions[start:start + batch_size])}
        if specs is not None:
            body["specs"] = list(specs[start:start + batch_size])
        bodies.append(body)
    return bodies


def _merge_rewards(answers: list[dict[str, Any]]) -> dict[str, Any]:
    return {"rewards": [r for a in answers for r in a["rewards"]],
            "results": [r for a in answers for r in a["results"]]}


class _Base:
    def __init__(self, base_url: str, token: str | None = None, timeout: float = 600.0,
                 batch_size: int = 64, concurrency: int = 4, retry_for: float = 600.0,
                 max_wait: float = 60.0, deadline: float | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token, self.timeout = token, timeout
        self.batch_size, self.concurrency = max(1, batch_size), max(1, concurrency)
        self.retry_for, self.max_wait, self.deadline = retry_for, max_wait, deadline
        self.retries = 0  # requests sent again (429/503/connection): for tests and logs

    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.deadline is not None:
            headers["X-Codesynth-Deadline"] = f"{self.deadline:g}"
        return headers


class Client(_Base):
    """Synchronous client; its keep-alive connections are reused across calls and threads
    (``close`` or a ``with`` block ends them)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()

    def _connection(self) -> http.client.HTTPConnection:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        url = urllib.parse.urlsplit(self.base_url)
        kind = http.client.HTTPSConnection if url.scheme == "https" \
            else http.client.HTTPConnection
        return kind(url.hostname or "127.0.0.1", url.port, timeout=self.timeout)

    def _release(self, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            self._idle.append(connection)

    def close(self) -> None:
        with getattr(self, "_lock", threading.Lock()):
            idle, self._idle = getattr(self, "_idle", []), []
        for connection in idle:
            connection.close()

    def request(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        prefix = urllib.parse.urlsplit(self.base_url).path.rstrip("/")
        give_up = time.monotonic() + self.retry_for
        attempt = 0
        while True:
            connection = self._connection()
            try:
                connection.request(method, prefix + path, body=data, headers=self.headers())
                response = connection.getresponse()
                status, headers, raw = response.status, response.headers, response.read()
                self._release(connection)
            except TimeoutError as exc:  # the server may still be running it: never resent
                connection.close()
                raise ServeError(0, f"no answer within {self.timeout:g} s") from exc
            except (ConnectionError, http.client.HTTPException, OSError) as exc:
                connection.close()
                if time.monotonic() >= give_up:
                    raise ServeError(0, f"cannot reach {self.base_url}: {exc}") from exc
                status, headers, raw = 0, None, b""
            if status == 200:
                return json.loads(raw)
            _refused(status, raw, give_up, self.retry_for)
            self.retries += 1
            time.sleep(_retry_after(headers, attempt, self.max_wait))
            attempt += 1

    def _many(self, path: str, bodies: list[dict[str, Any]]) -> list[Any]:
        if len(bodies) == 1:
            return [self.request("POST", path, bodies[0])]
        with ThreadPoolExecutor(min(self.concurrency, len(bodies))) as pool:
            return list(pool.map(lambda b: self.request("POST", path, b), bodies))

    def verify(self, records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """The records with ``result`` added, in order (as ``codesynth verify`` writes them)."""
        answers = self._many("/v1/verify", [{"records": list(b)}
                                            for b in _batches(records, self.batch_size)])
        return [r for a in answers for r in a["records"]]

    def reward(self, completions: Sequence[Any], **options: Any) -> dict[str, Any]:
        """``{"rewards": [...], "results": [...]}``; options as ``/v1/reward`` takes them:
        tests, test_style, entry_point, language, specs, policy, extract_code."""
        return _merge_rewards(self._many("/v1/reward", _reward_bodies(
            completions, self.batch_size, dict(options))))

    def run_code(self, code: str, language: str = "python", **options: Any) -> dict[str, Any]:
        return self.request("POST", "/run_code", {"code": code, "language": language,
                                                  **options})  # type: ignore[no-any-return]

    def health(self) -> dict[str, Any]:
        return self.request("GET", "/v1/health")  # type: ignore[no-any-return]



class AsyncClient(_Base):
    """Asynchronous client on aiohttp; use ``async with AsyncClient(...) as client``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._session: Any = None

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _open(self) -> Any:
        import aiohttp

        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                connector=aiohttp.TCPConnector(limit=self.concurrency))
        return self._session

    async def request(self, method: str, path: str, body: Any = None) -> Any:
        import aiohttp

        session = self._open()
        give_up = time.monotonic() + self.retry_for
        attempt = 0
        while True:
            headers = None
            try:
                async with session.request(method, self.base_url + path, json=body,
                                           headers=self.headers()) as response:
                    status, headers, raw = response.status, response.headers, \
                        await response.read()
            except TimeoutError as exc:  # the server may still be running it: never resent
                raise ServeError(0, f"no answer within {self.timeout:g} s") from exc
            except (aiohttp.ClientConnectionError, OSError) as exc:
                if time.monotonic() >= give_up:
                    raise ServeError(0, f"cannot reach {self.base_url}: {exc}") from exc
                status, raw = 0, b""
            if status == 200:
                return json.loads(raw)
            _refused(status, raw, give_up, self.retry_for)
            self.retries += 1
            await asyncio.sleep(_retry_after(headers, attempt, self.max_wait))
            attempt += 1

    async def _many(self, path: str, bodies: list[dict[str, Any]]) -> list[Any]:
        gate = asyncio.Semaphore(self.concurrency)

        async def one(body: dict[str, Any]) -> Any:
            async with gate:
                return await self.request("POST", path, body)

        return list(await asyncio.gather(*(one(b) for b in bodies)))

    async def verify(self, records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        answers = await self._many("/v1/verify", [{"records": list(b)}
                                                  for b in _batches(records, self.batch_size)])
        return [r for a in answers for r in a["records"]]

    async def reward(self, completions: Sequence[Any], **options: Any) -> dict[str, Any]:
        return _merge_rewards(await self._many("/v1/reward", _reward_bodies(
            completions, self.batch_size, dict(options))))

    async def run_code(self, code: str, language: str = "python", **options: Any
                       ) -> dict[str, Any]:
        return await self.request(  # type: ignore[no-any-return]
            "POST", "/run_code", {"code": code, "language": language, **options})

    async def health(self) -> dict[str, Any]:
        return await self.request("GET", "/v1/health")  # type: ignore[no-any-return]
