"""LLM settings from flags, a config file (TOML, ``[llm]`` table) and the standard
``OPENAI_BASE_URL`` / ``OPENAI_API_KEY`` variables; flags win over the file, the file over
the environment."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codesynth.errors import UserError


@dataclass
class LLMConfig:
    base_url: str | None = None  # None: start the embedded model
    api_key: str | None = None
    model: str | None = None  # None: the server's first model
    mode: str = "chat"  # or "completion" (base models, prompted few-shot)
    temperature: float = 0.7
    top_p: float = 0.95
    max_tokens: int = 768
    seed: int = 0
    concurrency: int = 8
    timeout: float = 120.0
    max_retries: int = 5
    budget_requests: int | None = None
    budget_tokens: int | None = None
    cache: str | None = ".codesynth/llm-cache.sqlite"  # None: no cache
    # The keys set by the environment, a file or a flag (not a setting: defaults that fit
    # the endpoint, such as the embedded server's concurrency, apply only to the others).
    given: frozenset[str] = dataclasses.field(default=frozenset(), init=False, repr=False,
                                              compare=False)

    def __post_init__(self) -> None:
        if self.mode not in ("chat", "completion"):
            raise UserError(f"llm mode must be chat or completion (got {self.mode!r})")
        if self.concurrency < 1:
            raise UserError("llm concurrency must be at least 1")

    @classmethod
    def load(cls, path: str | None = None, **overrides: Any) -> LLMConfig:
        """Defaults < environment < config file < explicit overrides (None means unset)."""
        values: dict[str, Any] = {}
        if os.environ.get("OPENAI_BASE_URL"):
            values["base_url"] = os.environ["OPENAI_BASE_URL"]
        if os.environ.get("OPENAI_API_KEY"):
            values["api_key"] = os.environ["OPENAI_API_KEY"]
        if path:
            values.update(_from_file(Path(path)))
        values.update({k: v for k, v in overrides.items() if v is not None})
        config = cls(**values)
        config.given = frozenset(values)
        return config

    def sampling(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "top_p": self.top_p,
                "max_tokens": self.max_tokens}


def _from_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise UserError(f"{path}: config file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: not valid TOML: {exc}") from None
    table = data.get("llm", data)
    known = {f.name for f in dataclasses.fields(LLMConfig)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise UserError(f"{path}: unknown [llm] key(s) {', '.join(unknown)} "
                        f"(known: {', '.join(sorted(known))})")
    return dict(table)
