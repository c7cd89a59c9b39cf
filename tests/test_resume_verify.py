"""``codesynth verify`` continues a killed run: the records already in ``OUT.partial`` are kept
(a torn last line is cut off), the rest are run, and the output is the one an uninterrupted
run writes, except for the timing fields (``TIMING``)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codesynth.jsonl import AtomicJSONLWriter, ResumableJSONLWriter
from tests.conftest import Run, runners_of, squash

FAST = ["--workers", "2", "--timeout", "10", "--memory-mb", "256"]

# The only fields that may differ between two runs of the same records: measurements of time
# and memory, in the trace (``result`` for verify, ``trace`` for eval) and in each test, and
# the uid of the worker that ran the record, in ``isolation`` (each sandbox draws
# its own block of uids, and which worker takes a record is scheduling).
TIMING = ("duration", "cpu_time", "memory_peak_mb")
WORKER_UID = re.compile(r"\buid \d+\b")


def normalized(line: bytes, trace: str = "result") -> str:
    """An output line with its timing fields zeroed and its worker's uid hidden; key order
    and every other value kept."""
    row = json.loads(line)
    result = row[trace]
    for name in TIMING:
        if name in result:
            result[name] = 0
    result["isolation"] = WORKER_UID.sub("uid N", result["isolation"])
    assert "uid N" in result["isolation"]  # the pattern still matches the format
    for test in result.get("tests", []):
        test["duration"] = 0
    return json.dumps(row, ensure_ascii=False)


def normalized_file(path: Path, trace: str = "result") -> list[str]:
    return [normalized(line, trace) for line in path.read_bytes().splitlines()]


def records(count: int, sleep: float = 0.0) -> list[dict[str, Any]]:
    """Passing, failing and erroring records; ids repeat, and so do whole lines."""
    pause = f"import time\ntime.sleep({sleep})\n" if sleep else ""
    rows: list[dict[str, Any]] = []
    for i in range(count):
        kind = i % 5
        if kind == 3:
            rows.append(rows[-1])  # the same input line twice
        elif kind == 4:
            rows.append({"id": f"r{i - 4}", "code": pause + "def f(x):\n    return x\n",
                         "tests": f"assert f({i}) == {i + 1}\n", "n": i})  # an id again
        else:
            rows.append({"id": f"r{i}", "code": pause + f"def f(x):\n    return x + {kind}\n",
                         "tests": f"assert f({i}) == {i + 1}\n", "meta": {"i": i, "ü": "ß"}})
    return rows


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")
    return path


def partial_of(out: Path) -> Path:
    return out.with_name(out.name + ".partial")


def meta_of(out: Path) -> Path:
    return out.with_name(out.name + ".partial.meta")


def complete_lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def kill_midway(argv: list[str], partial: Path, at_least: int) -> int:
    """Run ``codesynth *argv`` in its own process group; SIGKILL the group once ``partial``
    holds ``at_least`` complete lines; check every runner it started goes away. Returns the
    number of complete lines at the kill."""
    proc = subprocess.Popen([sys.executable, "-m", "codesynth", *argv], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    runners: set[int] = set()
    deadline = time.monotonic() + 120
    try:
        while complete_lines(partial) < at_least:
            assert proc.poll() is None, f"finished before the kill: {proc.stderr.read()!r}"
            assert time.monotonic() < deadline, "no progress"
            runners |= runners_of(proc.pid)
            time.sleep(0.01)
        runners |= runners_of(proc.pid)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(30)
        assert proc.stderr is not None
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert runners, "no runner seen"
    deadline = time.monotonic() + 30
    while any(alive(pid) for pid in runners):  # a dead host closes their stdin: they leave
        assert time.monotonic() < deadline, f"runners left behind: {runners}"
        time.sleep(0.05)
    return complete_lines(partial)


def codesynth(*argv: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "codesynth", *map(str, argv)],
                          capture_output=True, text=True, encoding="utf-8", timeout=300,
                          env={**os.environ, "COLUMNS": "300"})


# ---------------------------------------------------------------------------------------------
# SIGKILL, for real


def test_sigkill_then_resume_gives_the_uninterrupted_output(tmp_path: Path) -> None:
    rows = records(300, sleep=0.02)
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    reference, out = tmp_path / "reference.jsonl", tmp_path / "out.jsonl"
    done = codesynth("verify", source, "-o", reference, *FAST)
    assert done.returncode == 0, done.stderr

    kept = kill_midway(["verify", str(source), "-o", str(out), *FAST], partial_of(out), 20)
    assert 20 <= kept < len(rows)
    assert not out.exists() and meta_of(out).exists()
    before = partial_of(out).read_bytes()

    again = codesynth("verify", source, "-o", out, *FAST, "--json")
    assert again.returncode == 0, again.stderr
    assert "resuming" in again.stderr
    text = out.read_bytes()
    kept_bytes = before[:before.rindex(b"\n") + 1]
    assert text.startswith(kept_bytes)  # what was written is kept, byte for byte
    assert normalized_file(out) == normalized_file(reference)
    assert len(text.splitlines()) == len(rows)  # nothing run twice, nothing duplicated
    summary = json.loads(again.stdout)
    assert summary["resumed"] == kept_bytes.count(b"\n")
    assert summary["total"] == len(rows)
    assert summary["by_status"]["passed"] == sum(r["result"]["passed"] for r in
                                                 map(json.loads, text.splitlines()))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl",
                                                          "reference.jsonl"]


# ---------------------------------------------------------------------------------------------
# unfinished in-process: a run stopped (Ctrl-C) just before its rename leaves every line in
# OUT.partial and its meta; a test then cuts OUT.partial where a kill could have


def unfinished(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs end with Ctrl-C after their last record, instead of renaming OUT.partial."""

    def exit_(self: ResumableJSONLWriter, exc_type: object, exc: object, tb: object) -> None:
        AtomicJSONLWriter.__exit__(self, exc_type or KeyboardInterrupt, exc, tb)  # no rename
        if exc_type is None:
            raise KeyboardInterrupt

    monkeypatch.setattr(ResumableJSONLWriter, "__exit__", exit_)


SMALL = records(10)


@pytest.fixture
def small(run: Run, tmp_path: Path) -> tuple[Path, Path]:
    """The small input and its uninterrupted output."""
    source = write_jsonl(tmp_path / "in.jsonl", SMALL)
    reference = tmp_path / "reference.jsonl"
    code, _, err = run("verify", source, "-o", reference, *FAST)
    assert code == 0, err
    return source, reference


def interrupted(run: Run, monkeypatch: pytest.MonkeyPatch, source: Path, out: Path, n: int,
                *options: str) -> None:
    """Leave the state of a run of ``source`` killed after ``n`` records (and a torn line)."""
    with monkeypatch.context() as patch:
        unfinished(patch)
        code, _, err = run("verify", source, "-o", out, *FAST, *options)
    assert code == 130, err
    lines = partial_of(out).read_bytes().splitlines(keepends=True)
    partial_of(out).write_bytes(b"".join(lines[:n]))
    assert meta_of(out).exists()


def test_a_torn_last_line_is_cut_off(run: Run, tmp_path: Path, small: tuple[Path, Path],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    source, reference = small
    out = tmp_path / "out.jsonl"
    interrupted(run, monkeypatch, source, out, 4)
    next_line = reference.read_bytes().splitlines(keepends=True)[4]
    with partial_of(out).open("ab") as handle:
        handle.write(next_line[:len(next_line) // 2])  # killed in the middle of a write
    code, out_text, err = run("verify", source, "-o", out, *FAST, "--json")
    assert code == 0, err
    assert normalized_file(out) == normalized_file(reference)
    assert json.loads(out_text)["resumed"] == 4
    assert not partial_of(out).exists() and not meta_of(out).exists()


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.floats(0, 1))
def test_whatever_the_kill_point_the_output_is_the_same(
        run: Run, tmp_path: Path, small: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch,
        cut: float) -> None:
    source, reference = small
    out = tmp_path / "out.jsonl"
    if not meta_of(out).exists():
        interrupted(run, monkeypatch, source, out, 1)
    meta = meta_of(out).read_bytes()
    whole = reference.read_bytes()
    prefix = whole[:int(cut * len(whole))]  # any byte: mid-line, on a newline, all, nothing
    partial_of(out).write_bytes(prefix)
    code, _, err = run("verify", source, "-o", out, *FAST)
    assert code == 0, err
    text = out.read_bytes()
    kept = prefix[:prefix.rfind(b"\n") + 1]
    assert text.startswith(kept)
    assert normalized_file(out) == normalized_file(reference)
    partial_of(out).write_bytes(b"")
    meta_of(out).write_bytes(meta)  # the same run's meta, for the next example


def test_a_partial_from_another_input_is_refused_then_restarted(
        run: Run, tmp_path: Path, small: tuple[Path, Path],
        monkeypatch: pytest.MonkeyPatch) -> None:
    source, reference = small
    out = tmp_path / "out.jsonl"
    interrupted(run, monkeypatch, source, out, 3)
    before = partial_of(out).read_bytes()
    other = write_jsonl(tmp_path / "other.jsonl", SMALL[:6])
    code, _, err = run("verify", other, "-o", out, *FAST)
    assert code == 2
    assert "differentrun" in squash(err) and "input.path" in err and "--restart" in err
    assert partial_of(out).read_bytes() == before and not out.exists()  # kept, not reused

    code, _, err = run("verify", other, "-o", out, *FAST, "--restart")
    assert code == 0, err
    assert normalized_file(out) == normalized_file(reference)[:6]
    assert not partial_of(out).exists() and not meta_of(out).exists()


def test_the_same_input_changed_in_place_is_refused(
        run: Run, tmp_path: Path, small: tuple[Path, Path],
        monkeypatch: pytest.MonkeyPatch) -> None:
    source, _ = small
    out = tmp_path / "out.jsonl"
    interrupted(run, monkeypatch, source, out, 3)
    write_jsonl(source, [*SMALL, SMALL[0]])
    code, _, err = run("verify", source, "-o", out, *FAST)
    assert code == 2
    assert "input.size" in err and "--restart" in err


def test_options_that_decide_verdicts_must_match_workers_need_not(
        run: Run, tmp_path: Path, small: tuple[Path, Path],
        monkeypatch: pytest.MonkeyPatch) -> None:
    source, reference = small
    out = tmp_path / "out.jsonl"
    interrupted(run, monkeypatch, source, out, 2)
    code, _, err = run("verify", source, "-o", out, *FAST, "--timeout", "5")
    assert code == 2
    assert "options.limits.timeout 10.0 -> 5.0" in " ".join(err.split())
    code, _, err = run("verify", source, "-o", out, *FAST, "--workers", "1")
    assert code == 0, err
    assert normalized_file(out) == normalized_file(reference)


def test_a_partial_without_meta_is_refused(run: Run, tmp_path: Path,
                                           small: tuple[Path, Path]) -> None:
    source, reference = small
    out = tmp_path / "out.jsonl"
    partial_of(out).write_bytes(reference.read_bytes().splitlines(keepends=True)[0])
    code, _, err = run("verify", source, "-o", out, *FAST)
    assert code == 2
    assert "unknownrun" in squash(err) and "--restart" in err
    partial_of(out).write_bytes(b'{"id": "r0", "co')  # no complete line: nothing to lose
    code, _, err = run("verify", source, "-o", out, *FAST)
    assert code == 0, err
    assert normalized_file(out) == normalized_file(reference)


def test_a_partial_that_does_not_match_its_input_is_refused(
        run: Run, tmp_path: Path, small: tuple[Path, Path],
        monkeypatch: pytest.MonkeyPatch) -> None:
    source, reference = small
    out = tmp_path / "out.jsonl"
    interrupted(run, monkeypatch, source, out, 3)
    lines = partial_of(out).read_bytes().splitlines(keepends=True)
    partial_of(out).write_bytes(lines[0] + lines[2] + lines[1])  # records out of order
    code, _, err = run("verify", source, "-o", out, *FAST)
    assert code == 2
    assert "out.jsonl.partial:2:" in squash(err) and "inputline2" in squash(err)


def test_bad_input_is_reported_before_the_partial_is_read(
        run: Run, tmp_path: Path, small: tuple[Path, Path]) -> None:
    source = write_jsonl(tmp_path / "bad.jsonl", [{"id": "a", "code": "x = 1"}])
    out = tmp_path / "out.jsonl"
    partial_of(out).write_bytes(b"not json\n")
    code, _, err = run("verify", source, "-o", out, *FAST)
    assert code == 2
    assert "bad.jsonl:1:field'tests'ismissing" in squash(err)
    assert partial_of(out).read_bytes() == b"not json\n"


def test_a_finished_run_leaves_only_its_output(run: Run, tmp_path: Path,
                                               small: tuple[Path, Path]) -> None:
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "reference.jsonl"]
