"""Run the service until SIGTERM or SIGINT, then shut down gracefully.

Shutdown: new requests get 503 (with ``Retry-After``), the requests being handled finish
(at most ``grace`` seconds), then the listening socket closes, the worker threads stop and
the sandbox is closed (its runners and cgroups with it).
"""

from __future__ import annotations

import asyncio
import ipaddress
import signal
import socket
import sys
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from codesynth.errors import UserError
from codesynth.serve.app import Service, Settings, make_app
from codesynth.serve.dispatch import Dispatcher
from codesynth.serve.metrics import Metrics


@dataclass
class Options:
    host: str
    port: int
    queue: int
    per_token: int
    max_body: int
    grace: float


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            return all(ipaddress.ip_address(info[4][0]).is_loopback
                       for info in socket.getaddrinfo(host, None))
        except (OSError, ValueError):
            return False


def check_binding(host: str, tokens: tuple[str, ...]) -> None:
    if not tokens and not is_loopback(host):
        raise UserError(f"refusing to listen on {host} without a token: anyone who can reach "
                        "it could run code on this machine. Pass --token T (or set "
                        "CODESYNTH_TOKEN), or bind 127.0.0.1")


async def serve(sandbox: Any, store: Any, settings: Settings, options: Options,
                ready: Any = None) -> None:
    metrics = Metrics()
    dispatcher = Dispatcher(sandbox, options.queue, options.per_token, store, metrics.event)
    service = Service(dispatcher, settings, metrics)
    runner = web.AppRunner(make_app(service, options.max_body), handler_cancellation=True,
                           access_log=None, shutdown_timeout=options.grace)
    try:
        await runner.setup()
        site = web.TCPSite(runner, options.host, options.port)
        try:
            await site.start()
        except OSError as exc:
            raise UserError(f"cannot listen on {options.host}:{options.port}: "
                            f"{exc.strerror or exc}") from None
        port = runner.addresses[0][1] if runner.addresses else options.port
        info = getattr(sandbox, "info", {}) or {}
        print(f"codesynth serve: listening on http://{options.host}:{port} (sandbox "
              f"{getattr(sandbox, 'name', '')}, {dispatcher.workers} workers, queue "
              f"{options.queue}; {info.get('isolation', '')})", file=sys.stderr, flush=True)
        if ready is not None:
            ready(port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        print("codesynth serve: stopping (finishing the requests in progress)",
              file=sys.stderr, flush=True)
        await dispatcher.drain(options.grace)  # new work: 503 from here on
        end = time.monotonic() + options.grace
        while service.active and time.monotonic() < end:
            await asyncio.sleep(0.02)
    finally:
        await runner.cleanup()
        await asyncio.get_running_loop().run_in_executor(None, dispatcher.close)
        print("codesynth serve: stopped", file=sys.stderr, flush=True)
