"""``/v1/reward``: completions and their tests in, one reward per completion out.

A completion is text, a chat message (``{"role", "content"}``) or a list of messages (TRL's
conversational format: the last assistant message counts). The code is the last fenced
block tagged ``python`` (or ``py``), else the last fenced block, else the whole text.
Policies: ``binary`` (1.0 when the verdict is ``passed``) and ``fraction`` (the share of the
record's tests that passed; 0.0 when the program did not get to its tests).
"""

from __future__ import annotations

import re
from typing import Any

from codesynth.records import Execution, Status

POLICIES = ("binary", "fraction")
_FENCE = re.compile(r"```[ \t]*([\w+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)


def completion_text(completion: Any) -> str:
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        content = completion.get("content")
        return content if isinstance(content, str) else ""
    if isinstance(completion, list):
        replies = [m for m in completion if isinstance(m, dict)
                   and m.get("role", "assistant") == "assistant"]
        return completion_text(replies[-1]) if replies else ""
    raise ValueError(f"a completion must be text or chat messages, got "
                     f"{type(completion).__name__}")


def extract_code(text: str) -> str:
    blocks = _FENCE.findall(text)
    if not blocks:
        return text
    tagged = [body for tag, body in blocks if tag.lower() in ("python", "py", "python3")]
    return (tagged or [body for _, body in blocks])[-1]


def reward(execution: Execution, policy: str) -> float:
    if policy == "binary" or execution.status is Status.PASSED:
        return 1.0 if execution.status is Status.PASSED else 0.0
    if not execution.tests:
        return 0.0
    passed = sum(1 for test in execution.tests if test.outcome == "passed")
    return passed / len(execution.tests)


def reward_records(body: Any) -> tuple[list[dict[str, Any]], str]:
    """The verify records of a ``/v1/reward`` body, and its policy. Raises ValueError with
    the field at fault."""
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    completions = body.get("completions")
    if not isinstance(completions, list) or not completions:
        raise ValueError("completions: must be a non-empty list")
    policy = body.get("policy", "fraction")
    if policy not in POLICIES:
        raise ValueError(f"policy: must be one of {', '.join(POLICIES)}, got {policy!r}")
    shared = {name: body[name] for name in ("tests", "test_style", "entry_point", "language")
              if name in body}
    per = body.get("specs")
    if per is not None and (not isinstance(per, list) or len(per) != len(completions)
                            or not all(isinstance(s, dict) for s in per)):
        raise ValueError("specs: must be one object {tests, test_style, entry_point} per "
                         "completion")
    extract = body.get("extract_code", True)
    records = []
    for index, completion in enumerate(completions):
        try:
            text = completion_text(completion)
        except ValueError as exc:
            raise ValueError(f"completions[{index}]: {exc}") from None
        spec = {**shared, **(per[index] if per else {})}
        if "tests" not in spec:
            raise ValueError(f"completions[{index}]: no tests (give tests, or specs)")
        records.append({"id": str(index), **spec,
                        "code": extract_code(text) if extract else text})
    return records, policy
