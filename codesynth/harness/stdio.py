"""The ``stdio`` test style: cases of ``{"input", "output"}`` fed on stdin.

The expected outputs never enter the job: the runner keeps them and compares them itself with
what the judge reports. The judge sends each case's input to the judged process, which runs
the program as ``__main__`` in a child process of its own, with the input on a pipe and stdout
on a memfd, and reports a digest and a preview of what it printed. Neither the judged
process nor its children hold the evidence key or any expected output.
"""

from __future__ import annotations

import builtins
import io
import os
import select
import sys
import time
import traceback
from typing import TYPE_CHECKING, Any

from codesynth.harness._trace import exception_info, register_source
from codesynth.harness.evidence import Evidence

if TYPE_CHECKING:
    from collections.abc import Callable

PROGRAM_FILE = "solution.py"
_CHUNK = 1 << 16


def normalize(text: str) -> list[str]:
    """Lines with trailing whitespace removed, trailing blank lines dropped."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def digest(text: str) -> str:
    """What the runner compares: a digest of the normalized output. The evidence channel
    then carries a few hundred bytes per case, whatever the program prints."""
    import hashlib

    return hashlib.blake2b("\n".join(normalize(text)).encode("utf-8", "surrogatepass"),
                           digest_size=32).hexdigest()


PREVIEW_CHARS = 200  # of each case's output, for the failure message


def _child(code: Any, stdin_fd: int, stdout_fd: int, _unused: int) -> None:
    """Runs in the forked program process; never returns."""
    exit_ = os._exit
    status = 1
    try:
        os.setpgid(0, 0)  # its own group: without a PID namespace that is what gets killed
        os.dup2(stdin_fd, 0)
        os.dup2(stdout_fd, 1)
        os.closerange(3, 1 << 20)
        sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8")
        namespace = {"__name__": "__main__", "__builtins__": builtins, "__file__": PROGRAM_FILE}
        try:
            exec(code, namespace)
            status = 0
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:  # noqa: BLE001
            traceback.print_exc()
            status = 1
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:  # noqa: BLE001
            status = status or 1
    finally:
        exit_(status & 0xFF)


def _feed(pid: int, write_fd: int, data: bytes) -> None:
    """Write ``data`` to the child's stdin while it runs; stop when it exits or closes it."""
    pidfd = os.pidfd_open(pid)
    os.set_blocking(write_fd, False)
    view = memoryview(data)
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    poller.register(write_fd, select.POLLOUT)
    try:
        while view:
            ready = dict(poller.poll())
            if pidfd in ready:
                break
            if ready.get(write_fd, 0) & (select.POLLERR | select.POLLHUP):
                break
            try:
                view = view[os.write(write_fd, view[:_CHUNK]):]
            except BlockingIOError:
                continue
            except BrokenPipeError:
                break
    finally:
        os.close(write_fd)
        os.close(pidfd)


def _reap_everything(pid: int, isolated: bool) -> int:
    """Kill what the case left behind and reap it."""
    _, status = os.waitpid(pid, 0)
    try:
        if isolated and os.getppid() == 1:  # the judge is the init of our PID namespace:
            os.kill(-1, 9)  # -1 is the program's processes only
        else:  # --unsafe-no-isolation: never kill(-1) outside a namespace
            os.killpg(pid, 9)
    except OSError:
        pass
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                break
        except ChildProcessError:
            break
    return status


_CASE_FIELDS = {"exit": (int, type(None)), "signal": (int, type(None)), "digest": (str,),
                "preview": (str,), "output_bytes": (int,), "duration": (int, float)}


def run_case(code: Any, data: Any) -> dict[str, Any]:
    """In the judged process: run the program once as ``__main__`` on ``data`` in a child
    process (stdin on a pipe, stdout on a memfd), and describe what it printed."""
    if type(code) is not str or type(data) is not str:
        return {"bad": "bad case"}
    try:
        compiled = compile(code, PROGRAM_FILE, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        from codesynth.harness.rpc import exception_record

        return {"x": exception_record(exc)}
    read_fd, write_fd = os.pipe()
    stdout_fd = os.memfd_create("stdout", os.MFD_CLOEXEC)
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.close(write_fd)
        _child(compiled, read_fd, stdout_fd, -1)
    os.close(read_fd)
    _feed(pid, write_fd, data.encode("utf-8", "surrogateescape"))
    status = _reap_everything(pid, True)
    duration = time.perf_counter() - start
    size = os.fstat(stdout_fd).st_size
    output = os.pread(stdout_fd, min(size, 64 << 20), 0).decode("utf-8", "replace")
    os.close(stdout_fd)
    report = {"duration": duration,
              "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
              "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
              "digest": digest(output), "preview": output[:PREVIEW_CHARS], "output_bytes": size}
    return {"v": {"#": "dict", "v": [[key, value] for key, value in report.items()]}}


def run_stdio(job: dict[str, Any], evidence: Evidence, session: Any) -> None:
    """In the judge: each case's input goes to the judged process, which runs the program on
    it; the expected outputs stay with the runner, which compares (see ``_verdict``)."""
    if job.get("language", "python") != "python":
        from codesynth.harness.compiled import run_compiled_stdio

        run_compiled_stdio(job, evidence, session)
        return
    cases = job["tests"]
    register_source(PROGRAM_FILE, job["code"])
    evidence.phase("code")
    try:
        compile(job["code"], PROGRAM_FILE, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        evidence.final("error", phase="code", exception=exception_info(exc, PROGRAM_FILE),
                       reason="the program does not parse")
        return
    if run_cases(cases, evidence, session,
                 lambda case: {"op": "case", "code": job["code"],
                               "i": str(case.get("input", ""))}):
        evidence.final("completed", phase="tests", reason=f"{len(cases)} case(s) ran")


def run_cases(cases: list[dict[str, Any]], evidence: Evidence, session: Any,
              request: Callable[[dict[str, Any]], dict[str, Any]]) -> bool:
    """In the judge: send each case's ``request`` to the judged process and record what its
    run printed (a ``case`` event each, compared by the runner). False when the run is over
    (the program is gone, or the session broke: then its ``final`` is written here)."""
    from codesynth.harness.remote import ProgramGone, ProtocolBroken

    evidence.phase("tests")
    for index, case in enumerate(cases):
        try:
            report = session.request(request(case))[0]
        except ProgramGone:
            return False
        except ProtocolBroken:
            break
        except BaseException:  # noqa: BLE001 - the judged answered with an exception
            report = None
        if type(report) is not dict or any(
                type(report.get(name)) not in kinds for name, kinds in _CASE_FIELDS.items()):
            session.broken = session.broken or f"case {index}: a malformed report"
            break
        evidence.emit("case", index=index, **{name: report[name] for name in _CASE_FIELDS})
    if session.broken is not None:
        evidence.final("failed", phase="tests", reason=session.broken)
        return False
    return True
