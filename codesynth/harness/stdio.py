"""The ``stdio`` test style: cases of ``{"input", "output"}`` fed on stdin.

The program runs as ``__main__`` in a child process per case; the harness compares what it
printed. The program never shares a process with the harness here, and it gets no handle on
the evidence channel, so nothing it does can touch the verdict.
"""

from __future__ import annotations

import builtins
import io
import os
import sys
import time
import traceback
from typing import Any

from codesynth.harness._trace import exception_info, register_source, safe_repr
from codesynth.harness.evidence import Evidence

PROGRAM_FILE = "solution.py"
_PREVIEW = 200


def normalize(text: str) -> list[str]:
    """Lines with trailing whitespace removed, trailing blank lines dropped."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _memfd(name: str, content: bytes = b"") -> int:
    fd = os.memfd_create(name, 0)
    if content:
        os.write(fd, content)
        os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _child(code: Any, stdin_fd: int, stdout_fd: int, keep: set[int]) -> None:
    """Runs in the forked program process; never returns."""
    status = 1
    try:
        os.dup2(stdin_fd, 0)
        os.dup2(stdout_fd, 1)
        for fd in os.listdir("/proc/self/fd"):
            if int(fd) > 2 and int(fd) not in keep:
                try:
                    os.close(int(fd))
                except OSError:
                    pass
        sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8",
                                      write_through=False)
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
            pass
    finally:
        os._exit(status & 0xFF)


def run_stdio(job: dict[str, Any], evidence: Evidence) -> None:
    cases = job["tests"]
    register_source(PROGRAM_FILE, job["code"])
    evidence.phase("code")
    try:
        code = compile(job["code"], PROGRAM_FILE, "exec", dont_inherit=True)
    except SyntaxError as exc:
        evidence.final("error", phase="code", exception=exception_info(exc, PROGRAM_FILE),
                       reason="the program does not parse")
        return
    evidence.phase("tests")
    first_failure: dict[str, Any] | None = None
    for index, case in enumerate(cases):
        stdin_fd = _memfd("stdin", str(case.get("input", "")).encode())
        stdout_fd = _memfd("stdout")
        start = time.perf_counter()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _child(code, stdin_fd, stdout_fd, keep={stdin_fd, stdout_fd})
        _, wait_status = os.waitpid(pid, 0)
        duration = time.perf_counter() - start
        size = os.lseek(stdout_fd, 0, os.SEEK_END)
        output = os.pread(stdout_fd, size, 0).decode("utf-8", "replace")
        os.close(stdin_fd)
        os.close(stdout_fd)
        expected = str(case.get("output", ""))
        name = f"case {index}"
        if os.WIFSIGNALED(wait_status):
            signum = os.WTERMSIG(wait_status)
            outcome, message = "error", f"killed by signal {signum}"
        elif os.WEXITSTATUS(wait_status) != 0:
            outcome, message = "error", f"exit status {os.WEXITSTATUS(wait_status)}"
        elif normalize(output) != normalize(expected):
            outcome = "failed"
            message = (f"expected {safe_repr(expected[:_PREVIEW])}, "
                       f"got {safe_repr(output[:_PREVIEW])}")
        else:
            outcome, message = "passed", None
        evidence.test(name=name, outcome=outcome, message=message, duration=duration)
        if outcome != "passed" and first_failure is None:
            first_failure = {"type": "WrongAnswer" if outcome == "failed" else "RuntimeError",
                             "message": f"{name}: {message}", "traceback": "", "line": None}
    if not cases:
        evidence.final("error", phase="tests", reason="no stdio cases")
    elif first_failure is not None:
        evidence.final("failed", phase="tests", exception=first_failure,
                       reason=first_failure["message"])
    else:
        evidence.final("passed", phase="tests", reason=f"{len(cases)} case(s) passed")
