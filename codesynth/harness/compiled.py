"""``stdio`` for languages other than Python: build once, run once per case.

The judge asks the judged process to build the program (``build``): the judged process
writes the source into the job's working directory and runs the language's compile command
as a child, under the job's limits, before any of the program's code has run. A build that
fails is ``error`` with the compiler's first message and line. Then, for each case, the judge
sends the case's input (``run``): the judged process runs the built command in a child with
the input on a pipe and stdout on a memfd, and reports a digest and a preview of what it
printed, exactly as for Python (``stdio.run_case``). The expected outputs never enter the job:
the runner compares (``sandbox/_verdict``).
"""

from __future__ import annotations

import os
import re
import resource
import signal
import subprocess
import time
from typing import Any

from codesynth.harness.call_limits import first_call, watch_calls
from codesynth.harness.cpp_headers import with_pch
from codesynth.harness.evidence import Evidence
from codesynth.harness.stdio import (
    PREVIEW_CHARS,
    _feed,
    _reap_everything,
    digest,
    run_cases,
)
from codesynth.languages import BUILTIN, Language
from codesynth.records import STANDARDS

_DIAGNOSTICS = 64 << 10  # bytes of the compiler's output kept
RESULTS_BYTES = 8 << 20  # of a driver's results (and of stdout) sent back to the judge
_BUILD_FIELDS = {"ok": (bool,), "message": (str,), "line": (int, type(None)),
                 "output": (str,), "seconds": (int, float), "signal": (int, type(None)),
                 "starved": (str, type(None))}


def _language(name: Any) -> Language:
    if type(name) is not str:
        raise ValueError("bad language")
    found = BUILTIN.get(name)
    if found is None:
        from codesynth.registry import languages

        found = languages.get(name)
    return found  # type: ignore[no-any-return]


# How g++ reports that a compiler it ran (cc1plus, as, ld) was killed: a whole line of the
# driver's own, which no diagnostic about the program's source can be (those start with the
# file's name and a line number, or with indentation).
_DRIVER_KILLED = re.compile(r"^(?:g\+\+|gcc|c\+\+|cc|collect2)(?:-\d+)?: (?:fatal|internal "
                            r"compiler) error: (CPU time limit exceeded|Killed) signal "
                            r"terminated program \S+$", re.MULTILINE)


def _child_signal(output: str, child_cpu: float) -> int | None:
    """The signal that killed a compiler's own child, where its driver says so AND the facts
    agree: SIGXCPU only when the build's processes really used the CPU rlimit (the output is
    the program's to shape: ``#error "CPU time limit exceeded..."`` must stay a compile
    error)."""
    found = _DRIVER_KILLED.search(output)
    if found is None:
        return None
    if found.group(1) == "Killed":
        return int(signal.SIGKILL)
    soft = resource.getrlimit(resource.RLIMIT_CPU)[0]
    if soft != resource.RLIM_INFINITY and child_cpu >= soft - 0.5:
        return int(signal.SIGXCPU)
    return None


_STARVED = {"processes": ("failed to create new OS thread", "Resource temporarily unavailable",
                          "unable to create native thread", "cannot fork"),
            "memory": ("Cannot allocate memory", "out of memory", "insufficient memory",
                       "memory exhausted")}


def _starved(output: str) -> str | None:
    """Which resource the compiler said it ran out of (threads, memory), if it did. Only
    asked when the output names no error in the program's source (see ``build``)."""
    for resource_name, phrases in _STARVED.items():
        if any(phrase in output for phrase in phrases):
            return resource_name
    return None


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _valid_form(form: Any) -> bool:
    if type(form) is not dict or set(form) - {"files", "compile", "run", "env", "classes"}:
        return False
    if "classes" in form:  # a warm build's class files (harness/java_warm)
        from codesynth.harness.java_warm import valid_classes

        if not valid_classes(form["classes"]):
            return False
    files, env = form.get("files", {}), form.get("env", {})
    if type(files) is not dict or type(env) is not dict or any(
            type(k) is not str or type(v) is not str or not k or "/" in k or k.startswith(".")
            for k, v in files.items()) or any(
            type(k) is not str or type(v) is not str for k, v in env.items()):
        return False
    return all(form.get(key) is None or (type(form[key]) is list and form[key] and all(
        type(part) is str for part in form[key])) for key in ("compile", "run"))


class Built:
    """In the judged process: the program built for this job (one per job)."""

    def __init__(self) -> None:
        self.argv: list[str] | None = None
        self.env: dict[str, str] = {}
        self.startup = 0.0  # CPU seconds the runtime takes to start (the first call's allowance)

    def build(self, language_name: Any, code: Any, form: Any = None) -> dict[str, Any]:
        """Write the program (and, for a test form, the judge's driver files) and compile.
        ``form`` (from the judge, see ``harness/drivers``): ``files``, ``compile``, ``run``
        and ``env`` replacing or adding to the language's own."""
        form = form if form is not None else {}
        if self.argv is not None or type(code) is not str or not _valid_form(form):
            return {"bad": "bad build"}
        language = _language(language_name)
        self.startup = float(language.case_cpu)
        workdir = os.getcwd()
        files = {**language.support_files, **form.get("files", {})}
        if code or not form.get("files"):
            files[language.source_name(code)] = code
        for name, text in files.items():
            with open(os.path.join(workdir, name), "w", encoding="utf-8") as handle:
                handle.write(text)
        self.env = {**os.environ, **language.env, **form.get("env", {})}
        for key in ("GOCACHE", "GOPATH"):
            if key in language.env:
                os.makedirs(language.env[key], exist_ok=True)
        start = time.perf_counter()
        report: dict[str, Any] = {"ok": True, "message": "", "line": None, "output": "",
                                  "signal": None, "starved": None}
        compile_argv = tuple(form.get("compile") or language.compile or ())
        if "classes" in form:  # built by the worker's warm javac: nothing to compile
            from codesynth.harness.java_warm import write_classes

            write_classes(form["classes"], workdir)
        elif compile_argv:
            cpu_before = _children_cpu()
            # a g++ command gets its leading standard headers precompiled (any other: as is)
            argv = with_pch(language.command(compile_argv, code), code)
            try:
                done = subprocess.run(argv,
                                      stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, env=self.env, cwd=workdir,
                                      check=False)
                output = done.stdout[-_DIAGNOSTICS:].decode("utf-8", "replace")
                failed = done.returncode != 0
                report["signal"] = -done.returncode if done.returncode < 0 else \
                    _child_signal(output, _children_cpu() - cpu_before)
            except OSError as exc:
                output, failed = f"the compiler could not start: {exc}", True
            if failed:
                message, line = language.first_error(output)
                report.update(ok=False, message=message, line=line, output=output)
                if report["signal"] is None and not language.located_error(output):
                    report["starved"] = _starved(output)
        report["seconds"] = time.perf_counter() - start
        if report["ok"]:
            self.argv = language.command(tuple(form.get("run") or language.run), code)
        return {"v": {"#": "dict", "v": [[key, value] for key, value in report.items()]}}

    def run(self, data: Any, results: Any = False, call_limit: Any = None) -> dict[str, Any]:
        """Run the built program once on ``data``; describe what it printed. With
        ``results``: fd 3 is a second memfd (a driver's results, see ``harness/drivers``),
        returned whole up to ``RESULTS_BYTES``, and stdout is returned up to the same. With
        ``call_limit`` (seconds, with ``results``): each call is stopped at that limit (see
        ``harness/call_limits``); the report says ``call_timeout``."""
        if self.argv is None or type(data) is not str or type(results) is not bool or (
                call_limit is not None and (type(call_limit) not in (int, float)
                                            or not results or not 0 < call_limit < 1e6)):
            return {"bad": "bad case"}
        argv, env = self.argv, self.env
        read_fd, write_fd = os.pipe()
        stdout_fd = os.memfd_create("stdout", os.MFD_CLOEXEC)
        results_fd = os.memfd_create("results", os.MFD_CLOEXEC) if results else -1
        start = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(write_fd)
                os.setpgid(0, 0)
                os.dup2(read_fd, 0)
                os.dup2(stdout_fd, 1)
                if results_fd >= 0:
                    os.dup2(results_fd, 3)  # without O_CLOEXEC: the program inherits it
                os.closerange(4 if results_fd >= 0 else 3, 1 << 20)
                os.execvpe(argv[0], argv, env)
            finally:
                os._exit(127)
        os.close(read_fd)
        _feed(pid, write_fd, data.encode("utf-8", "surrogateescape"))
        stopped = False
        if call_limit:
            stopped = watch_calls(pid, results_fd, float(call_limit), self.startup,
                                  first_call(data))
        status = _reap_everything(pid, True)
        duration = time.perf_counter() - start
        size = os.fstat(stdout_fd).st_size
        output = os.pread(stdout_fd, min(size, 64 << 20), 0).decode("utf-8", "replace")
        os.close(stdout_fd)
        report: dict[str, Any] = {"call_timeout": stopped} if call_limit else {}
        report |= {
            "duration": duration, "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            "digest": digest(output), "preview": output[:PREVIEW_CHARS], "output_bytes": size}
        if results_fd >= 0:
            written = os.fstat(results_fd).st_size
            report["results"] = os.pread(results_fd, min(written, RESULTS_BYTES), 0).decode(
                "utf-8", "replace")
            report["results_bytes"] = written
            report["stdout"] = output[:RESULTS_BYTES]
            os.close(results_fd)
        return {"v": {"#": "dict", "v": [[key, value] for key, value in report.items()]}}


def run_compiled_stdio(job: dict[str, Any], evidence: Evidence, session: Any) -> None:
    """In the judge: build once, then one ``run`` per case (see the module)."""
    cases = job["tests"]
    report = build_program(job, evidence, session)
    if report is None:
        return
    if not run_cases(cases, evidence, session,
                     lambda case: {"op": "run", "i": str(case.get("input", ""))}):
        return
    evidence.final("completed", phase="tests",
                   reason=f"{len(cases)} case(s) ran on one build "
                          f"({report['seconds']:.2f} s to build)")


def with_standard(form: dict[str, Any], language: Any, standard: str) -> dict[str, Any]:
    """``form`` with its compile command's (or the language's) ``-std=`` set to
    ``standard``, when ``records.STANDARDS`` allows it for the language (the job was checked
    when made; the judge asks again rather than pass anything on to the compiler)."""
    argv = list(form.get("compile") or language.compile or ())
    if not argv or standard not in STANDARDS.get(language.name, ()):
        return form
    if language.name == "rust":  # ``--edition YEAR``
        if "--edition" in argv and argv.index("--edition") + 1 < len(argv):
            argv[argv.index("--edition") + 1] = standard
        else:
            argv[1:1] = ["--edition", standard]
        return {**form, "compile": argv}
    argv = [f"-std={standard}" if part.startswith("-std=") else part for part in argv]
    if f"-std={standard}" not in argv:
        argv.insert(1, f"-std={standard}")
    return {**form, "compile": argv}


def build_program(job: dict[str, Any], evidence: Evidence, session: Any,
                  form: dict[str, Any] | None = None, code: str | None = None
                  ) -> dict[str, Any] | None:
    """In the judge: have the judged process build the program (``code``: the job's, or the
    text a test form made of it); its report, or None after a ``final`` saying why not."""
    from codesynth.harness.remote import ProgramGone, ProtocolBroken

    evidence.phase("code")
    request: dict[str, Any] = {"op": "build", "language": job["language"],
                               "code": job["code"] if code is None else code}
    if type(job.get("standard")) is str:
        form = with_standard(form or {}, _language(job["language"]), job["standard"])
    if form is not None:
        request["form"] = form
    from codesynth.harness.java_warm import prepare

    warm = prepare(job, request, evidence)
    if warm is not None and warm.get("final"):
        return None
    try:
        report = warm or session.request(request)[0]
    except ProgramGone:
        return None
    except ProtocolBroken:
        report = None
    except BaseException as exc:  # noqa: BLE001 - the judged process failed to build
        evidence.final("error", phase="code", reason=f"the build failed: {exc!r}"[:2000])
        return None
    if type(report) is not dict or any(
            type(report.get(name)) not in kinds for name, kinds in _BUILD_FIELDS.items()):
        evidence.final("failed", phase="code", reason=session.broken or "a malformed build")
        return None
    if not report["ok"] and report["signal"] is not None:
        # A compiler killed by a limit: not the program's compile error. SIGXCPU is its CPU
        # rlimit; SIGKILL after an OOM kill becomes `memory` in the runner (_verdict).
        status = "timeout" if report["signal"] == signal.SIGXCPU else "error"
        evidence.final(status, phase="code", reason=f"the build was killed by signal "
                       f"{report['signal']} after {report['seconds']:.2f} s")
        return None
    starved = report["starved"] if not report["ok"] and report["starved"] in _STARVED else None
    if starved is not None:  # the limits stopped the compiler: not the program's error
        evidence.final("error", phase="code", reason=f"the build ran out of {starved} under "
                       "the job's limits (raise them): "
                       f"{report['message']}"[:2000])
        return None
    if not report["ok"]:
        where = f" at line {report['line']}" if report["line"] is not None else ""
        evidence.final("error", phase="code", reason=f"compile error{where}: "
                       f"{report['message']}"[:2000],
                       exception={"type": "CompileError", "message": report["message"],
                                  "line": report["line"], "traceback": report["output"],
                                  "detail": ""})
        return None
    return report
