"""The request and response shapes of SandboxFusion's ``POST /run_code`` and open-r1's
``POST /execute_batch``, translated to and from sandbox jobs.

A language SandboxFusion knows but this server does not run gets SandboxFusion's own answer
for a language without a runner: HTTP 200, ``status: "SandboxError"`` and a message (its
client raises on that, and retries). A name SandboxFusion does not know at all gets its
validation error: HTTP 422 with ``detail: [{loc, msg, type}]``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import secrets
from typing import Any

from codesynth.errors import UserError
from codesynth.records import Execution, Job, Limits, Status
from codesynth.serve.languages import languages

# SandboxFusion's ``Language`` literal (its client and server validate against it).
SANDBOX_FUSION_LANGUAGES = (
    "python", "python2", "cpp", "nodejs", "go", "go_test", "java", "php", "csharp", "bash",
    "typescript", "sql", "rust", "cuda", "lua", "R", "perl", "D_ut", "ruby", "scala", "julia",
    "pytest", "junit", "kotlin_script", "jest", "verilog", "python_gpu", "lean", "swift",
    "racket", "gtest", "react")


class BadRequest(Exception):
    """A request the server refuses with ``status`` and a JSON ``body``."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(json.dumps(body))
        self.status, self.body = status, body


def _field_error(field: str, message: str, kind: str = "value_error") -> BadRequest:
    return BadRequest(422, {"detail": [{"loc": ["body", field], "msg": message,
                                        "type": kind}]})


def _number(body: dict[str, Any], name: str, default: float) -> float:
    value = body.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value):
        raise _field_error(name, "must be a number")
    return float(value)


def capped_limits(server: Limits, timeout: float | None, memory_mb: float | None) -> Limits:
    """The server's limits, with a request's smaller timeout or memory (never larger)."""
    changes: dict[str, Any] = {}
    if timeout is not None and timeout > 0:
        changes["timeout"] = min(timeout, server.timeout)
        changes["cpu_time"] = min(timeout, server.effective_cpu_time)
        changes["wall_time"] = None if server.wall_time is None \
            else max(changes["timeout"], server.wall_time)
    if memory_mb is not None and memory_mb > 0:
        changes["memory_mb"] = max(16, min(int(memory_mb), server.memory_mb))
    return dataclasses.replace(server, **changes) if changes else server


def _language(name: Any) -> Any | None:
    """The plugin for ``name``; None for a SandboxFusion language this server lacks."""
    if not isinstance(name, str) or name not in SANDBOX_FUSION_LANGUAGES:
        raise _field_error("language", f"Input should be one of: "
                           f"{', '.join(SANDBOX_FUSION_LANGUAGES)}", "literal_error")
    try:
        return languages.get(name)
    except UserError:
        return None


def unsupported(language: str) -> dict[str, Any]:
    return {"status": "SandboxError", "compile_result": None, "run_result": None, "files": {},
            "executor_pod_name": None,
            "message": f"language {language!r} is not supported by this codesynth server "
                       f"(supported: {', '.join(languages.names())})"}


def run_code_job(body: Any, server: Limits) -> tuple[Job | None, Limits, str]:
    """(job, limits, language) of a ``/run_code`` body; job None: language not supported."""
    if not isinstance(body, dict):
        raise _field_error("", "the body must be a JSON object", "model_attributes_type")
    code = body.get("code")
    if not isinstance(code, str):
        raise _field_error("code", "Field required (a string)", "missing")
    stdin = body.get("stdin")
    if stdin is not None and not isinstance(stdin, str):
        raise _field_error("stdin", "must be a string or null")
    files = body.get("files") or {}
    if not isinstance(files, dict) or not all(
            isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in files.items()):
        raise _field_error("files", "must map paths to base64 strings")
    language = body.get("language")
    plugin = _language(language)
    limits = capped_limits(server, _number(body, "run_timeout", 10.0),
                           _number(body, "memory_limit_MB", -1))
    if plugin is None:
        return None, limits, str(language)
    program, tests = plugin.script(code, stdin, files, False, "")
    return Job(id="run_code", code=program, tests=tests, language=plugin.language), limits, \
        str(language)


def _return_code(execution: Execution) -> int:
    """The script's exit status, as ``python main.py`` would have it (the program's own
    ``os._exit(0)`` included)."""
    if execution.status is Status.PASSED:
        return 0
    if execution.signal:
        return -int(execution.signal)
    if execution.status is Status.ERROR and execution.exit_code is not None:
        return execution.exit_code
    return execution.exit_code or 1


def run_code_response(execution: Execution) -> dict[str, Any]:
    """SandboxFusion's response for one execution (plus a ``codesynth`` field with the
    verdict, which its client ignores)."""
    extra = {"codesynth": {"status": execution.status.value, "reason": execution.reason,
                           "cache": execution.cache}}
    if execution.status is Status.SANDBOX_ERROR:
        return {"status": "SandboxError", "message": execution.reason, "compile_result": None,
                "run_result": None, "files": {}, "executor_pod_name": None, **extra}
    timed_out = execution.status is Status.TIMEOUT
    run = {"status": "TimeLimitExceeded" if timed_out else "Finished",
           "execution_time": execution.duration, "cpu_time": execution.cpu_time,
           "return_code": None if timed_out else _return_code(execution),
           "stdout": execution.stdout, "stderr": execution.stderr}
    ok = not timed_out and run["return_code"] == 0
    return {"status": "Success" if ok else "Failed", "message": "", "compile_result": None,
            "run_result": run, "files": {}, "executor_pod_name": None, **extra}


def execute_batch_jobs(body: Any, server: Limits) -> tuple[list[Job | str], Limits, float | None,
                                                            str]:
    """The jobs of an ``/execute_batch`` body (a string in place of a job: the language is
    not supported), their limits, the request's own timeout and the output mark."""
    if not isinstance(body, dict) or not isinstance(body.get("scripts"), list) \
            or not all(isinstance(s, str) for s in body["scripts"]):
        raise BadRequest(400, {"error": "bad_request",
                               "message": "the body must be {\"scripts\": [str, ...], "
                                          "\"languages\": [...], \"timeout\": seconds}"})
    scripts: list[str] = body["scripts"]
    names = body.get("languages") or [body.get("language") or "python"] * len(scripts)
    if not isinstance(names, list) or len(names) != len(scripts):
        raise BadRequest(400, {"error": "bad_request",
                               "message": "languages must list one language per script"})
    limits = capped_limits(server, _number(body, "timeout", server.timeout), None)
    request_timeout = body.get("request_timeout")
    if request_timeout is not None:
        request_timeout = _number(body, "request_timeout", 0) or None
    mark = f"\x1ecodesynth-{secrets.token_hex(8)}\x1e"
    jobs: list[Job | str] = []
    for index, (script, name) in enumerate(zip(scripts, names, strict=True)):
        try:
            plugin = languages.get(name) if isinstance(name, str) else None
        except UserError:
            plugin = None
        if plugin is None:
            jobs.append(f"language {name!r} is not supported by this codesynth server")
            continue
        program, tests = plugin.script(script, None, {}, True, mark)
        jobs.append(Job(id=f"script-{index}", code=program, tests=tests,
                        language=plugin.language))
    return jobs, limits, request_timeout, mark


def execute_batch_result(execution: Execution | str, mark: str) -> dict[str, Any]:
    """open-r1's ``{execution, exception_str}`` for one script (the e2b ``Execution`` shape:
    results, logs, error, execution_count)."""
    if isinstance(execution, str):
        return {"execution": None, "exception_str": execution}
    if execution.status in (Status.SANDBOX_ERROR, Status.TIMEOUT):
        return {"execution": None, "exception_str": f"{execution.status.value}: "
                                                    f"{execution.reason}"}
    stdout, shown = execution.stdout, {"text": None, "error": None}
    end = stdout.rfind(mark)
    start = stdout.rfind(mark, 0, end) if end > 0 else -1
    if start >= 0:
        try:
            shown = json.loads(stdout[start + len(mark):end])
        except ValueError:
            pass
        stdout = stdout[:start] + stdout[end + len(mark):]
    error = shown.get("error")
    if error is None and execution.status is not Status.PASSED:
        error = {"name": execution.status.value, "value": execution.reason, "traceback": ""}
    results = [] if shown.get("text") is None else [
        {"text": shown["text"], "is_main_result": True}]
    return {"execution": {"results": results,
                          "logs": {"stdout": [stdout] if stdout else [],
                                   "stderr": [execution.stderr] if execution.stderr else []},
                          "error": error, "execution_count": 1},
            "exception_str": None}
