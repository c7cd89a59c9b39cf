"""From what the runner observed to a status: the only place a verdict is decided.

``passed`` comes from one source only: a ``final`` event signed with the job's secret key,
written by the harness after the last test returned. Exit codes, signals and printed text only
explain why there is no such evidence.
"""

from __future__ import annotations

import math
import signal as _signal
from dataclasses import dataclass
from typing import Any

from codesynth.harness.evidence import OVER
from codesynth.sandbox._job import HARNESS_FAULT

_FINAL_STATUSES = {"passed", "failed", "error", "memory", "output_limit", "timeout",
                   "crashed"}
_OUTCOMES = {"passed", "failed", "error", "skipped"}
_TEXT = 20_000  # characters kept of any text an event carries

# Every field of an event is checked here, whoever wrote it: a job that reached the harness's
# writer (or a harness bug) must give that job a verdict, never a malformed record that
# stops the host.


def _text(value: Any, limit: int = _TEXT) -> str | None:
    return value[:limit] if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    return value if type(value) is int and abs(value) < 1 << 62 else None


def _number(value: Any) -> float | None:
    if type(value) in (int, float) and math.isfinite(value) and abs(value) < 1e15:
        return float(value)
    return None


_OPTIONAL_TEXT = (str, type(None))
_OPTIONAL_INT = (int, type(None))
_OPTIONAL_NUMBER = (int, float, type(None))
_SHAPES: dict[str, dict[str, tuple[type, ...]]] = {
    "test": {"name": (str,), "outcome": (str,), "line": _OPTIONAL_INT,
             "source": _OPTIONAL_TEXT, "message": _OPTIONAL_TEXT,
             "duration": _OPTIONAL_NUMBER},
    "final": {"status": (str,), "reason": (str,), "phase": (str,),
              "exception": (dict, type(None))},
    "phase": {"phase": (str,)},
    "case": {"index": (int,), "duration": _OPTIONAL_NUMBER, "exit": _OPTIONAL_INT,
             "signal": _OPTIONAL_INT, "digest": (str,), "preview": (str,),
             "output_bytes": (int,)},
    "harness_error": {"message": (str,)},
    "judged": {"exit": _OPTIONAL_INT, "signal": _OPTIONAL_INT, "reason": (str,),
               "cpu": _OPTIONAL_NUMBER},
    "suspicious": {"test": (str,), "what": (str,)},
    "build": {"how": (str,), "seconds": (int, float)},  # a warm build (harness/java_warm)
}
_EXCEPTION = {"type": (str,), "message": (str,), "traceback": (str,), "line": _OPTIONAL_INT,
              "detail": (str,)}


def _malformed(events: list[dict[str, Any]]) -> str | None:
    """What is wrong with the first event the harness could not have written, if any."""
    for event in events:
        kind = event.get("e")
        shape = _SHAPES.get(kind) if isinstance(kind, str) else None
        if shape is None:
            return f"an event of unknown kind {str(kind)[:40]!r}"
        fields = [(event, shape)]
        if isinstance(event.get("exception"), dict):
            fields.append((event["exception"], _EXCEPTION))
        for values, types in fields:
            for name, allowed in types.items():
                if name in values and (type(values[name]) is bool
                                       or not isinstance(values[name], allowed)):
                    return f"{kind}.{name} is a {type(values[name]).__name__}"
    return None


def _exception(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    return {"type": _text(value.get("type"), 200) or "Exception",
            "message": _text(value.get("message")) or "",
            "traceback": _text(value.get("traceback")) or "",
            "line": _int(value.get("line")), "detail": _text(value.get("detail")) or ""}


@dataclass
class Observation:
    events: list[dict[str, Any]]
    exit_code: int | None
    signal: int | None
    limit_hit: str | None  # the runner stopped the job: "wall", "cpu" or "backstop"
    wall_limit: float
    cpu_time: float
    cpu_limit: float
    oom_killed: bool
    output_capped: bool
    setup_message: str = ""
    # the job was at its memory limit when a time limit stopped it: near the limit the kernel
    # reclaims page cache (the runtime's own code pages) before it kills, and a job can spend
    # its whole time limit there (a TypeScript memory hog on a loaded machine did)
    memory_at_limit: bool = False
    memory_limit_mb: float = 0.0


def _signal_name(number: int) -> str:
    try:
        return _signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


@dataclass
class _Case:
    test: dict[str, Any]
    ran: bool = True
    overflowed: bool = False
    out_of_cpu: bool = False  # the case's process hit its CPU-time rlimit (SIGXCPU)


def _judge_stdio(events: list[dict[str, Any]], expected: list[str], fsize: int
                 ) -> list[_Case]:
    """Compare each case's output (reported by the harness) with the expected one, here."""
    from codesynth.harness._trace import safe_repr
    from codesynth.harness.stdio import digest

    runs = {_int(e.get("index")): e for e in events if e.get("e") == "case"}
    cases = []
    for index, want in enumerate(expected):
        run = runs.get(index)
        test: dict[str, Any] = {"name": f"case {index}", "line": None, "source": None,
                                "message": None, "duration": None}
        case = _Case(test)
        if run is None:
            case.ran = False
            test.update(outcome="error", message="the case did not run")
        else:
            got = str(run.get("preview", ""))
            test["duration"] = _number(run.get("duration"))
            signal, exit_code = _int(run.get("signal")), _int(run.get("exit"))
            if (_int(run.get("output_bytes")) or 0) >= fsize:
                case.overflowed = True
                test.update(outcome="error", message="output exceeded the file-size limit")
            elif signal is not None:
                case.out_of_cpu = signal == _signal.SIGXCPU
                test.update(outcome="error", message=f"killed by {_signal_name(signal)}")
            elif exit_code or run.get("exit") not in (None, 0):
                test.update(outcome="error", message=f"exit status {exit_code}")
            elif run.get("digest") != digest(want):
                test.update(outcome="failed", message=f"expected {safe_repr(want[:200])}, "
                                                      f"got {safe_repr(got[:200])}")
            else:
                test["outcome"] = "passed"
        cases.append(case)
    return cases


def decide(obs: Observation, expected: list[str] | None = None,
           fsize: int = 1 << 62) -> dict[str, Any]:
    """``status``, ``reason``, ``tests`` and ``exception`` for one execution.

    ``expected``: for stdio jobs, the expected outputs the runner kept out of the job.
    """
    over = next((e for e in obs.events if e.get("e") == OVER), None)
    if over is not None:  # a trace cut at the runner's budget: no verdict from it
        return {"status": "sandbox_error", "tests": [], "exception": None,
                "reason": "malformed evidence from the job (beyond what the runner "
                          "decodes): "
                          f"{_text(over.get('message'), 200)}"}
    problem = _malformed(obs.events)
    if expected is not None and problem is None:
        obs.events = _stdio_events(obs.events, expected, fsize)
    tests = [_test(e) for e in obs.events if e.get("e") == "test"]
    finals = [e for e in obs.events if e.get("e") == "final"]
    phases = [e.get("phase") for e in obs.events if e.get("e") == "phase"]
    faults = [e for e in obs.events if e.get("e") == "harness_error"]
    final = finals[0] if len(finals) == 1 else None
    exception = _exception(final.get("exception")) if final else None
    if exception is None:
        failed = next((t for t in tests if t["outcome"] not in ("passed", "skipped")), None)
        if failed is not None:
            exception = {"type": "TestFailure", "message": failed.get("message") or "",
                         "traceback": "", "line": failed.get("line")}

    suspicious = [{"test": _text(e.get("test"), 500) or "", "what": _text(e.get("what"), 1000)
                   or ""} for e in obs.events if e.get("e") == "suspicious"][:50]

    def result(status: str, reason: str, limit: str | None = None) -> dict[str, Any]:
        return {"status": status, "reason": reason, "tests": tests, "exception": exception,
                "suspicious": suspicious, "limit": limit}

    # a time limit that stopped a job at its memory limit (or after an OOM kill): `memory`
    held = obs.memory_at_limit or obs.oom_killed

    def at_memory_limit(stopper: str) -> dict[str, Any]:
        what = "a process of the job was OOM-killed" if obs.oom_killed else \
            "the job was at its limit"
        return result("memory", f"memory limit of {obs.memory_limit_mb:g} MB exceeded ({what}"
                                f"; its {stopper} stopped it)", "memory")

    if problem is not None:  # signed, yet not the harness's: no verdict from this evidence
        return result("sandbox_error", f"malformed evidence from the job: {problem}")

    if len(finals) > 1:
        return result("failed", "more than one final verdict on the evidence channel: the "
                                "program forged or replayed harness output")
    if obs.output_capped:
        return result("output_limit", "output exceeded the file-size limit", "output")
    if final is not None and _text(final.get("status")) in _FINAL_STATUSES:
        status = str(final["status"])
        if status in ("failed", "error") and obs.oom_killed:
            return result("memory", "memory limit exceeded (a process was OOM-killed)",
                          "memory")
        return result(status, _text(final.get("reason"), 2000) or "",
                      "cpu" if status == "timeout" else None)
    if obs.limit_hit == "wall":
        return result("timeout", f"wall-time limit of {obs.wall_limit:g} s exceeded (not "
                                 f"using the CPU: {obs.cpu_time:.2f} s of CPU time)", "wall")
    if obs.limit_hit in ("cpu", "backstop") and held:
        return at_memory_limit("CPU-time limit" if obs.limit_hit == "cpu"
                               else "wall-time backstop")
    if obs.limit_hit == "cpu":
        return result("timeout", f"CPU-time limit of {obs.cpu_limit:g} s exceeded", "cpu")
    if obs.limit_hit == "backstop":
        return result("timeout", f"wall-time backstop exceeded while running ({obs.cpu_time:.2f}"
                                 f" s of CPU time of {obs.cpu_limit:g} s)", "backstop")
    if obs.oom_killed:
        return result("memory", "memory limit exceeded (OOM-killed)", "memory")
    if obs.signal is not None:
        # The kernel sends SIGXCPU on its tick-sampled CPU clock; the precise time read when
        # the job is reaped leaves out what the hypervisor stole, and lags it on a loaded VM
        # (0.88 s measured at a 1 s limit): SIGXCPU is believed from 75 % of the limit on.
        if obs.signal in (_signal.SIGXCPU, _signal.SIGKILL) and \
                obs.cpu_time >= obs.cpu_limit - 0.05 or \
                obs.signal == _signal.SIGXCPU and obs.cpu_time >= 0.75 * obs.cpu_limit:
            if held:
                return at_memory_limit("CPU-time limit")
            return result("timeout", f"CPU-time limit of {obs.cpu_limit:g} s exceeded", "cpu")
        return result("crashed", f"killed by {_signal_name(obs.signal)}")
    if obs.exit_code == HARNESS_FAULT and not (finals or tests or "tests" in phases or any(
            e.get("e") == "judged" for e in obs.events)):
        # The judge's own status (no "judged" event): its set-up failed, or the judged
        # process never greeted it (read with the first request, after the "code" phase).
        return result("sandbox_error", f"job setup failed: {obs.setup_message}".strip())
    if faults:
        return result("failed" if "tests" in phases else "error",
                      f"the harness was disrupted: {_text(faults[0].get('message'), 2000)}")
    if "tests" in phases:
        return result("failed", f"the program exited (status {obs.exit_code}) while the tests "
                                "ran; the harness never confirmed they finished")
    if "code" in phases:
        return result("error", f"the program exited (status {obs.exit_code}) while loading, "
                               "before the tests ran")
    return result("sandbox_error", f"the job ended (status {obs.exit_code}) before the "
                                   "harness started")


def _stdio_events(events: list[dict[str, Any]], expected: list[str], fsize: int
                  ) -> list[dict[str, Any]]:
    """Turn the harness's case reports and its ``completed`` final into tests and a verdict."""
    cases = _judge_stdio(events, expected, fsize)
    out = [e for e in events if e.get("e") not in ("case", "final")]
    out += [{"e": "test", **c.test} for c in cases if c.ran]
    finals = [e for e in events if e.get("e") == "final"]
    for final in finals:
        if final.get("status") != "completed":
            out.append(final)
            continue
        failures = [c for c in cases if c.test["outcome"] != "passed"]
        if any(c.overflowed for c in failures):
            out.append({"e": "final", "status": "output_limit",
                        "reason": "a case's output exceeded the file-size limit"})
        elif any(c.out_of_cpu for c in failures):
            first = next(c for c in failures if c.out_of_cpu).test
            out.append({"e": "final", "status": "timeout", "reason": f"{first['name']}: "
                        "CPU-time limit exceeded (killed by SIGXCPU)"})
        elif failures:
            first = failures[0].test
            out.append({"e": "final", "status": "failed", "reason": f"{first['name']}: "
                        f"{first['message']}", "exception": {
                            "type": "WrongAnswer" if first["outcome"] == "failed"
                            else "RuntimeError", "message": f"{first['name']}: "
                            f"{first['message']}", "traceback": "", "line": None}})
        else:
            out.append({"e": "final", "status": "passed",
                        "reason": f"{len(cases)} case(s) passed"})
    return out


def _test(event: dict[str, Any]) -> dict[str, Any]:
    outcome = event.get("outcome")
    return {"name": _text(event.get("name"), 500) or "?",
            "outcome": outcome if outcome in _OUTCOMES else "error",
            "line": _int(event.get("line")), "source": _text(event.get("source")),
            "message": _text(event.get("message")), "duration": _number(event.get("duration"))}


def keep_expected(job: dict[str, Any]) -> tuple[dict[str, Any], list[str] | None]:
    """A stdio job without its expected outputs (they never leave the runner), and them."""
    if job["test_style"] != "stdio":
        return job, None
    expected = [str(case["output"]) for case in job["tests"]]
    return {**job, "tests": [{"input": case["input"]} for case in job["tests"]]}, expected


def fault(exc: BaseException, tainted: str) -> dict[str, Any]:
    """A job's sandbox_error from the runner's own failure; the runner is then replaced."""
    return {"status": "sandbox_error", "reason": f"runner: {exc!r}"[:2000],
            "runner_tainted": tainted}
