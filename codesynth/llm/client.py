"""The LLM client: the async ``openai`` SDK with bounded concurrency, retries with backoff on
429/5xx/timeouts/connection errors, the response cache, token accounting and a hard budget."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

from codesynth.errors import CodesynthError
from codesynth.llm.cache import ResponseCache, request_key
from codesynth.llm.config import LLMConfig

BACKOFF_BASE = 0.5  # seconds; doubled per attempt, with jitter
BACKOFF_MAX = 30.0


class LLMError(CodesynthError):
    """A request failed for good (after its retries): recorded as a rejection by callers."""


class BudgetExhausted(CodesynthError):
    """The run's request or token budget is spent: no new request is sent."""

    exit_code = 4


@dataclass(frozen=True)
class Reply:
    text: str
    key: str  # the request's cache key (provenance)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str | None = None
    cached: bool = False


@dataclass
class Usage:
    requests: int = 0  # sent to the server (cache hits excluded)
    cache_hits: int = 0
    retries: int = 0
    failures: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    by_status: dict[str, int] = field(default_factory=dict)

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "cache_hits": self.cache_hits,
                "retries": self.retries, "failures": self.failures,
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens, "tokens": self.tokens}


class LLM:
    """One model on one server. ``await llm.chat(messages, sample=i)`` or ``.complete(prompt)``."""

    def __init__(self, config: LLMConfig, base_url: str, model: str | None = None) -> None:
        import openai

        self.config = config
        self.base_url = base_url
        self._client = openai.AsyncOpenAI(base_url=base_url, api_key=config.api_key or "none",
                                          timeout=config.timeout, max_retries=0)
        self.model = model or config.model
        self.cache = ResponseCache(config.cache) if config.cache else None
        self.usage = Usage()
        self._slots = asyncio.Semaphore(config.concurrency)
        self._budget_lock = asyncio.Lock()
        self._reserved = 0

    async def resolve_model(self) -> str:
        """The configured model, or the server's first one."""
        if self.model is None:
            models = await self._client.models.list()
            if not models.data:
                raise LLMError(f"{self.base_url} serves no model")
            self.model = models.data[0].id
        return self.model

    async def chat(self, messages: list[dict[str, str]], sample: int = 0,
                   **params: Any) -> Reply:
        return await self._request("chat", {"messages": messages}, sample, params)

    async def complete(self, prompt: str, sample: int = 0, **params: Any) -> Reply:
        return await self._request("completion", {"prompt": prompt}, sample, params)

    async def ask(self, messages: list[dict[str, str]], sample: int = 0,
                  **params: Any) -> Reply:
        """Chat, or (mode ``completion``) the same turns rendered as a plain prompt."""
        if self.config.mode == "chat":
            return await self.chat(messages, sample, **params)
        return await self.complete(render_prompt(messages), sample, **params)

    async def _request(self, kind: str, content: dict[str, Any], sample: int,
                       params: dict[str, Any]) -> Reply:
        model = await self.resolve_model()
        sampling = {**self.config.sampling(), **params, "seed": self.config.seed + sample}
        request = {"model": model, "kind": kind, **content, "params": sampling,
                   "sample": sample}
        key = request_key(request)
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                self.usage.cache_hits += 1
                return Reply(hit["text"], key, hit.get("prompt_tokens", 0),
                             hit.get("completion_tokens", 0), hit.get("finish_reason"),
                             cached=True)
        async with self._slots:
            await self._reserve()
            try:
                response = await self._send(kind, model, content, sampling)
            finally:
                self._reserved -= 1
        if self.cache is not None:
            self.cache.put(key, request, response)
        return Reply(response["text"], key, response["prompt_tokens"],
                     response["completion_tokens"], response["finish_reason"])

    async def _reserve(self) -> None:
        budget = self.config
        async with self._budget_lock:
            sent = self.usage.requests + self._reserved
            if budget.budget_requests is not None and sent >= budget.budget_requests:
                raise BudgetExhausted(f"request budget of {budget.budget_requests} spent")
            if budget.budget_tokens is not None and self.usage.tokens >= budget.budget_tokens:
                raise BudgetExhausted(f"token budget of {budget.budget_tokens} spent "
                                      f"({self.usage.tokens} used)")
            self._reserved += 1

    async def _send(self, kind: str, model: str, content: dict[str, Any],
                    sampling: dict[str, Any]) -> dict[str, Any]:
        import openai

        attempt = 0
        while True:
            try:
                if kind == "chat":
                    result = await self._client.chat.completions.create(
                        model=model, messages=content["messages"], **sampling)
                    choice = result.choices[0]
                    text = choice.message.content or ""
                else:
                    done = await self._client.completions.create(
                        model=model, prompt=content["prompt"], **sampling)
                    choice = done.choices[0]  # type: ignore[assignment]
                    text = done.choices[0].text or ""
                    result = done  # type: ignore[assignment]
                usage = result.usage
                self.usage.requests += 1
                prompt_tokens = usage.prompt_tokens if usage else 0
                completion_tokens = usage.completion_tokens if usage else 0
                self.usage.prompt_tokens += prompt_tokens
                self.usage.completion_tokens += completion_tokens
                return {"text": text, "prompt_tokens": prompt_tokens,
                        "completion_tokens": completion_tokens,
                        "finish_reason": choice.finish_reason}
            except (openai.RateLimitError, openai.InternalServerError, openai.APITimeoutError,
                    openai.APIConnectionError) as exc:
                attempt += 1
                status = str(getattr(exc, "status_code", type(exc).__name__))
                self.usage.by_status[status] = self.usage.by_status.get(status, 0) + 1
                if attempt > self.config.max_retries:
                    self.usage.failures += 1
                    raise LLMError(f"{type(exc).__name__} after {attempt} attempts: "
                                   f"{exc}") from None
                self.usage.retries += 1
                await asyncio.sleep(_backoff(exc, attempt))
            except openai.APIStatusError as exc:  # 4xx other than 429: not worth retrying
                self.usage.failures += 1
                raise LLMError(f"HTTP {exc.status_code}: {exc.message}") from None

    async def close(self) -> None:
        await self._client.close()
        if self.cache is not None:
            self.cache.close()


def _backoff(exc: Exception, attempt: int) -> float:
    response = getattr(exc, "response", None)
    header = response.headers.get("retry-after") if response is not None else None
    if header:
        try:
            return min(BACKOFF_MAX, float(header))
        except ValueError:
            pass
    delay = min(BACKOFF_MAX, BACKOFF_BASE * 2 ** (attempt - 1))
    return delay * (0.5 + random.random() / 2)


def render_prompt(messages: list[dict[str, str]]) -> str:
    """Chat turns as a plain few-shot prompt for base models (completion mode)."""
    parts = []
    for message in messages:
        role = message["role"]
        if role == "system":
            parts.append(message["content"].strip() + "\n")
        elif role == "user":
            parts.append("### Instruction\n" + message["content"].strip() + "\n")
        else:
            parts.append("### Response\n" + message["content"].strip() + "\n")
    return "\n".join(parts) + "\n### Response\n"
