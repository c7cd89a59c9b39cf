"""LLM settings from flags, a config file (TOML, ``[llm]`` table) and the standard
``OPENAI_BASE_URL`` / ``OPENAI_API_KEY`` variables; flags win over the file, the file over
the environment."""

from __future__ import annotations

import dataclasses
import os
import reprlib
import tomllib
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from codesynth.errors import UserError

# Kinds and ranges of the numeric settings: (accepted types, lowest, highest).
LIMITS: dict[str, tuple[tuple[type, ...], float, float]] = {
    "temperature": ((float,), 0.0, 2.0),
    "top_p": ((float,), 0.0, 1.0),
    "max_tokens": ((int,), 1, 1_000_000),
    "seed": ((int,), 0, 2**63 - 1),
    "concurrency": ((int,), 1, 1024),
    "timeout": ((float,), 0.001, 86_400.0),
    "max_retries": ((int,), 0, 100),
    "budget_requests": ((int,), 0, 10**12),
    "budget_tokens": ((int,), 0, 10**15),
}
OPTIONAL = {"budget_requests", "budget_tokens"}
_KIND = {int: "a whole number", float: "a number"}


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
    # Not a setting either: more endpoints and a shared limit (codesynth.llm.endpoints), set
    # by the executor; None: every request goes to base_url under ``concurrency`` alone.
    pool: Any = dataclasses.field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Every value checked, whatever it came from (a flag, a file, the environment):
        a bad one is a UserError naming the key, never a traceback later."""
        for name, (kinds, low, high) in LIMITS.items():
            value = getattr(self, name)
            if value is None and name in OPTIONAL:
                continue
            if isinstance(value, int) and not isinstance(value, bool) and float in kinds:
                value = float(value)
                setattr(self, name, value)
            if not isinstance(value, kinds) or isinstance(value, bool):
                raise UserError(f"llm {name}: expected {_KIND[kinds[0]]}, got {_show(value)}")
            if not (low <= cast(float, value) <= high):  # NaN fails both
                raise UserError(f"llm {name}: must be between {low:g} and {high:g}, got "
                                f"{_show(value)}")
        for name in ("base_url", "api_key", "model", "cache"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise UserError(f"llm {name}: expected a non-empty string, got {_show(value)}")
        if self.mode not in ("chat", "completion"):
            raise UserError(f"llm mode: must be chat or completion, got {_show(self.mode)}")
        if self.base_url is not None and (problem := url_problem(self.base_url)):
            raise UserError(f"llm base_url: {problem}")
        if self.api_key is not None and (problem := api_key_problem(self.api_key)):
            raise UserError(f"llm api_key: {problem}")
        if self.cache is not None and Path(self.cache).is_dir():
            raise UserError(f"llm cache: {self.cache} is a directory; name a file")

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


def url_problem(value: str) -> str | None:
    """An http(s) URL with a host and, if given, a port from 1 to 65535."""
    if any(c.isspace() or not c.isprintable() for c in value):
        return f"expected an http:// or https:// URL, got {_show(value)} (it holds whitespace " \
               "or control characters)"
    try:
        parts = urllib.parse.urlsplit(value)
        port = parts.port
    except ValueError as exc:
        return f"not a valid URL ({exc}): {_show(value)}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"expected an http:// or https:// URL with a host, got {_show(value)}"
    if port == 0:
        return f"port 0 is not a port one can connect to: {_show(value)}"
    return None


def api_key_problem(value: str) -> str | None:
    """What an HTTP header can carry: printable ASCII, no whitespace."""
    if all(33 <= ord(c) <= 126 for c in value):
        return None
    return "must be printable ASCII without spaces or line breaks (an HTTP header value); " \
           "check for a stray newline or a pasted non-ASCII character"


def _show(value: Any) -> str:
    return reprlib.repr(value)


def _from_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: config file not found") from None
    except tomllib.TOMLDecodeError as exc:  # before ValueError: it is one
        raise UserError(f"{path}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UserError(f"{path}: cannot read the config file ({exc})") from None
    table = data.get("llm", data)
    if not isinstance(table, dict):
        raise UserError(f"{path}: [llm] must be a table")
    known = {f.name for f in dataclasses.fields(LLMConfig) if f.init}
    unknown = sorted(set(table) - known)
    if unknown:
        raise UserError(f"{path}: unknown [llm] key(s) {', '.join(map(_show, unknown))} "
                        f"(known: {', '.join(sorted(known))})")
    return dict(table)
