"""The ``stdio`` test style: cases of ``{"input", "output"}`` fed on stdin.

The expected outputs never enter the job: the runner strips them before the fork and compares
them itself, outside the boundary, with what this harness reports. Per case, the program
runs as ``__main__`` in its own child process, with the input on a pipe and stdout on a memfd.
The program gets no handle on the evidence channel. It cannot ptrace the harness (not
dumpable); killing it only loses the verdict. Whatever a case leaves running is killed before
the next case starts.
"""

from __future__ import annotations

import builtins
import io
import os
import select
import sys
import time
import traceback
from typing import Any

from codesynth.harness._trace import exception_info, register_source
from codesynth.harness.evidence import Evidence

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


def _child(code: Any, stdin_fd: int, stdout_fd: int, evidence_fd: int) -> None:
    """Runs in the forked program process; never returns."""
    exit_ = os._exit
    status = 1
    try:
        os.setpgid(0, 0)  # its own group: without a PID namespace that is what gets killed
        os.dup2(stdin_fd, 0)
        os.dup2(stdout_fd, 1)
        os.close(evidence_fd)
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
        if isolated:  # alone in the runner's PID namespace: -1 is the job's processes only
            os.kill(-1, 9)
        else:  # --unsafe-no-isolation: never kill(-1) outside a namespace
            os.killpg(pid, 9)
    except OSError:
        pass
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            break
    return status


def run_stdio(job: dict[str, Any], evidence: Evidence) -> None:
    cases = job["tests"]
    register_source(PROGRAM_FILE, job["code"])
    evidence.phase("code")
    try:
        code = compile(job["code"], PROGRAM_FILE, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        evidence.final("error", phase="code", exception=exception_info(exc, PROGRAM_FILE),
                       reason="the program does not parse")
        return
    evidence.phase("tests")
    evidence_fd = job["_evidence_fd"]
    for index, case in enumerate(cases):
        read_fd, write_fd = os.pipe()
        stdout_fd = os.memfd_create("stdout", os.MFD_CLOEXEC)
        start = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            os.close(write_fd)
            _child(code, read_fd, stdout_fd, evidence_fd)
        os.close(read_fd)
        _feed(pid, write_fd, str(case.get("input", "")).encode())
        status = _reap_everything(pid, bool(job.get("_isolated")))
        duration = time.perf_counter() - start
        size = os.fstat(stdout_fd).st_size
        output = os.pread(stdout_fd, size, 0).decode("utf-8", "replace")
        os.close(stdout_fd)
        evidence.emit("case", index=index, duration=duration,
                      exit=os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
                      signal=os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
                      digest=digest(output), preview=output[:PREVIEW_CHARS],
                      output_bytes=size)
    evidence.final("completed", phase="tests", reason=f"{len(cases)} case(s) ran")
