"""The LLM client: the async ``openai`` SDK with bounded concurrency, retries with backoff on
429/5xx/timeouts/connection errors, the response cache, token accounting and a hard budget.

Two kinds of failure, kept apart: a request that fails for good (a 4xx, a malformed reply,
retries spent on timeouts or 5xx) is an :class:`LLMError`, which generators record as that
request's rejection; a server that is dead or unreachable is a :class:`ModelUnavailable`
fault, raised at once by every request from then on, since no later request could get an
answer either. The embedded model is restarted once before that (``EmbeddedModel.revive``).
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

from codesynth.errors import CodesynthError, ModelUnavailable, UserError
from codesynth.llm.cache import ResponseCache, request_key
from codesynth.llm.config import LLMConfig
from codesynth.records import scrub

BACKOFF_BASE = 0.5  # seconds; doubled per attempt, with jitter
BACKOFF_MAX = 30.0
MAX_REPLY_CHARS = 1 << 20  # a reply longer than this and than 64 characters a token is junk


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
    requests: int = 0  # sent to the server, answered or not (cache hits excluded)
    replies: int = 0  # answered
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
        return {"requests": self.requests, "replies": self.replies,
                "cache_hits": self.cache_hits,
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
        self.in_flight = 0
        self.dead: str | None = None  # why the server cannot answer any more
        self._slots = asyncio.Semaphore(config.concurrency)
        self._budget_lock = asyncio.Lock()
        self._revive_lock = asyncio.Lock()
        self._model_lock = asyncio.Lock()
        self._reserved_tokens = 0  # max_tokens of the requests in flight
        self._pool = config.pool  # several endpoints under a shared limit, or None
        self._clients = {base_url: self._client}

    async def resolve_model(self) -> str:
        """The configured model, or the server's first one (asked once). An unreachable
        server, or one whose model list is unusable, is a :class:`ModelUnavailable` fault;
        a refused key a :class:`UserError`."""
        if self.model is None:
            async with self._model_lock:
                if self.model is None:
                    self.model = await self._first_model()
        return self.model

    async def _first_model(self) -> str:
        import openai

        if self.dead:
            raise ModelUnavailable(self.dead)
        try:
            async with asyncio.timeout(self.config.timeout):  # not wait_for: on 3.11 it
                models = await self._client.models.list()    # can swallow a Ctrl-C
            first = models.data[0].id if models.data else None
        except (openai.APIConnectionError, TimeoutError) as exc:
            raise self._unavailable(await self._why_unreachable(exc)) from None
        except openai.AuthenticationError as exc:
            raise UserError(f"{self.base_url} refused the API key (HTTP 401): set "
                            f"OPENAI_API_KEY or [llm] api_key ({exc.message})") from None
        except openai.APIStatusError as exc:
            raise self._unavailable(f"{self.base_url} answered HTTP {exc.status_code} when "
                                    f"asked for its models: {exc.message}") from None
        except (openai.APIError, ValueError, AttributeError, LookupError, TypeError) as exc:
            raise self._unavailable(f"{self.base_url}/models answered something that is not a "
                                    f"list of models ({type(exc).__name__}); name the model "
                                    "with --model or [llm] model") from None
        if not isinstance(first, str) or not first:
            raise self._unavailable(f"{self.base_url}/models lists no usable model; name the "
                                    "model with --model or [llm] model")
        return first

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
            if self.dead:
                raise ModelUnavailable(self.dead)
            self.in_flight += 1
            try:
                response = await self._send(kind, model, content, sampling)
            finally:
                self.in_flight -= 1
        if self.cache is not None:
            self.cache.put(key, request, response)
        return Reply(response["text"], key, response["prompt_tokens"],
                     response["completion_tokens"], response["finish_reason"])

    async def _reserve(self, max_tokens: int) -> None:
        """Count one attempt as sent, or stop. Budgets are hard caps on what is sent: every
        attempt counts (retries too, answered or not), and no request goes out once the
        tokens used plus the ``max_tokens`` of the requests in flight reach the token
        budget."""
        budget = self.config
        async with self._budget_lock:
            sent = self.usage.requests
            if budget.budget_requests is not None and sent >= budget.budget_requests:
                raise BudgetExhausted(f"request budget of {budget.budget_requests} spent "
                                      f"({sent} request(s) sent, {self.usage.failures} "
                                      "failed)")
            committed = self.usage.tokens + self._reserved_tokens + max_tokens
            if budget.budget_tokens is not None and committed > budget.budget_tokens:
                raise BudgetExhausted(
                    f"token budget of {budget.budget_tokens} reached ({self.usage.tokens} "
                    f"used by {sent} request(s); the next may use up to {max_tokens})")
            self.usage.requests += 1
            self._reserved_tokens += max_tokens

    async def _send(self, kind: str, model: str, content: dict[str, Any],
                    sampling: dict[str, Any]) -> dict[str, Any]:
        import openai

        attempt = 0
        max_tokens = int(sampling.get("max_tokens") or 0)
        while True:
            await self._reserve(max_tokens)
            try:
                lease = await self._pool.acquire(self.base_url) if self._pool else None
                client = self._client if lease is None else self._client_for(lease.url)
                if kind == "chat":
                    call: Any = client.chat.completions.create(
                        model=model, messages=content["messages"], **sampling)
                else:
                    call = client.completions.create(
                        model=model, prompt=content["prompt"], **sampling)
                # The SDK's timeout bounds each wait for bytes; this bounds the whole reply
                # (a server that dribbles a byte a second would never time out otherwise).
                try:
                    async with asyncio.timeout(self.config.timeout):
                        result = await call
                finally:
                    self._reserved_tokens -= max_tokens
                    if lease is not None:
                        await self._pool.release(lease)
                reply = _parse(kind, result, max_tokens)
                self.usage.replies += 1
                self.usage.prompt_tokens += reply["prompt_tokens"]
                self.usage.completion_tokens += reply["completion_tokens"]
                return reply
            except LLMError:
                self.usage.failures += 1
                raise
            except openai.APIResponseValidationError as exc:
                _raise_if_cancelled()
                self.usage.failures += 1
                raise LLMError(f"malformed reply: {exc.message}") from None
            except ValueError as exc:  # a body that is not JSON (a proxy's error page...)
                _raise_if_cancelled()
                self.usage.failures += 1
                raise LLMError(f"malformed reply: {type(exc).__name__}: {exc}") from None
            except (openai.APITimeoutError, TimeoutError) as exc:
                _raise_if_cancelled()
                if await self._server_died():
                    continue  # the embedded server was restarted: the same request again
                attempt = await self._retry_or_fail(exc, attempt)
            except openai.APIConnectionError as exc:
                _raise_if_cancelled()
                if await self._server_died():
                    continue
                if attempt >= self.config.max_retries:
                    self.usage.failures += 1
                    await self._unreachable_or_broken(exc)
                attempt = await self._retry_or_fail(exc, attempt)
            except (openai.RateLimitError, openai.InternalServerError) as exc:
                _raise_if_cancelled()
                attempt = await self._retry_or_fail(exc, attempt)
            except openai.APIStatusError as exc:  # 4xx other than 429: not worth retrying
                self.usage.failures += 1
                raise LLMError(f"HTTP {exc.status_code}: {exc.message}") from None
            except openai.APIError as exc:  # anything else the SDK could not make sense of
                _raise_if_cancelled()
                self.usage.failures += 1
                raise LLMError(f"{type(exc).__name__}: {exc}") from None

    def _client_for(self, url: str) -> Any:
        import openai

        if url not in self._clients:
            self._clients[url] = openai.AsyncOpenAI(
                base_url=url, api_key=self.config.api_key or "none",
                timeout=self.config.timeout, max_retries=0)
        return self._clients[url]

    async def _retry_or_fail(self, exc: Exception, attempt: int) -> int:
        """Count a failed attempt; sleep before the next one, or give up (LLMError)."""
        attempt += 1
        status = str(getattr(exc, "status_code", type(exc).__name__))
        self.usage.by_status[status] = self.usage.by_status.get(status, 0) + 1
        if attempt > self.config.max_retries:
            self.usage.failures += 1
            raise LLMError(f"{type(exc).__name__} after {attempt} attempts: {exc}") from None
        self.usage.retries += 1
        await asyncio.sleep(_backoff(exc, attempt))
        return attempt

    def _unavailable(self, cause: str) -> ModelUnavailable:
        self.dead = self.dead or cause
        return ModelUnavailable(self.dead)

    async def _server_died(self) -> bool:
        """True when the embedded server behind this client had died and was restarted;
        raises :class:`ModelUnavailable` when it is dead for good."""
        from codesynth.llm.embedded import serving

        if self.dead:
            raise ModelUnavailable(self.dead)
        model = serving(self.base_url)
        if model is None:
            return False
        async with self._revive_lock:
            if self.dead:
                raise ModelUnavailable(self.dead)
            if model.alive():
                return False
            try:
                await asyncio.to_thread(model.revive)
            except ModelUnavailable as exc:
                raise self._unavailable(str(exc)) from None
        return True

    async def _unreachable_or_broken(self, exc: Exception) -> None:
        """Retries spent on connection errors: a fault when the server cannot be reached,
        this request's failure when it answers (a reply cut, reset or unreadable)."""
        from codesynth.llm.embedded import probe_url

        reason = await asyncio.to_thread(probe_url, self.base_url)
        if reason is None:
            cause = exc.__cause__ or exc.__context__ or exc
            raise LLMError(f"the server answers, but this reply was cut or unreadable "
                           f"({type(cause).__name__}: {str(cause)[:200]})") from None
        raise self._unavailable(await self._why_unreachable(exc, reason)) from None

    async def _why_unreachable(self, exc: Exception, reason: str | None = None) -> str:
        """The fault's message; ``reason`` is what probing the URL said, when already done."""
        from codesynth.llm.embedded import probe_url, serving

        model = serving(self.base_url)
        if model is not None and not model.alive():
            return model.cause()
        if reason is None:
            reason = await asyncio.to_thread(probe_url, self.base_url) or str(exc)
        return (f"cannot reach the model server at {self.base_url}: {reason}\n"
                "way out: start the server (or fix --base-url, OPENAI_BASE_URL or [llm] "
                "base_url), then re-run the same command to resume")

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()
        if self.cache is not None:
            self.cache.close()


def _raise_if_cancelled() -> None:
    """Re-raise a cancellation (Ctrl-C) that the HTTP stack turned into an error: retrying
    it as a connection error would swallow the interrupt, and the run would go on."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def _parse(kind: str, result: Any, max_tokens: int = 0) -> dict[str, Any]:
    """The reply's text, token counts and finish reason. A reply without them (no choices,
    a null or non-string text, token counts that are not whole numbers >= 0, text far longer
    than ``max_tokens`` could make) is an :class:`LLMError`, that request's failure: never a
    crash, never an empty answer taken as the model's."""
    try:
        choice = result.choices[0]
        text = choice.message.content if kind == "chat" else choice.text
        usage = result.usage
        counts = [usage.prompt_tokens, usage.completion_tokens] if usage else [0, 0]
        finish_reason = choice.finish_reason
    except (AttributeError, LookupError, TypeError, ValueError) as exc:
        raise LLMError(f"malformed reply ({type(exc).__name__}: {exc})") from None
    if not isinstance(text, str):
        raise LLMError(f"malformed reply: its text is {type(text).__name__}, not a string")
    tokens = []
    for count in counts:
        count = 0 if count is None else count
        if isinstance(count, float) and count.is_integer():
            count = int(count)
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count < 1 << 40:
            raise LLMError(f"malformed reply: a token count of {str(count)[:40]}")
        tokens.append(count)
    limit = max(MAX_REPLY_CHARS, 64 * max_tokens)
    if len(text) > limit:
        raise LLMError(f"malformed reply: {len(text):,} characters, more than {max_tokens} "
                       f"tokens can make (limit {limit:,})")
    return {"text": scrub(text), "prompt_tokens": tokens[0], "completion_tokens": tokens[1],
            "finish_reason": finish_reason if isinstance(finish_reason, str) else None}


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
