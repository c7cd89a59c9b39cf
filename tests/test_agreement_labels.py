"""Augmented tests labelled by agreement among a task's passing candidates (no reference):
a wrong candidate that passes weak tests gets, with labels by its own program, new tests that
enshrine its wrong outputs; with labels by agreement, none of those, and every kept test
holds on the correct candidates too."""

from __future__ import annotations

import re
from typing import Any

from codesynth.quality import Checks, checked
from codesynth.records import Job, Limits
from codesynth.sandbox import open_sandbox

TESTS = "assert f(30) == 30\nassert f(-2) == 2\nassert f(-7) == 7\n"
RIGHT = "def f(x):\n    return x if x >= 0 else -x\n"
ALSO_RIGHT = "def f(x):\n    return abs(x)\n"
# Passes the weak tests, wrong below -10 (right above 50, where its mutants also survive).
WRONG = "def f(x):\n    if x < -10:\n        return x\n    if x > 50:\n        return x\n" \
        "    return abs(x)\n"


def augmented(labels: str) -> dict[str, list[dict[str, Any]]]:
    jobs = [Job(id=name, code=code, tests=TESTS, entry_point="f")
            for name, code in (("right", RIGHT), ("also", ALSO_RIGHT), ("wrong", WRONG))]
    limits = Limits(timeout=5.0, memory_mb=256)
    checks = Checks(strength=20, augment=True, seed=3, labels=labels)
    with open_sandbox("local", workers=2, limits=limits) as sandbox:
        rows = list(checked(sandbox, [("task", job) for job in jobs], checks, limits,
                            chunk=1, group=lambda payload: payload))
    return {job.id: tests or [] for job, (_, _, tests) in zip(jobs, rows, strict=True)}


def asserted(test: str) -> tuple[int, int]:
    match = re.fullmatch(r"assert f\((-?\d+)\) == (-?\d+)", test)
    assert match, test
    return int(match.group(1)), int(match.group(2))


def test_agreement_keeps_no_test_the_majority_disputes() -> None:
    by_reference = augmented("reference")
    wrong_tests = [asserted(t["test"]) for t in by_reference["wrong"]]
    # Labelled by its own program, the wrong candidate's new tests assert f(x) == x < 0.
    assert any(x < -10 and y == x for x, y in wrong_tests), by_reference["wrong"]
    assert all(t["label"] == "reference" for t in by_reference["wrong"])

    by_agreement = augmented("agreement")
    for name, tests in by_agreement.items():
        for test in tests:
            x, y = asserted(test["test"])
            assert y == abs(x), (name, test)  # true of the correct programs: no wrong label
            assert test["label"] == "agreement" and test["kills"]
    assert not any(x < -10 for x, _ in (asserted(t["test"]) for t in by_agreement["wrong"]))
    # Where all agree (above 50), the wrong candidate's surviving mutant is still killed.
    assert any(x > 50 for x, _ in (asserted(t["test"]) for t in by_agreement["wrong"]))


def test_without_groups_agreement_falls_back_to_the_reference() -> None:
    """``labels = agreement`` with no group (or a lone candidate) labels by the program."""
    jobs = [Job(id="wrong", code=WRONG, tests=TESTS, entry_point="f")]
    limits = Limits(timeout=5.0, memory_mb=256)
    checks = Checks(strength=20, augment=True, seed=3, labels="agreement")
    with open_sandbox("local", workers=2, limits=limits) as sandbox:
        [(_, _, tests)] = list(checked(sandbox, [("task", jobs[0])], checks, limits))
    assert tests and {t["label"] for t in tests} == {"reference"}


def test_chunks_end_only_between_groups() -> None:
    from codesynth.quality import _chunks

    pairs = [(task, Job(id=f"{task}{i}", code="x = 1", tests="assert x")) for task, i in
             [("a", 0), ("a", 1), ("a", 2), ("b", 0), ("c", 0), ("c", 1)]]
    parts = list(_chunks(iter(pairs), 2, lambda task: task))
    assert [[p[0] for p in part] for part in parts] == [["a", "a", "a"], ["b", "c", "c"]]
    assert [len(p) for p in _chunks(iter(pairs), 2, None)] == [2, 2, 2]


def test_pipeline_labels_augmented_tests_by_agreement(run: Any, tmp_path: Any) -> None:
    """``[verify] augment = true, labels = "agreement"``: the model's tasks have no
    reference; every augmented test labelled by agreement holds on every correct solution
    of its task (the wrong sample that the weak tests let through labels none)."""
    import json

    from tests.openai_server import ScriptedServer
    from tests.selection_set import TASKS
    from tests.test_selection import pipeline, reply

    with ScriptedServer(reply) as server:
        path = pipeline(tmp_path, server.base_url, "all")
        text = path.read_text().replace("reruns = 16\n", "augment = true\n"
                                        "labels = \"agreement\"\n")
        path.write_text(text)
        code, _, err = run("run", path, "--json")
    assert code == 0, err
    rows = [json.loads(line) for line in
            (tmp_path / "run-all" / "stages/03-verify.jsonl").read_text().splitlines()]
    labelled = [(row, test) for row in rows for test in row.get("augmented_tests", ())]
    assert any(test["label"] == "agreement" for _, test in labelled), labelled
    for row, test in labelled:
        if test["label"] != "agreement" or row["entry_point"] not in TASKS:
            continue  # (the scripted server's flaky `coin` task has no correct solution)
        for correct in TASKS[row["entry_point"]][1]:
            scope: dict[str, Any] = {}
            exec(correct, scope)  # noqa: S102 - the test set's own programs
            exec(test["test"], scope)  # noqa: S102
