"""Reward functions backed by ``codesynth serve``, with the signatures RL trainers call.

- TRL: ``GRPOTrainer(reward_funcs=[trl_reward("http://127.0.0.1:8080")], ...)``. TRL calls
  ``f(prompts=..., completions=..., **columns)`` with the dataset's columns as lists; the
  tests come from the ``tests`` column (``test_style`` and ``entry_point`` too when the
  dataset has them). Rows without tests get ``None`` (TRL leaves them out).
- verl: ``custom_reward_function.path=.../codesynth/rewards.py``, ``name=compute_score``
  (one sample) or ``compute_score_batch`` (the batch reward manager's lists). The server is
  ``CODESYNTH_URL`` (default ``http://127.0.0.1:8080``) with ``CODESYNTH_TOKEN``.
  ``ground_truth``: assert statements, or JSON with ``inputs``/``outputs`` (stdio cases), or
  an object ``{tests, test_style, entry_point}``; ``extra_info`` may give ``test_style``
  and ``entry_point``.

Completions are chat text: the code is the last fenced Python block (see
:mod:`codesynth.serve.reward`). The policy is ``fraction`` (tests passed / tests) unless
``binary`` is asked for.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from typing import Any

from codesynth.client import Client

URL_ENV, TOKEN_ENV = "CODESYNTH_URL", "CODESYNTH_TOKEN"
_CLIENTS: dict[tuple[str, str | None], Client] = {}


def _client(base_url: str | None = None, token: str | None = None) -> Client:
    url = base_url or os.environ.get(URL_ENV, "http://127.0.0.1:8080")
    token = token if token is not None else os.environ.get(TOKEN_ENV) or None
    if (url, token) not in _CLIENTS:
        _CLIENTS[(url, token)] = Client(url, token=token)
    return _CLIENTS[(url, token)]


def trl_reward(base_url: str | None = None, token: str | None = None,
               policy: str = "fraction", tests_column: str = "tests"
               ) -> Callable[..., list[float | None]]:
    """A reward function for TRL's ``GRPOTrainer(reward_funcs=[...])``."""
    client = _client(base_url, token)

    def codesynth_reward(completions: Sequence[Any], **columns: Any) -> list[float | None]:
        tests = columns.get(tests_column)
        if tests is None:
            raise ValueError(f"the dataset has no {tests_column!r} column for the reward")
        styles = columns.get("test_style") or [None] * len(completions)
        entries = columns.get("entry_point") or [None] * len(completions)
        rows = [i for i, t in enumerate(tests) if t]
        rewards: list[float | None] = [None] * len(completions)
        if not rows:
            return rewards
        specs = [{"tests": tests[i], "test_style": styles[i] or "assert",
                  **({"entry_point": entries[i]} if entries[i] else {})} for i in rows]
        answer = client.reward([completions[i] for i in rows], specs=specs, policy=policy)
        for index, value in zip(rows, answer["rewards"], strict=True):
            rewards[index] = value
        return rewards

    codesynth_reward.__name__ = f"codesynth_{policy}"
    return codesynth_reward


def test_spec(ground_truth: Any, extra_info: dict[str, Any] | None = None) -> dict[str, Any]:
    """A verify record's test fields from verl's ``ground_truth`` (and ``extra_info``)."""
    extra = extra_info or {}
    value = ground_truth
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            pass  # plain assert statements
    if isinstance(value, dict) and "inputs" in value and "outputs" in value:
        cases = [{"input": str(i), "output": str(o)}
                 for i, o in zip(value["inputs"], value["outputs"], strict=True)]
        return {"tests": cases, "test_style": "stdio"}
    if isinstance(value, dict) and "tests" in value:
        return {k: value[k] for k in ("tests", "test_style", "entry_point") if k in value}
    spec: dict[str, Any] = {"tests": ground_truth if isinstance(ground_truth, str) else value,
                            "test_style": extra.get("test_style", "assert")}
    if extra.get("entry_point"):
        spec["entry_point"] = extra["entry_point"]
    return spec


def compute_score(data_source: str, solution_str: str, ground_truth: Any,
                  extra_info: dict[str, Any] | None = None, **_: Any) -> float:
    """verl's reward signature, for one sample."""
    return compute_score_batch([data_source], [solution_str], [ground_truth],
                               [extra_info])[0]


def compute_score_batch(data_sources: Sequence[str], solution_strs: Sequence[str],
                        ground_truths: Sequence[Any],
                        extra_infos: Sequence[dict[str, Any] | None] | None = None,
                        **_: Any) -> list[float]:
    """verl's batch reward signature: one score per sample, in order."""
    infos = list(extra_infos) if extra_infos is not None else [None] * len(solution_strs)
    policy = os.environ.get("CODESYNTH_REWARD_POLICY", "fraction")
    specs = [test_spec(g, e) for g, e in zip(ground_truths, infos, strict=True)]
    answer = _client().reward(list(solution_strs), specs=specs, policy=policy)
    return [float(r) for r in answer["rewards"]]
