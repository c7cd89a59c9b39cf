"""The model layer: any OpenAI-compatible server through the ``openai`` SDK, with a persistent
response cache, bounded concurrency, retries, token accounting and a budget; an embedded
offline model when no server is configured."""

from codesynth.llm.client import LLM, BudgetExhausted, LLMError, Reply
from codesynth.llm.config import LLMConfig

__all__ = ["LLM", "BudgetExhausted", "LLMConfig", "LLMError", "Reply"]
