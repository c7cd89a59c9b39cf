"""Model options shared by every command that talks to an LLM."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from typing import Any

from codesynth.cli._display import console


def add_llm_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model")
    group.add_argument("--model", default=None, help="model name (default: the server's)")
    group.add_argument("--base-url", default=None,
                       help="OpenAI-compatible endpoint (default: OPENAI_BASE_URL, else the "
                            "embedded SmolLM2-135M-Instruct)")
    group.add_argument("--config", default=None, help="TOML file with an [llm] table")
    group.add_argument("--mode", choices=("chat", "completion"), default=None,
                       help="chat, or completion for base models (default: chat)")
    group.add_argument("--concurrency", type=int, default=None, help="requests in flight")
    group.add_argument("--temperature", type=float, default=None)
    group.add_argument("--max-tokens", type=int, default=None)
    group.add_argument("--budget-requests", type=int, default=None,
                       help="stop before sending more requests than this")
    group.add_argument("--budget-tokens", type=int, default=None,
                       help="stop once this many tokens were used")
    group.add_argument("--cache", default=None,
                       help="response cache (default: .codesynth/llm-cache.sqlite)")
    group.add_argument("--endpoint", action="append", default=None, metavar="URL",
                       help="another server of the same model, sharing the requests "
                            "(repeatable)")
    group.add_argument("--model-concurrency", type=int, default=None,
                       help="requests in flight over every endpoint, shared by every "
                            "generator (--executor ray: by the whole cluster)")
    group.add_argument("--model-rate", type=float, default=None,
                       help="requests per second, shared as --model-concurrency is")


def llm_config(args: argparse.Namespace) -> Any:
    from codesynth.executors import share_models
    from codesynth.llm import LLMConfig

    config = LLMConfig.load(args.config, base_url=args.base_url, model=args.model,
                            mode=args.mode, concurrency=args.concurrency,
                            temperature=args.temperature, max_tokens=args.max_tokens,
                            seed=getattr(args, "seed", None),
                            budget_requests=args.budget_requests,
                            budget_tokens=args.budget_tokens, cache=args.cache)
    share_models(config, getattr(args, "endpoint", None),
                 getattr(args, "model_concurrency", None), getattr(args, "model_rate", None),
                 getattr(args, "executor", "local"), getattr(args, "ray_address", None))
    return config


@contextlib.contextmanager
def endpoint(config: Any) -> Iterator[str]:
    """The server's base URL: the configured one, or the embedded model, started now and
    stopped when the block ends."""
    if config.base_url is not None:
        yield config.base_url
        return
    from rich.text import Text

    from codesynth.llm.embedded import EmbeddedModel

    def report(message: str) -> None:
        console.print(Text(message, style="yellow"), highlight=False)

    with console.status("starting the embedded model (SmolLM2-135M-Instruct)"):
        model = EmbeddedModel(report=report).start()
    try:
        config.model = config.model or model.name
        if "concurrency" not in config.given:  # more would only queue in the server
            config.concurrency = model.slots
        yield model.base_url
    finally:
        model.stop()
