"""The HTTP application: routes, authentication, limits on requests, deadlines.

Every wait has a deadline: reading a body (``body_timeout``), a request's jobs (its own
``X-Codesynth-Deadline`` seconds, at most the server's ``deadline``) and writing the answer
(``body_timeout``). A client that goes away cancels its request: jobs of it still queued are
dropped (see :mod:`codesynth.serve.dispatch`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web

from codesynth.errors import InputError
from codesynth.records import Execution, Job, Limits
from codesynth.serve import compat
from codesynth.serve.auth import token_of
from codesynth.serve.dispatch import (
    DeadlineExpired,
    Dispatcher,
    Overloaded,
    ShuttingDown,
    TooLarge,
)
from codesynth.serve.metrics import CONTENT_TYPE, Metrics
from codesynth.serve.reward import reward, reward_records
from codesynth.verify import job_from_record

DEADLINE_HEADER = "X-Codesynth-Deadline"
OPEN_PATHS = ("/v1/health",)


@dataclasses.dataclass
class Settings:
    limits: Limits
    tokens: tuple[str, ...] = ()
    deadline: float = 600.0  # seconds a request may take at most (queue and run)
    body_timeout: float = 30.0  # reading a request's body, writing an answer
    max_records: int = 1024


class Failure(Exception):
    def __init__(self, status: int, error: str, message: str,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.error, self.message = status, error, message
        self.headers = headers or {}


def any_cancelled(futures: Sequence[asyncio.Future[Execution]]) -> bool:
    return any(future.cancelled() for future in futures)


class Service:
    def __init__(self, dispatcher: Dispatcher, settings: Settings, metrics: Metrics) -> None:
        self.dispatcher, self.settings, self.metrics = dispatcher, settings, metrics
        self.active = 0  # requests being handled (graceful shutdown waits for them)

    # -- plumbing ---------------------------------------------------------------------------

    @web.middleware
    async def middleware(self, request: web.Request,
                         handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                         ) -> web.StreamResponse:
        start = time.perf_counter()
        endpoint = request.match_info.route.resource.canonical \
            if request.match_info.route.resource else "unknown"
        self.active += 1
        status = 500
        try:
            if self.settings.tokens and request.path not in OPEN_PATHS:
                token = token_of(request, self.settings.tokens)
                if token is None:
                    raise Failure(401, "unauthorized", "a valid token is required "
                                  "(Authorization: Bearer TOKEN)",
                                  {"WWW-Authenticate": 'Bearer realm="codesynth"'})
                request["token"] = token
            response = await handler(request)
            status = response.status
            return response
        except Failure as failure:
            status = failure.status
            return await self.send(request, failure.status,
                                   {"error": failure.error, "message": failure.message},
                                   failure.headers)
        except web.HTTPException as exc:  # aiohttp's own: 404, 405, 413 (body too large)
            status = exc.status
            message = exc.text or exc.reason
            if exc.status == 413:
                message = f"the request body is larger than the limit " \
                          f"({request.app['max_body']} bytes)"
            return await self.send(request, exc.status, {"error": exc.reason.lower()
                                                         .replace(" ", "_"),
                                                         "message": message})
        except (Exception, asyncio.CancelledError) as exc:
            if isinstance(exc, asyncio.CancelledError):  # the client went away
                status = 499
                raise
            print(f"codesynth serve: {request.method} {request.path}: {exc!r}",
                  file=sys.stderr, flush=True)
            return await self.send(request, 500, {"error": "internal",
                                                  "message": f"{type(exc).__name__}: {exc}"})
        finally:
            self.active -= 1
            self.metrics.requests.labels(endpoint, str(status)).inc()
            self.metrics.latency.labels(endpoint).observe(time.perf_counter() - start)

    async def body(self, request: web.Request) -> Any:
        try:
            raw = await asyncio.wait_for(request.read(), self.settings.body_timeout)
        except TimeoutError:
            raise Failure(408, "request_timeout", "the request body did not arrive within "
                          f"{self.settings.body_timeout:g} s") from None
        try:
            return json.loads(raw)
        except UnicodeDecodeError:
            raise Failure(400, "bad_json", "the body is not UTF-8 text") from None
        except json.JSONDecodeError as exc:
            raise Failure(400, "bad_json", f"the body is not JSON: {exc.msg} at line "
                          f"{exc.lineno}, column {exc.colno}") from None

    async def send(self, request: web.Request, status: int, data: Any,
                   headers: dict[str, str] | None = None) -> web.StreamResponse:
        payload = json.dumps(data, ensure_ascii=False).encode()
        response = web.StreamResponse(status=status, headers=headers)
        response.content_type = "application/json"
        response.content_length = len(payload)
        try:
            await asyncio.wait_for(self._write(request, response, payload),
                                   self.settings.body_timeout)
        except TimeoutError:  # a client that does not read: the connection is dropped
            if request.transport is not None:
                request.transport.close()
        return response

    @staticmethod
    async def _write(request: web.Request, response: web.StreamResponse, payload: bytes
                     ) -> None:
        await response.prepare(request)
        await response.write(payload)
        await response.write_eof()

    def deadline(self, request: web.Request, asked: float | None = None) -> float:
        seconds = self.settings.deadline
        header = request.headers.get(DEADLINE_HEADER)
        if header is not None:
            try:
                asked = float(header)
            except ValueError:
                raise Failure(400, "bad_deadline", f"{DEADLINE_HEADER} must be seconds, got "
                              f"{header!r}") from None
            if not asked > 0:
                raise Failure(400, "bad_deadline", f"{DEADLINE_HEADER} must be > 0")
        if asked is not None:
            seconds = min(seconds, asked)
        return time.monotonic() + seconds

    async def execute(self, request: web.Request, jobs: Sequence[Job], limits: Limits,
                      deadline: float) -> list[Execution]:
        """Run ``jobs``; their executions in order. Overload and deadlines are Failures."""
        if len(jobs) > self.settings.max_records:
            raise Failure(413, "too_many_records", f"{len(jobs)} jobs in one request; at "
                          f"most {self.settings.max_records}")
        try:
            futures = self.dispatcher.submit(jobs, limits, request.get("token", ""), deadline)
        except Overloaded as exc:
            self.metrics.rejected.labels("queue" if "queue" in exc.reason else "token").inc()
            raise Failure(429, "overloaded", str(exc),
                          {"Retry-After": str(exc.retry_after)}) from None
        except TooLarge as exc:
            raise Failure(413, "too_many_jobs", str(exc)) from None
        except ShuttingDown as exc:
            raise Failure(503, "shutting_down", str(exc), {"Retry-After": "5"}) from None
        try:
            _, pending = await asyncio.wait(futures, timeout=max(0.0, deadline
                                                                 - time.monotonic()))
        finally:
            for future in futures:
                future.cancel()  # no-op when done; else the job is dropped if still queued
            if any_cancelled(futures):
                self.dispatcher.purge()
        expired = Failure(504, "deadline_exceeded", "the request's deadline passed before "
                          "all its jobs ran (jobs still queued were dropped)")
        if pending:
            raise expired
        for future in futures:
            failed = future.exception()
            if isinstance(failed, DeadlineExpired):
                raise expired
            if failed is not None:
                raise failed
        return [f.result() for f in futures]

    # -- endpoints -------------------------------------------------------------------------

    async def health(self, request: web.Request) -> web.StreamResponse:
        d = self.dispatcher
        return await self.send(request, 200, {
            "status": "ok", "sandbox": getattr(d.sandbox, "name", ""), "workers": d.workers,
            "queued": d.queued, "running": d.running, "queue_size": d.queue_size,
            "isolation": dict(getattr(d.sandbox, "info", {}) or {}).get("isolation", "")})

    async def metrics_page(self, request: web.Request) -> web.StreamResponse:
        text = self.metrics.render(self.dispatcher.queued, self.dispatcher.running)
        return web.Response(body=text, headers={"Content-Type": CONTENT_TYPE})

    async def verify(self, request: web.Request) -> web.StreamResponse:
        body = await self.body(request)
        many = isinstance(body, dict) and "records" in body
        records = body["records"] if many else [body]
        if not isinstance(records, list) or not records \
                or not all(isinstance(r, dict) for r in records):
            raise Failure(400, "bad_request", "the body must be one record (a JSON object) or "
                          "{\"records\": [record, ...]} with at least one record")
        jobs = []
        for index, record in enumerate(records):
            try:
                jobs.append(job_from_record(record, f"records[{index}]", None))
            except InputError as exc:
                raise Failure(400, "bad_record", str(exc)) from None
        executions = await self.execute(request, jobs, self.settings.limits,
                                        self.deadline(request))
        out = [{**r, "result": e.to_dict()} for r, e in zip(records, executions, strict=True)]
        return await self.send(request, 200, {"records": out} if many else out[0])

    async def reward(self, request: web.Request) -> web.StreamResponse:
        body = await self.body(request)
        try:
            records, policy = reward_records(body)
            jobs = [job_from_record(r, f"completions[{i}]", None)
                    for i, r in enumerate(records)]
        except (ValueError, InputError) as exc:
            raise Failure(400, "bad_request", str(exc)) from None
        executions = await self.execute(request, jobs, self.settings.limits,
                                        self.deadline(request))
        return await self.send(request, 200, {
            "rewards": [reward(e, policy) for e in executions],
            "results": [e.to_dict() for e in executions]})

    async def run_code(self, request: web.Request) -> web.StreamResponse:
        body = await self.body(request)
        try:
            job, limits, language = compat.run_code_job(body, self.settings.limits)
        except compat.BadRequest as exc:
            return await self.send(request, exc.status, exc.body)
        if job is None:
            return await self.send(request, 200, compat.unsupported(language))
        [execution] = await self.execute(request, [job], limits, self.deadline(request))
        return await self.send(request, 200, compat.run_code_response(execution))

    async def execute_batch(self, request: web.Request) -> web.StreamResponse:
        body = await self.body(request)
        try:
            items, limits, asked, mark = compat.execute_batch_jobs(body, self.settings.limits)
        except compat.BadRequest as exc:
            return await self.send(request, exc.status, exc.body)
        jobs = [item for item in items if isinstance(item, Job)]
        done = iter(await self.execute(request, jobs, limits, self.deadline(request, asked))
                    if jobs else [])
        results = [compat.execute_batch_result(item if isinstance(item, str) else next(done),
                                               mark) for item in items]
        return await self.send(request, 200, results)


def make_app(service: Service, max_body: int) -> web.Application:
    app = web.Application(client_max_size=max_body, middlewares=[service.middleware])
    app["max_body"] = max_body
    app.router.add_get("/v1/health", service.health)
    app.router.add_get("/metrics", service.metrics_page)
    app.router.add_post("/v1/verify", service.verify)
    app.router.add_post("/v1/reward", service.reward)
    app.router.add_post("/run_code", service.run_code)
    app.router.add_post("/execute_batch", service.execute_batch)
    return app
