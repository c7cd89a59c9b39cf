"""Budgets and the rejection log, as an outside tester broke them: a request budget below the
concurrency still yields what its requests brought, and identical rejections are one line
each (and a resumed run adds none twice)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Run
from tests.openai_server import Fault, ScriptedServer
from tests.test_generate import scripted
from tests.test_generate_exits import generate, lines


def test_a_request_budget_below_the_concurrency_still_yields_records(run: Run,
                                                                     tmp_path: Path) -> None:
    with ScriptedServer(scripted, latency=0.2) as server:
        code, out, err = generate(run, server, tmp_path, "self-instruct", 50, "--concurrency",
                                  "8", "--budget-requests", "2", "--json")
        received = server.count
    summary = json.loads(out)
    assert code == 0, err
    assert received == summary["requests_sent"] == 2  # in flight when stopped: finished
    assert summary["kept"] >= 1 and summary["stopped"].startswith("stopped: 2 request(s)")


def test_identical_rejections_are_one_line_each_and_a_resume_adds_none(
        run: Run, tmp_path: Path) -> None:
    with ScriptedServer(lambda r: Fault(400, "bad request")) as server:
        code, out, _ = generate(run, server, tmp_path, "oss-instruct", 2, "--param",
                                "max_requests=5", "--json", "--allow-empty")
        assert code == 0 and server.count == 5
        summary = json.loads(out)
        log = lines(tmp_path / "out.jsonl.rejected.jsonl")
        assert summary["rejected"]["request_failed"] == 5
        assert [r["reason"] for r in log].count("request_failed") == 5
        assert len({r["id"] for r in log}) == len(log)
        generate(run, server, tmp_path, "oss-instruct", 2, "--param", "max_requests=5",
                 "--allow-empty")
    assert lines(tmp_path / "out.jsonl.rejected.jsonl") == log
