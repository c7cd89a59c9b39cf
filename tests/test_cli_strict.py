"""`--strict` on the command line, and `result.suspicious` in the verify output."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Run

HACK = {"id": "hack", "code": "class Yes:\n    def __eq__(self, other):\n        return True\n"
        "    __hash__ = object.__hash__\n\ndef f(x):\n    return Yes()\n",
        "tests": "assert f(1) == 2\n"}
PLAIN = {"id": "plain", "code": "def f(x):\n    return x + 1\n", "tests": "assert f(1) == 2\n"}


def _verify(run: Run, tmp_path: Path, *flags: str) -> dict[str, dict]:
    records = tmp_path / "in.jsonl"
    records.write_text("".join(json.dumps(r) + "\n" for r in (HACK, PLAIN)))
    out = tmp_path / f"out{len(flags)}.jsonl"
    code, _, err = run("verify", records, "-o", out, "--timeout", "5", "--workers", "1", *flags)
    assert code == 0, err
    return {r["id"]: r["result"] for r in map(json.loads, out.read_text().splitlines())}


def test_suspicious_comparisons_are_in_the_trace_and_strict_fails_them(run: Run,
                                                                     tmp_path: Path) -> None:
    loose = _verify(run, tmp_path)
    assert loose["hack"]["status"] == "passed" and loose["plain"]["status"] == "passed"
    assert loose["hack"]["suspicious"][0]["test"] == "tests.py:1"
    assert "Yes == int" in loose["hack"]["suspicious"][0]["what"]
    assert loose["plain"]["suspicious"] == [] and loose["plain"]["limits"]["strict"] is False
    strict = _verify(run, tmp_path, "--strict")
    assert strict["hack"]["status"] == "failed" and strict["plain"]["status"] == "passed"
    assert "strict" in strict["hack"]["tests"][0]["message"]
    assert strict["plain"]["limits"]["strict"] is True
