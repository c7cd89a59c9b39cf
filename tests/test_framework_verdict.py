"""The judge's reading of a test framework's report on fd 3 (``drivers/frameworks
.framework_verdict``): only the report our reporter writes, in its order, with this job's
nonce, passes; any line added, dropped or moved by the program does not."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from codesynth.harness.drivers.frameworks import framework_verdict

NONCE = "0123456789abcdef0123456789abcdef"


class Recorder:
    """Collects what the judge would emit on the evidence channel."""

    def __init__(self) -> None:
        self.tests: list[dict[str, Any]] = []
        self.finals: list[tuple[str, dict[str, Any]]] = []

    def test(self, **outcome: Any) -> None:
        self.tests.append(outcome)

    def final(self, status: str, **fields: Any) -> None:
        self.finals.append((status, fields))


def verdict(lines: list[str], exit_code: int = 0, signal: int | None = None) -> Recorder:
    recorder = Recorder()
    run = {"results": "".join(line + "\n" for line in lines), "exit": exit_code,
           "signal": signal, "stdout": ""}
    framework_verdict(recorder, run, NONCE, "node-test")  # type: ignore[arg-type]
    assert len(recorder.finals) == 1
    return recorder


def report(passed: int) -> list[str]:
    return [f"TEST\tt{i}\tok\t\t1.5" for i in range(passed)] + \
        [f"SUMMARY\t{passed}\t{passed}\t0\t0", f"DONE\t{NONCE}\t0"]


def test_a_whole_report_passes_with_per_test_outcomes() -> None:
    found = verdict(report(2))
    assert found.finals[0][0] == "passed"
    assert [(t["name"], t["outcome"], t["duration"]) for t in found.tests] == [
        ("t0", "passed", 0.0015), ("t1", "passed", 0.0015)]


def test_failed_and_empty_runs() -> None:
    failing = verdict(["TEST\ta\tok\t\t1", "TEST\tb\tfail\texpected 1\t1", "SUMMARY\t2\t1\t1\t0",
                       f"DONE\t{NONCE}\t1"], exit_code=1)
    assert failing.finals[0][0] == "failed" and "b: expected 1" in failing.finals[0][1]["reason"]
    assert [t["outcome"] for t in failing.tests] == ["passed", "failed"]
    assert verdict(report(0)).finals[0][0] == "failed"  # no test ran
    assert verdict(report(1), exit_code=1).finals[0][0] == "failed"
    assert verdict(report(1)[:-1]).finals[0][0] == "failed"  # no completion line


FORGED = st.sampled_from([
    "TEST\tforged\tok\t\t1", "SUMMARY\t1\t1\t0\t0", "SUMMARY\t3\t3\t0\t0", f"DONE\t{NONCE}\t0",
    "DONE\tdeadbeef\t0", "TEST\tt0\tok\t\t1"])


@given(st.integers(1, 4), st.data())
def test_an_added_line_never_passes(passed: int, data: st.DataObject) -> None:
    lines = report(passed)
    position = data.draw(st.integers(0, len(lines)))
    lines.insert(position, data.draw(FORGED))
    assert verdict(lines).finals[0][0] == "failed"


@given(st.integers(1, 4), st.data())
def test_a_dropped_or_moved_line_never_passes(passed: int, data: st.DataObject) -> None:
    lines = report(passed)
    index = data.draw(st.integers(0, len(lines) - 1))
    moved = lines.pop(index)
    assert verdict(lines).finals[0][0] == "failed"
    target = data.draw(st.integers(0, len(lines)))
    lines.insert(target, moved)
    same = lines == report(passed) or (moved.startswith("TEST") and lines[-2:] == report(
        passed)[-2:])  # tests in another order are still the whole report
    assert (verdict(lines).finals[0][0] == "passed") == same


def test_skipped_tests_count_only_when_the_summary_says_so() -> None:
    # one test statically skipped (@Disabled, node's skip): the others passing is a pass
    lines = ["TEST\ta\tok\t\t1", "TEST\tb\tskip\tdisabled\t", "SUMMARY\t2\t1\t0\t1",
             f"DONE\t{NONCE}\t0"]
    assert verdict(lines).finals[0][0] == "passed"
    # a test found but neither passed nor skipped (aborted, never reported) is not a pass
    lines[2] = "SUMMARY\t2\t1\t0\t0"
    assert verdict(lines).finals[0][0] == "failed"
    # a JUnit test aborted at run time is a failure, whatever the counts say
    aborted = ["TEST\ta\tok\t\t1", "TEST\tb\tabort\tTestAbortedException\t1",
               "SUMMARY\t2\t1\t0\t1", f"DONE\t{NONCE}\t0"]
    found = verdict(aborted)
    assert found.finals[0][0] == "failed"
    assert [t["outcome"] for t in found.tests] == ["passed", "failed"]
