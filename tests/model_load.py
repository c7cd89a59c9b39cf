"""A driver that sends ``count`` chat requests through the shared model endpoints and prints
the replies as JSON (run as a process of its own by the endpoint tests).

    python -m tests.model_load URL [URL...] --count N --concurrency C [--rate R]
        [--executor ray --ray-address ADDR] [--tag T]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from codesynth.executors import share_models
from codesynth.llm import LLMConfig
from codesynth.llm.client import LLM


async def send(config: LLMConfig, base_url: str, count: int, tag: str) -> list[str]:
    llm = LLM(config, base_url)
    try:
        replies = await asyncio.gather(*(llm.chat([{"role": "user", "content": f"{tag}-{i}"}])
                                         for i in range(count)))
    finally:
        await llm.close()
    return [reply.text for reply in replies]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=None)
    parser.add_argument("--rate", type=float, default=None)
    parser.add_argument("--executor", default="local")
    parser.add_argument("--ray-address", default=None)
    parser.add_argument("--tag", default="r")
    args = parser.parse_args()
    config = LLMConfig(base_url=args.urls[0], cache=None, concurrency=64, timeout=60.0)
    share_models(config, args.urls[1:], args.concurrency, args.rate, args.executor,
                 args.ray_address)
    start = time.monotonic()
    texts = asyncio.run(send(config, args.urls[0], args.count, args.tag))
    print(json.dumps({"texts": texts, "seconds": time.monotonic() - start,
                      "sent": dict(config.pool.sent)}))


if __name__ == "__main__":
    main()
