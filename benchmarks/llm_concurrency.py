"""Requests per second the LLM client sustains against a server with a fixed latency.

A local OpenAI-compatible server (tests/openai_server.py) answers every request after
--latency seconds; the client (codesynth.llm.LLM: the async openai SDK, the semaphore, the
accounting; cache off) sends --requests requests, --concurrency at a time. The bound is
concurrency / latency requests per second; the target is >= 90% of it.

    python benchmarks/llm_concurrency.py [--latency 0.2] [--concurrency 32] [--requests 960]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from codesynth.llm import LLM, LLMConfig  # noqa: E402
from tests.openai_server import ScriptedServer  # noqa: E402


async def drive(base_url: str, concurrency: int, requests: int) -> tuple[float, int]:
    llm = LLM(LLMConfig(cache=None, concurrency=concurrency, max_tokens=16), base_url)
    await llm.resolve_model()
    start = time.perf_counter()
    replies = await asyncio.gather(*(llm.chat([{"role": "user", "content": f"q{i}"}],
                                              sample=i) for i in range(requests)))
    elapsed = time.perf_counter() - start
    await llm.close()
    return elapsed, len(replies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--requests", type=int, default=960)
    args = parser.parse_args()
    with ScriptedServer(lambda r: "def f():\n    return 1", latency=args.latency) as server:
        elapsed, done = asyncio.run(drive(server.base_url, args.concurrency, args.requests))
        peak = server.in_flight_max
    bound = args.concurrency / args.latency
    rate = done / elapsed
    print(f"{done} requests, {args.concurrency} in flight, server latency "
          f"{1000 * args.latency:.0f} ms, {os.cpu_count()} cores")
    print(f"  sustained: {rate:7.1f} requests/s in {elapsed:.2f} s (server saw at most "
          f"{peak} in flight)")
    print(f"  bound:     {bound:7.1f} requests/s (concurrency / latency)")
    print(f"  ratio:     {100 * rate / bound:6.1f}% of the bound (target >= 90%)")


if __name__ == "__main__":
    main()
