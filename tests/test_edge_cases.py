"""Model-proposed edge cases: parsed as literals only, added to the probe inputs, and the
mutant that random inputs call equivalent is told apart and killed by a new test."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from codesynth import augment
from codesynth.behaviour import generate_inputs, literal
from codesynth.edge_cases import parse_inputs, propose
from codesynth.llm import LLM, LLMConfig
from codesynth.records import Job, Limits
from codesynth.sandbox import open_sandbox
from codesynth.test_strength import measure
from tests.openai_server import Request, ScriptedServer

CAP = "def cap(x):\n    if x > 1000:\n        return 1000\n    return x\n"
TESTS = "assert cap(5) == 5\nassert cap(5000) == 1000\n"
REPLY = """Here are some:
```python
(1000,)
(1001,)
__import__('os').system('echo no')
(1, 2)
999
(1001,)
```
"""


def test_replies_are_parsed_as_literals_of_the_right_arity() -> None:
    found, dropped = parse_inputs(REPLY, 1, 10)
    assert found == [(1000,), (1001,), (999,)] and dropped == 3  # the call, the pair, a repeat
    pairs, _ = parse_inputs("```python\n([1, 2], 'a')\n([], '')\n(3,)\n```", 2, 10)
    assert pairs == [([1, 2], "a"), ([], "")]
    assert parse_inputs("(1,)\n(2,)\n(3,)", 1, 2)[0] == [(1,), (2,)]


def test_model_edge_cases_kill_a_mutant_random_inputs_miss() -> None:
    prompts: list[str] = []

    def reply(request: Request) -> str:
        prompts.append(request.last_user)
        return REPLY

    task: dict[str, Any] = {"id": "cap", "instruction": "Cap x at 1000.", "code": CAP,
                            "tests": TESTS, "entry_point": "cap"}
    with ScriptedServer(reply) as server:
        async def ask() -> dict[str, Any]:
            llm = LLM(LLMConfig(cache=None, model="m"), server.base_url)
            try:
                return await propose(llm, [task], count=8)
            finally:
                await llm.close()

        inputs = asyncio.run(ask())
    assert inputs == {"cap": [(1000,), (1001,), (999,)]}
    assert "`cap(x)`" in prompts[0] and "(5,)" in prompts[0]  # the tests' own example

    job = Job(id="cap", code=CAP, tests=TESTS)
    limits = Limits(timeout=5.0, memory_mb=256)
    with open_sandbox("local", workers=2, limits=limits) as sandbox:
        [alone] = measure(sandbox, [job], limits, count=30)
        [helped] = measure(sandbox, [job], limits, count=30, extra_inputs=inputs)
        [added] = augment.augment(sandbox, [helped], limits)
    mutant = "`1000` -> `1001` on line 2"
    by_name = {s.mutant.description: s for s in alone.survivors}
    assert by_name[mutant].equivalent is True  # no random input lands on 1001
    assert {s.mutant.description: s for s in helped.survivors}[mutant].equivalent is False
    assert helped.score is not None and alone.score is not None and helped.score < alone.score
    index = [s.mutant.description for s in helped.survivors].index(mutant)
    assert added == [{"test": "assert cap(1001) == 1000", "origin": "model",
                      "label": "reference",
                      "kills": [{"survivor": index, "description": mutant}]}]


VALUES = st.recursive(st.integers(-1000, 1000) | st.text(max_size=6) | st.booleans()
                      | st.floats(-100, 100, allow_nan=False).map(lambda f: round(f, 2)),
                      lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner),
                      max_leaves=8)


@settings(max_examples=60, deadline=None)
@given(examples=st.lists(st.tuples(VALUES) | st.tuples(VALUES, VALUES), min_size=1,
                         max_size=3),
       seed=st.integers(0, 10**6))
def test_generated_inputs_are_distinct_literals_of_the_examples_shapes(
        examples: list[tuple[Any, ...]], seed: int) -> None:
    import random

    unique = list({repr(e): e for e in examples if literal(e)}.values())
    drawn = generate_inputs(unique, random.Random(seed), 12)
    assert drawn[:len(unique[:12])] == unique[:12]
    assert len({repr(d) for d in drawn}) == len(drawn) <= 12
    sizes = {len(e) for e in unique}
    assert all(literal(d) and len(d) in sizes for d in drawn)
    assert drawn == generate_inputs(unique, random.Random(seed), 12)  # seeded


@settings(max_examples=80, deadline=None)
@given(text=st.text(max_size=200), size=st.integers(1, 3))
def test_any_reply_gives_literal_tuples_of_the_arity(text: str, size: int) -> None:
    found, dropped = parse_inputs(text, size, 8)
    assert len(found) <= 8 and dropped >= 0
    assert all(isinstance(f, tuple) and len(f) == size and literal(f) for f in found)


def test_verify_augment_asks_the_model_for_edge_cases(run: Any, tmp_path: Any) -> None:
    """``verify --test-strength --augment --edge-cases N`` against a scripted server: the
    model's input kills the mutant random inputs call equivalent; the new test says it came
    from the model and is labelled by the record's program. Without the option, no request
    is sent and that mutant stays equivalent."""
    import json

    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": "cap", "instruction": "Cap x at 1000.", "code": CAP,
                                  "tests": TESTS, "entry_point": "cap"}) + "\n")
    mutant = "`1000` -> `1001` on line 2"
    with ScriptedServer(lambda request: REPLY) as server:
        plain, helped = tmp_path / "plain.jsonl", tmp_path / "helped.jsonl"
        code, _, err = run("verify", source, "-o", plain, "--test-strength", "30", "--augment",
                           "--timeout", "5")
        assert code == 0, err
        assert server.count == 0
        code, _, err = run("verify", source, "-o", helped, "--test-strength", "30",
                           "--augment", "--timeout", "5", "--edge-cases", "8", "--base-url",
                           server.base_url, "--model", "m", "--cache", tmp_path / "llm.sqlite")
        assert code == 0, err
        assert server.count == 1  # one request per record
    [before] = [json.loads(line) for line in plain.read_text().splitlines()]
    [after] = [json.loads(line) for line in helped.read_text().splitlines()]
    survivors = {s["description"]: s for s in before["result"]["test_strength"]["survivors"]}
    assert survivors[mutant]["equivalent"] is True
    model_tests = [t for t in after["augmented_tests"] if t["origin"] == "model"]
    assert {"test": "assert cap(1001) == 1000", "origin": "model", "label": "reference"} \
        .items() <= model_tests[0].items()
    assert [k["description"] for k in model_tests[0]["kills"]] == [mutant]
    assert after["result"]["test_strength"]["augmented"]["killed"] >= 1


def test_verify_edge_cases_need_test_strength(run: Any, tmp_path: Any) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "cap", "code": "x = 1", "tests": "assert x == 1"}\n')
    code, _, err = run("verify", source, "-o", tmp_path / "out.jsonl", "--edge-cases", "3")
    assert code == 2 and "--edge-cases needs --test-strength" in err
