"""``codesynth serve``: the verifier and reward API over HTTP (see codesynth/serve)."""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any

from codesynth.cli._quality_args import add_cache_option
from codesynth.cli._sandbox_args import add_sandbox_options, limits_from, sandbox_from
from codesynth.errors import UserError

TOKEN_ENV = "CODESYNTH_TOKEN"


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "serve", help="serve verdicts and rewards over HTTP (SandboxFusion and open-r1 "
                      "compatible)",
        description="POST /v1/verify, /v1/reward; SandboxFusion's /run_code; open-r1's "
                    "/execute_batch; GET /v1/health, /metrics. One warm sandbox, a bounded "
                    "queue (429 + Retry-After when full). Stops gracefully on SIGTERM/SIGINT.")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: 127.0.0.1); any other than "
                             "loopback needs a token")
    parser.add_argument("--port", type=int, default=8080, help="(default: 8080; 0: any free)")
    parser.add_argument("--queue", type=int, default=1024,
                        help="jobs that may wait for a worker (default: 1024); beyond: 429")
    parser.add_argument("--token", action="append", default=None,
                        help=f"a client token (repeatable; also {TOKEN_ENV}, comma-separated)")
    parser.add_argument("--per-token", type=int, default=None,
                        help="jobs one token may have queued or running (default: --queue)")
    parser.add_argument("--max-body-mb", type=float, default=16.0,
                        help="largest request body (default: 16 MiB); beyond: 413")
    parser.add_argument("--max-records", type=int, default=1024,
                        help="records in one request (default: 1024); beyond: 413")
    parser.add_argument("--deadline", type=float, default=600.0,
                        help="seconds a request may wait and run at most (default: 600; "
                             "a request asks for less with X-Codesynth-Deadline)")
    parser.add_argument("--io-timeout", type=float, default=30.0,
                        help="seconds to read a request's body or write an answer "
                             "(default: 30); a slower client gets 408 or is disconnected")
    parser.add_argument("--grace", type=float, default=30.0,
                        help="seconds to finish the requests in progress on shutdown "
                             "(default: 30)")
    add_sandbox_options(parser)
    add_cache_option(parser)
    parser.set_defaults(handler=run)


def tokens_from(args: argparse.Namespace) -> tuple[str, ...]:
    given = list(args.token or [])
    given += [t.strip() for t in os.environ.get(TOKEN_ENV, "").split(",")]
    tokens = tuple(dict.fromkeys(t for t in given if t))
    for token in tokens:
        if len(token) < 8 or not token.isprintable() or " " in token:
            raise UserError("a token must be at least 8 printable characters without spaces")
    return tokens


def run(args: argparse.Namespace) -> int:
    from codesynth.exec_cache import ENV, ExecutionStore, default_path
    from codesynth.serve.app import Settings
    from codesynth.serve.server import Options, check_binding, serve

    tokens = tokens_from(args)
    check_binding(args.host, tokens)
    for name, value, low in (("--queue", args.queue, 1), ("--max-records", args.max_records, 1),
                             ("--per-token", 1 if args.per_token is None else args.per_token, 1)):
        if value < low:
            raise UserError(f"{name} must be at least {low}")
    if not 0 <= args.port <= 65535:
        raise UserError("--port must be from 0 to 65535")
    if not (0 < args.deadline <= 86400 and 0 < args.grace <= 3600
            and 0 < args.max_body_mb <= 4096 and 0 < args.io_timeout <= 3600):
        raise UserError("--deadline must be in (0, 86400], --grace and --io-timeout in "
                        "(0, 3600], --max-body-mb in (0, 4096]")
    limits = limits_from(args)
    where = None if args.no_cache else default_path()
    store = None
    if where is not None:
        try:
            store = ExecutionStore(where)
        except Exception as exc:  # noqa: BLE001 - sqlite3.Error or OSError
            raise UserError(f"execution cache {where}: cannot open it ({exc}); set {ENV} to "
                            "another path, or to off, or pass --no-cache") from None
    sandbox = sandbox_from(args, limits)
    settings = Settings(limits=limits, tokens=tokens, deadline=args.deadline,
                        body_timeout=args.io_timeout, max_records=args.max_records)
    options = Options(host=args.host, port=args.port, queue=args.queue,
                      per_token=args.per_token or args.queue,
                      max_body=int(args.max_body_mb * 1024 * 1024), grace=args.grace)
    try:
        asyncio.run(serve(sandbox, store, settings, options))
    finally:  # closed already unless serving never started (both closes are idempotent)
        sandbox.close()
        if store is not None:
            store.close()
    return 0
