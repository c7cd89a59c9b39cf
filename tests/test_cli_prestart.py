"""``eval`` and ``verify`` start their sandbox before the command is imported: the sandbox
they then use is that one, and when a command fails before using it, nothing is left behind."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from codesynth.cli import _prestart, main
from codesynth.records import Job, Limits
from codesynth.sandbox import open_sandbox
from tests.conftest import runners_of


@pytest.fixture()
def taken(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """What each ``take`` handed over (None: the command opened its own sandbox)."""
    seen: list[Any] = []
    original = _prestart.take

    def take(wanted: tuple[Any, ...] | None) -> Any:
        sandbox = original(wanted)
        seen.append(sandbox)
        return sandbox

    monkeypatch.setattr(_prestart, "take", take)
    return seen


def test_verify_uses_the_sandbox_started_before_its_imports(tmp_path: Path,
                                                            taken: list[Any]) -> None:
    records = tmp_path / "in.jsonl"
    records.write_text(json.dumps({"id": "a", "code": "def f():\n    return 1\n",
                                   "tests": "assert f() == 1\n"}) + "\n")
    out = tmp_path / "out.jsonl"
    assert main(["verify", str(records), "-o", str(out), "--workers", "1"]) == 0
    assert taken and taken[0] is not None  # handed over, not opened a second time
    assert json.loads(out.read_text())["result"]["status"] == "passed"


@pytest.mark.parametrize("argv", [
    ["verify", "{missing}", "-o", "{out}"],  # fails while validating the input
    ["verify", "{bad}", "-o", "{out}", "--workers", "2"],
    ["eval", "humaneval", "{bad}", "-o", "{out}"],
    ["eval", "humaneval", "{bad}", "-o", "{out}", "-k", "0"],  # before opening a sandbox
    ["verify", "{bad}", "-o", "{out}", "--no-such-option"],  # the command's parser refuses
    ["verify", "{bad}", "-o", "{out}", "--workers", "0"],  # never started
])
def test_a_command_that_fails_first_leaves_no_runner(tmp_path: Path, argv: list[str]) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    names = {"missing": str(tmp_path / "missing.jsonl"), "bad": str(bad),
             "out": str(tmp_path / "out.jsonl")}
    before = runners_of(os.getpid())
    try:
        code = main([part.format(**names) for part in argv])
    except SystemExit as exc:  # argparse
        code = exc.code
    assert code != 0
    pending = _prestart._started.get("thread")  # a sandbox still starting would be a leak
    if pending is not None:
        pending.join()
    assert runners_of(os.getpid()) <= before
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize("bad", [["--workers", "abc"], ["--workers"], ["--m", "3"]])
def test_a_bad_sandbox_option_is_reported_once(tmp_path: Path, bad: list[str],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    # The options are read twice (early, to start the sandbox; then by the command): only
    # the command reports what is wrong with them.
    with pytest.raises(SystemExit) as exit_:
        main(["verify", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out.jsonl"), *bad])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.count("usage:") == 1


def test_runners_of_sees_a_started_runner() -> None:
    """The leak checks above count runners by their name: it must see a live one."""
    before = runners_of(os.getpid())
    with open_sandbox("local", workers=1, limits=Limits(timeout=5)) as sandbox:
        assert sandbox.run(Job(id="1", code="x = 1", tests="assert x == 1")).status == "passed"
        assert len(runners_of(os.getpid()) - before) == 1
    deadline = time.monotonic() + 30
    while runners_of(os.getpid()) - before:
        assert time.monotonic() < deadline, "the runner outlived its sandbox"
        time.sleep(0.05)
