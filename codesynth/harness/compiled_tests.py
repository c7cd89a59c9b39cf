"""The ``assert``/``humaneval`` styles and the ``native`` style for languages other than
Python, run by the judge.

Equality assertions (``assert``/``humaneval``): the tests are Python; ``harness/calls``
parses them into calls; ``harness/drivers`` renders the program plus a driver; the judged
process builds it once and runs it (``run`` with ``results``): the driver writes each
call's RESULT to fd 3. The expected values never leave this process, which compares each
result (``calls.same``) and emits one test per assertion. A call that ends the program
(crash, ``exit``) leaves no result: that call is an error, and the program runs again from
the next call, so every assertion gets an outcome. Two results for one call (a program
writing to fd 3 itself) are an error.

In-language test blocks (``native``, HumanEval-X's ``test``): see ``drivers/native``. The
verdict needs the ``DONE`` line with this job's nonce, written after the block returned.
"""

from __future__ import annotations

import re
import resource
import secrets
import signal as signals
import sys
from typing import Any

from codesynth.harness.calls import ERROR, Call, Untranslatable, parse, result_line, same, shown
from codesynth.harness.compiled import build_program
from codesynth.harness.drivers import Form, Unrenderable, driver_form
from codesynth.harness.evidence import Evidence
from codesynth.harness.stdio import _CASE_FIELDS

_RESULT_FIELDS = {**_CASE_FIELDS, "results": (str,), "results_bytes": (int,), "stdout": (str,)}


def _form(form: Form) -> dict[str, Any]:
    data: dict[str, Any] = {"files": form.files}
    for key in ("compile", "run"):
        if getattr(form, key) is not None:
            data[key] = getattr(form, key)
    if form.env:
        data["env"] = form.env
    return data


def call_limit() -> float | None:
    """Seconds one call of the equality form may run: a quarter of the job's CPU limit (the
    CPU rlimit the sandbox gave this process), at least 1 s; None without a limit. A call
    that loops is then that call's ``timeout`` and the calls after it still run, while the
    job's own limits still bound the whole run."""
    soft = resource.getrlimit(resource.RLIMIT_CPU)[0]
    return None if soft == resource.RLIM_INFINITY else max(1.0, soft / 4)


def _run(session: Any, data: str, limit: float | None = None) -> dict[str, Any] | None:
    """One run of the built program with fd 3 captured; None when the judged process is
    gone or answered wrongly (``session.broken`` says so)."""
    from codesynth.harness.remote import ProgramGone, ProtocolBroken

    request: dict[str, Any] = {"op": "run", "i": data, "results": True}
    if limit is not None:
        request["call_limit"] = limit
    try:
        report = session.request(request)[0]
    except ProgramGone:
        raise
    except ProtocolBroken:
        return None
    except BaseException:  # noqa: BLE001
        report = None
    if type(report) is not dict or any(
            type(report.get(name)) not in kinds for name, kinds in _RESULT_FIELDS.items()):
        session.broken = session.broken or "a malformed run report"
        return None
    return report


def _ending(report: dict[str, Any], limit: float | None = None) -> str:
    if report.get("call_timeout") is True:
        return f"stopped at the per-call time limit of {limit:g} s"
    if report["signal"] is not None:
        try:
            return f"killed by {signals.Signals(report['signal']).name}"
        except ValueError:
            return f"killed by signal {report['signal']}"
    return f"exit status {report['exit']}"


def run_compiled_assert(job: dict[str, Any], evidence: Evidence, session: Any) -> None:
    from codesynth.harness.remote import ProgramGone

    try:
        plan = parse(job["tests"], job.get("entry_point"), job["test_style"] == "humaneval")
        form = driver_form(job["language"], job["code"], plan)
    except (Untranslatable, Unrenderable, SyntaxError, ValueError, RecursionError) as exc:
        evidence.final("error", phase="tests", reason=f"the tests cannot run as {job['language']}"
                       f" calls: {exc}"[:2000])
        return
    report = build_program(job, evidence, session, _form(form), form.source)
    if report is None:
        return
    evidence.phase("tests")
    calls = plan.calls
    results: dict[int, list[Any]] = {}
    endings: dict[int, str] = {}
    memory = False
    start = 0
    limit = call_limit()
    try:
        while start < len(calls):
            run = _run(session, f"{start}\n", limit)
            if run is None:
                break
            for line in run["results"].splitlines():
                found = result_line(line, len(calls))  # never raises, whatever the line
                if found is not None:
                    results.setdefault(found[0], []).append(found[1])
            missing = next((i for i in range(start, len(calls)) if i not in results), None)
            if missing is None:
                break
            endings[missing] = _ending(run, limit)
            memory = memory or (run["signal"] == signals.SIGKILL and not run.get("call_timeout"))
            start = missing + 1
    except ProgramGone:
        return
    if session.broken is not None:
        evidence.final("failed", phase="tests", reason=session.broken)
        return
    _verdict(evidence, calls, results, endings, memory)


def _verdict(evidence: Evidence, calls: list[Call], results: dict[int, list[Any]],
             endings: dict[int, str], killed: bool) -> None:
    first: dict[str, Any] | None = None
    crashed = timeout = memory = False
    for index, call in enumerate(calls):
        name = f"tests.py:{call.line}"
        got = results.get(index)
        if got is None:
            ending = endings.get(index, "the program ended")
            outcome, message = "error", f"no result: the program ended during this call " \
                                        f"({ending})"
            crashed = crashed or ("killed by" in ending and "SIGKILL" not in ending
                                  and "SIGXCPU" not in ending and "SIGABRT" not in ending)
            timeout = timeout or "SIGXCPU" in ending or "per-call time limit" in ending
        elif len(got) > 1:
            outcome, message = "error", f"{len(got)} results for one call: the program " \
                                        "wrote to the results channel itself"
        elif isinstance(got[0], dict) and ERROR in got[0]:
            outcome, message = "error", f"raised: {str(got[0][ERROR])[:500]}"
            memory = memory or got[0].get("kind") == "memory"
        elif same(call.expected, got[0], call.tolerance):
            outcome, message = "passed", None
        else:
            outcome, message = "failed", f"expected {shown(call.expected)}, got {shown(got[0])}"
        evidence.test(name=name, outcome=outcome, line=call.line, source=call.source,
                      message=message)
        if outcome != "passed" and first is None:
            first = {"type": "WrongAnswer" if outcome == "failed" else "RuntimeError",
                     "message": f"{name}: {message}", "traceback": "", "line": call.line}
    if first is None:
        evidence.final("passed", phase="tests", reason=f"{len(calls)} call(s) passed")
        return
    status = "memory" if memory else "timeout" if timeout else "crashed" if crashed and not \
        killed else "failed"
    evidence.final(status, phase="tests", reason=first["message"][:2000], exception=first)


def run_native(job: dict[str, Any], evidence: Evidence, session: Any) -> None:
    """An in-language test block, in the program's process (see ``drivers/native``)."""
    from codesynth.harness.drivers.frameworks import framework_form
    from codesynth.harness.drivers.native import native_form
    from codesynth.harness.remote import ProgramGone

    try:
        found = framework_form(job["language"], job["code"], job["tests"])
        form = found[1] if found else native_form(job["language"], job["code"], job["tests"])
    except Unrenderable as exc:
        evidence.final("error", phase="tests", reason=str(exc))
        return
    report = build_program(job, evidence, session, _form(form), form.source)
    if report is None:
        return
    evidence.phase("tests")
    nonce = secrets.token_hex(16)
    try:
        run = _run(session, nonce + "\n")
    except ProgramGone:
        return
    if run is None:
        evidence.final("failed", phase="tests", reason=session.broken or "no run report")
        return
    if run.get("stdout"):  # what the program printed, in the record's stdout (never evidence)
        sys.stdout.write(run["stdout"])
        sys.stdout.flush()
    if found:
        from codesynth.harness.drivers.frameworks import framework_verdict

        framework_verdict(evidence, run, nonce, found[0])
        return
    lines = [line.split("\t") for line in run["results"].splitlines()]
    done = [parts for parts in lines if parts[0] == "DONE"]
    if job["language"] == "go":  # the outcomes and durations are the wrapper's record (fd 3);
        # a failure's message comes from go test -test.v's printed report (detail: forgeable)
        printed = {parts[1].split("/", 1)[-1]: parts for parts in _go_tests(run["stdout"])}
        for parts in lines:
            shown = printed.get(parts[1]) if parts[0] == "TEST" and len(parts) >= 4 else None
            if shown is not None and parts[2] != "ok" and parts[3] in ("", "did not run"):
                parts[3] = shown[3] or parts[3]
    for parts in lines:
        if parts[0] == "TEST" and len(parts) >= 3:
            outcome = {"ok": "passed", "skip": "skipped"}.get(parts[2], "failed")
            evidence.test(name=parts[1][:200], outcome=outcome,
                          message=(parts[3][:2000] if len(parts) > 3 and parts[3] else None),
                          duration=_seconds(parts[4]) if len(parts) > 4 else None)
    finished = [d for d in done if len(d) == 3 and d[1] == nonce]
    if len(finished) == 1 and finished[0][2] == "0" and len(done) == 1 and \
            run["exit"] == 0 and run["signal"] is None:
        evidence.final("passed", phase="tests",
                       reason="the test block ran to its end in the program's process")
        return
    if finished and finished[0][2] != "0":
        reason = f"{finished[0][2]} test(s) failed"
    elif done and not finished:
        reason = "a completion line with a wrong nonce: forged by the program"
    elif len(done) > 1:
        reason = "more than one completion line: forged by the program"
    else:
        reason = f"the test block did not complete ({_ending(run)})"
    unfinished(evidence, run, reason)


def unfinished(evidence: Evidence, run: dict[str, Any], reason: str) -> None:
    """The final verdict of an in-process test run that did not pass: ``timeout`` at the CPU
    rlimit, ``crashed`` by another signal (an abort or the runner's kill is ``failed``)."""
    status = "failed"
    if run["signal"] == signals.SIGXCPU:
        status = "timeout"
    elif run["signal"] not in (None, signals.SIGABRT, signals.SIGKILL):
        status = "crashed"
    evidence.final(status, phase="tests", reason=reason[:2000], exception={
        "type": "TestFailure", "message": reason[:2000],
        "traceback": (run["stdout"][-600:] or "").strip(), "line": None, "detail": ""})


def _seconds(text: str) -> float | None:
    return float(text) if re.fullmatch(r"\d{1,9}(?:\.\d{1,9})?", text) else None


def _go_tests(stdout: str) -> list[list[str]]:
    """Per-test lines from ``go test -test.v``'s printed report: each ``--- PASS|FAIL: name
    (secs)``, a failure's message being what the test logged after its ``=== RUN``. Printed
    text: these outcomes are the trace's detail; the verdict is the ``DONE`` line."""
    found = []
    for match in re.finditer(r"^\s*--- (PASS|FAIL): (\S+) \((\d+(?:\.\d+)?)s\)", stdout, re.M):
        outcome, name, seconds = match.groups()
        message = ""
        if outcome == "FAIL":
            start = stdout.rfind(f"=== RUN   {name}\n", 0, match.start())
            if start >= 0:
                body = stdout[start + len(f"=== RUN   {name}\n"):match.start()]
                body = re.split(r"^\s*(?:=== |--- )", body, maxsplit=1, flags=re.M)[0]
                message = " ".join(body.split())[:2000]
        found.append(["TEST", name, "ok" if outcome == "PASS" else "fail", message, seconds])
    return found
