"""Test strength by mutation, equivalent mutants, augmented tests, and the verify options."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codesynth import augment, behaviour
from codesynth.humaneval import load_problems, problem_job
from codesynth.records import Execution, Job, Limits
from codesynth.sandbox import open_sandbox
from codesynth.test_strength import first_assertion_only, measure, mutants_of
from tests.conftest import Run

LIMITS = Limits(timeout=5.0, memory_mb=256)
MAXIMUM = """\
def maximum(xs):
    best = xs[0]
    for x in xs:
        if x > best:
            best = x
    return best
"""

CLAMP = """\
def clamp(x, lo, hi):
    if x < lo:
        return lo
    if x > hi:
        return hi
    return x
"""


@pytest.fixture(scope="module")
def local() -> Iterator[Any]:
    with open_sandbox("local", workers=2, limits=LIMITS) as box:
        yield box


def test_mutants_are_seeded_and_distinct() -> None:
    job = Job(id="m", code=MAXIMUM, tests="assert maximum([1]) == 1\n")
    first, again = mutants_of(job, 8, seed=3), mutants_of(job, 8, seed=3)
    assert [m.code for m in first] == [m.code for m in again]
    assert len({m.code for m in first}) == len(first) == 8
    assert MAXIMUM not in {m.code for m in first}
    assert [m.code for m in mutants_of(job, 8, seed=4)] != [m.code for m in first]


def test_stronger_tests_score_higher(local: Any) -> None:
    weak = Job(id="c", code=CLAMP, tests="assert clamp(5, 0, 10) == 5\n")
    strong = Job(id="c", code=CLAMP, tests="assert clamp(5, 0, 10) == 5\n"
                 "assert clamp(-1, 0, 10) == 0\nassert clamp(11, 0, 10) == 10\n"
                 "assert clamp(0, 0, 10) == 0\nassert clamp(10, 0, 10) == 10\n")
    low, high = measure(local, [weak, strong], LIMITS, count=12)
    assert low.mutants and [m.code for m in low.mutants] == [m.code for m in high.mutants]
    assert low.score is not None and high.score is not None
    assert high.score > low.score
    assert high.killed == len(high.mutants) - len(high.survivors)
    report = high.to_dict(seed=0)
    assert set(report) >= {"mutants", "killed", "equivalent", "score", "survivors"}


def test_an_equivalent_mutant_is_reported_and_left_out_of_the_score(local: Any) -> None:
    # `unused = 0` is dead code: deleting it (remove_statement) changes no behaviour.
    code = "def double(x):\n    unused = 0\n    return x * 2\n"
    job = Job(id="eq", code=code, tests="assert double(2) == 4\nassert double(-3) == -6\n")
    [strength] = measure(local, [job], LIMITS, count=30)
    dead = [s for s in strength.survivors if "unused" in s.mutant.description
            or s.mutant.operator == "remove_statement"]
    assert dead and all(s.equivalent is True for s in dead)
    assert strength.equivalent == sum(s.equivalent is True for s in strength.survivors)
    judged = len(strength.mutants) - strength.equivalent
    assert strength.score == round(strength.killed / judged, 4)


def test_a_surviving_mutant_is_killed_by_an_augmented_test(local: Any) -> None:
    job = Job(id="mx", code=MAXIMUM, tests="assert maximum([1, 2, 3]) == 3\n")
    [strength] = measure(local, [job], LIMITS, count=20)
    survivors = [s for s in strength.survivors if s.equivalent is False]
    assert survivors, "the weak test lets a mutant through"
    [added] = augment.augment(local, [strength], LIMITS)
    assert added and all(t["label"] == "reference" for t in added)
    assert {t["origin"] for t in added} <= {"tests", "random"}
    killed = {k["survivor"] for t in added for k in t["kills"]}
    assert killed == {i for i, s in enumerate(strength.survivors) if s.equivalent is False}
    # Shown by execution, apart from the augmentation: the new tests pass on the original
    # and fail on each survivor they name.
    tests = "".join(t["test"] + "\n" for t in added)
    on_original = local.run(Job(id="o", code=MAXIMUM, tests=tests), LIMITS)
    assert on_original.passed
    for survivor in survivors:
        on_mutant = local.run(Job(id="s", code=survivor.mutant.code, tests=tests), LIMITS)
        assert not on_mutant.passed, survivor.mutant.description


def test_probe_inputs_follow_the_tests_types() -> None:
    import random

    examples = behaviour.call_examples(
        "assert f([1, 2], 'ab') == 3\nassert f([], 'x') == 0\n", "assert", "f")
    assert examples == [([1, 2], "ab"), ([], "x")]
    drawn = behaviour.generate_inputs(examples, random.Random(1), 30)
    assert drawn[:2] == examples and len({repr(d) for d in drawn}) == 30
    assert all(isinstance(a, list) and isinstance(b, str) and all(isinstance(v, int) for v in a)
               for a, b in drawn)
    # The examples are all non-negative: so are most inputs, not all (a narrower domain
    # than the program's would hide mutants).
    negative = sum(any(v < 0 for v in a) for a, _ in drawn)
    assert 0 < negative < len(drawn) / 2
    assert behaviour.annotated_example("def g(n: int, s: list[str]): ...", "g") == (
        3, ["abc", "abc"])


def test_majority_labels() -> None:
    assert augment.majority([["1", "2"], ["1", "3"], ["1", "2"], None]) == ["1", "2"]
    assert augment.majority([["1"], ["2"]]) == [None]


def test_humaneval_official_tests_are_stronger_than_their_first_assertion(local: Any) -> None:
    """A sample of HumanEval's canonical solutions (every 8th problem; the whole set is in
    benchmarks/test_strength.py): never weaker, stronger for most."""
    problems = list(load_problems().values())[::8]
    official = [problem_job(p, p["canonical_solution"], p["task_id"]) for p in problems]
    weak = [Job(id=j.id, code=j.code, tests=first_assertion_only(j.tests),
                test_style=j.test_style, entry_point=j.entry_point) for j in official]
    assert all(sum(isinstance(n, ast.Assert) for n in ast.walk(ast.parse(w.tests))) == 1
               for w in weak)
    strong = measure(local, official, Limits(timeout=3.0), count=12)
    weakened = measure(local, weak, Limits(timeout=3.0), count=12)
    pairs = [(s.score, w.score) for s, w in zip(strong, weakened, strict=True)
             if s.score is not None and w.score is not None]
    higher = sum(a > b for a, b in pairs)
    assert all(a >= b for a, b in pairs)
    assert higher > len(pairs) / 2, (higher, len(pairs))


def write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_verify_test_strength_and_augment_round_trip(run: Run, tmp_path: Path) -> None:
    records = write(tmp_path / "in.jsonl", [
        {"id": "mx", "code": MAXIMUM, "tests": "assert maximum([1, 2, 3]) == 3\n",
         "keep": "me"},
        {"id": "bad", "code": MAXIMUM, "tests": "assert maximum([1, 2, 3]) == 2\n"}])
    out = tmp_path / "out.jsonl"
    code, stdout, err = run("verify", records, "-o", out, "--test-strength", "10",
                            "--augment", "--json")
    assert code == 0, err
    good, bad = [json.loads(line) for line in out.read_text().splitlines()]
    strength = good["result"]["test_strength"]
    assert strength["mutants"] == 10 and good["keep"] == "me"
    assert strength["killed"] + len(strength["survivors"]) == 10
    assert all({"operator", "description", "line", "equivalent", "diff"} <= set(s)
               for s in strength["survivors"])
    assert good["augmented_tests"] and strength["augmented"]["score"] > strength["score"]
    assert "test_strength" not in bad["result"] and "augmented_tests" not in bad
    # The result round-trips through the records model, new fields included.
    execution = Execution.from_dict(good["result"])
    assert execution.test_strength == strength
    assert execution.to_dict() == good["result"]
    # Without the options, the output has no new field at all.
    code, _, err = run("verify", records, "-o", tmp_path / "plain.jsonl")
    plain = json.loads((tmp_path / "plain.jsonl").read_text().splitlines()[0])
    assert code == 0 and not {"test_strength", "flaky", "cache"} & set(plain["result"])


def test_bad_check_options_are_clear_errors(run: Run, tmp_path: Path) -> None:
    records = write(tmp_path / "in.jsonl", [{"id": "a", "code": "x = 1", "tests": "assert x"}])
    code, _, err = run("verify", records, "-o", tmp_path / "o.jsonl", "--augment")
    assert code == 2 and "--augment needs --test-strength" in err
    code, _, err = run("verify", records, "-o", tmp_path / "o.jsonl", "--reruns", "-1")
    assert code == 2 and "--reruns" in err


def test_a_program_cannot_print_its_mutants_into_equivalence(local: Any) -> None:
    """A hostile program replaces ``print`` so that the probe would print forged outputs (the
    same in every mutant). The probe runs in the judge, which the program cannot patch: it
    reads the function's real outputs."""
    import random

    from codesynth.behaviour import MARKER, inputs_for

    tests = "assert isinstance(step(1), int)\n"
    plain = "def step(x):\n    return x * 3 + 1\n"
    count = len(inputs_for(Job(id="h", code=plain, tests=tests),
                           random.Random("0:h:inputs"), 24))
    forged = json.dumps(["0"] * count)
    hostile = plain + ("import builtins\n_real = builtins.print\n"
                       "builtins.print = lambda *a, **k: _real('\\n" + MARKER + forged + "')\n")
    [honest] = measure(local, [Job(id="h", code=plain, tests=tests)], LIMITS, count=20)
    [strength] = measure(local, [Job(id="h", code=hostile, tests=tests)], LIMITS, count=20)
    assert strength.original_outputs != ["0"] * count  # the forgery never reached it
    assert strength.original_outputs == honest.original_outputs
    assert honest.survivors and strength.score is not None


def test_augmented_tests_labelled_by_agreement_of_candidates(local: Any) -> None:
    """Labels from the majority of passing candidates instead of the reference: the tests
    say `label: agreement`, and still pass on the reference and kill survivors."""
    from codesynth.behaviour import outputs, probe_job

    job = Job(id="mx2", code=MAXIMUM, tests="assert maximum([1, 2, 3]) == 3\n")
    [strength] = measure(local, [job], LIMITS, count=20)
    others = ["def maximum(xs):\n    return max(xs)\n",
              "def maximum(xs):\n    return sorted(xs)[-1]\n",
              "def maximum(xs):\n    return xs[-1]\n"]  # wrong, and outvoted
    probes = [probe_job(f"o{i}", code, "maximum", strength.inputs)
              for i, code in enumerate([MAXIMUM, *others])]
    labels = augment.majority([outputs(e) for e in local.run_many(probes, LIMITS)])
    assert labels == strength.original_outputs
    [added] = augment.augment(local, [strength], LIMITS, labels={"mx2": labels})
    assert added and {t["label"] for t in added} == {"agreement"}
