"""Drop-in compatibility: SandboxFusion's own client (``sandbox-fusion`` from PyPI) and
open-r1's ``/execute_batch`` payloads against a real ``codesynth serve`` on loopback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sandbox_fusion  # noqa: F401 - SandboxFusion's client from PyPI, a test dependency (.[dev])
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import BACKENDS, Run, open_or_skip
from tests.serve_server import serve
from tests.test_cli_verify import write_jsonl

# Records in the verify format; SandboxFusion's users run code and tests as one script.
RECORDS: list[dict[str, Any]] = [
    {"id": "pass", "code": "def f(x):\n    return x + 1\n", "tests": "assert f(1) == 2\n"},
    {"id": "fail", "code": "def f(x):\n    return x\n", "tests": "assert f(1) == 2\n"},
    {"id": "error", "code": "def f(x:\n    return x\n", "tests": "assert f(1) == 2\n"},
    {"id": "raises", "code": "def f(x):\n    return 1 / x\n", "tests": "assert f(0) == 0\n"},
    {"id": "timeout", "code": "def f(x):\n    while True:\n        pass\n",
     "tests": "assert f(1) == 2\n"},
    {"id": "sleeps", "code": "import time\ndef f(x):\n    time.sleep(30)\n",
     "tests": "assert f(1) is None\n"},
    {"id": "exits", "code": "import sys\ndef f(x):\n    sys.exit(0)\n",
     "tests": "f(1)\nassert False\n"},
    {"id": "memory", "code": "def f(x):\n    return bytearray(1 << 30)\n",
     "tests": "assert f(1)\n"},
]


def test_sandbox_fusion_client_verdicts_equal_verify(tmp_path: Path, run: Run) -> None:
    from sandbox_fusion import RunCodeRequest, RunStatus, run_code

    source = write_jsonl(tmp_path / "in.jsonl", RECORDS)
    limits = ["--workers", "2", "--timeout", "2", "--memory-mb", "256"]
    assert run("verify", source, "-o", tmp_path / "out.jsonl", *limits)[0] == 0
    verdicts = [json.loads(line)["result"]
                for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    with serve(*limits) as server:
        answers = [run_code(RunCodeRequest(code=r["code"] + "\n" + r["tests"],
                                           language="python", run_timeout=2),
                            endpoint=server.url, max_attempts=1) for r in RECORDS]
    statuses = [v["status"] for v in verdicts]
    assert statuses == ["passed", "failed", "error", "failed", "timeout", "timeout", "failed",
                        "memory"], [v["reason"] for v in verdicts]
    for record, verdict, answer in zip(RECORDS, verdicts, answers, strict=True):
        script_exits_0 = record["id"] == "exits"  # see below
        said = (record["id"], verdict["status"], verdict["reason"], answer.dict())
        assert (answer.status == RunStatus.Success) == (verdict["passed"] or script_exits_0), said
        timed_out = answer.run_result.status.value == "TimeLimitExceeded"
        assert timed_out == (verdict["status"] == "timeout"), said
    # A script that exits 0 before its asserts ran succeeded, as `python main.py` says
    # (run_code runs scripts); verify, which keeps program and tests apart, says failed.
    assert answers[6].run_result.return_code == 0 and verdicts[6]["status"] == "failed"
    raised = answers[3].run_result
    assert raised.return_code == 1 and "ZeroDivisionError" in raised.stderr


@pytest.mark.parametrize("backend", BACKENDS)
def test_run_code_stdin_files_exit_codes_and_async_client(backend: str) -> None:
    if backend == "docker":
        open_or_skip("docker", workers=1).close()  # skips without an engine (not in CI)
    from sandbox_fusion import RunCodeRequest, run_code, run_code_async

    program = ("import sys\nname = input()\nprint('hello', name)\n"
               "print(open('data/x.txt').read())\nprint('warn', file=sys.stderr)\n"
               "if __name__ == '__main__':\n    sys.exit(3)\n")
    request = RunCodeRequest(code=program, language="python", stdin="ada\n",
                             files={"data/x.txt": "c2VjcmV0"})  # base64 of "secret"
    with serve("--workers", "2", "--timeout", "5", "--sandbox", backend) as server:
        answer = run_code(request, endpoint=server.url, max_attempts=1)
        again = asyncio.run(run_code_async(RunCodeRequest(code="print(6 * 7)",
                                                          language="python"),
                                           endpoint=server.url, max_attempts=1))
    result = answer.run_result
    assert answer.status.value == "Failed" and result.return_code == 3
    assert result.stdout == "hello ada\nsecret\n" and result.stderr == "warn\n"
    assert again.status.value == "Success" and again.run_result.stdout == "42\n"


def test_other_languages_get_sandbox_fusions_own_answers() -> None:
    from sandbox_fusion import RunCodeRequest, run_code

    with serve("--workers", "1") as server:
        status, body, _ = server.post("/run_code", {"code": "int main(){}", "language": "cpp"})
        assert status == 200 and body["status"] == "SandboxError"
        assert "'cpp' is not supported" in body["message"] and body["run_result"] is None
        with pytest.raises(Exception, match="Sandbox responded with error"):  # its client
            run_code(RunCodeRequest(code="x", language="go"), endpoint=server.url,
                     max_attempts=1)
        status, body, _ = server.post("/run_code", {"code": "x", "language": "klingon"})
        assert status == 422 and body["detail"][0]["loc"] == ["body", "language"]
        status, body, _ = server.post("/run_code", {"language": "python"})
        assert status == 422 and body["detail"][0]["loc"] == ["body", "code"]


def test_the_client_authenticates_through_its_endpoint_url() -> None:
    from sandbox_fusion import RunCodeRequest, run_code

    token = "a-token-for-the-url"
    with serve("--workers", "1", token=token) as server:
        with pytest.raises(Exception, match="401"):
            run_code(RunCodeRequest(code="print(1)", language="python"), endpoint=server.url,
                     max_attempts=1)
        answer = run_code(RunCodeRequest(code="print(1)", language="python"),
                          endpoint=server.url.replace("http://", f"http://sf:{token}@"),
                          max_attempts=1)
    assert answer.run_result.stdout == "1\n"


def test_open_r1_execute_batch() -> None:
    scripts = ["x = 20\nprint('log')\nx * 2 + 2", "1 / 0", "import time\ntime.sleep(10)",
               "print('no value')", "int main() {}"]
    with serve("--workers", "2", "--timeout", "1") as server:
        status, body, _ = server.post("/execute_batch", {
            "scripts": scripts, "languages": ["python"] * 4 + ["cpp"], "timeout": 1,
            "request_timeout": 30})
    assert status == 200 and len(body) == 5
    first, second, third, fourth, fifth = body
    assert first["execution"]["results"] == [{"text": "42", "is_main_result": True}]
    assert first["execution"]["logs"] == {"stdout": ["log\n"], "stderr": []}
    assert first["exception_str"] is None and first["execution"]["error"] is None
    assert second["execution"]["error"]["name"] == "ZeroDivisionError"
    assert third["execution"] is None and third["exception_str"].startswith("timeout")
    assert fourth["execution"]["results"] == []
    assert fourth["execution"]["logs"]["stdout"] == ["no value\n"]
    assert fifth["execution"] is None and "not supported" in fifth["exception_str"]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200))
def test_run_code_echoes_any_text_through_stdin(echo_server: str, text: str) -> None:
    from sandbox_fusion import RunCodeRequest, run_code

    program = "import sys\nsys.stdout.write(sys.stdin.read())\nprint(sys.stdin.buffer.read())"
    answer = run_code(RunCodeRequest(code=program,
                                     language="python", stdin=text),
                      endpoint=echo_server, max_attempts=1)
    assert answer.status.value == "Success"
    # universal newlines, as `python main.py < input` reads them
    assert answer.run_result.stdout == text.replace("\r\n", "\n").replace("\r", "\n") + "b''\n"


@pytest.fixture(scope="module")
def echo_server() -> Iterator[str]:
    with serve("--workers", "2") as server:
        yield server.url
