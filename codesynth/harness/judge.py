"""The judge process of one job: it runs the tests and writes the evidence.

Made by the zygote before any job was read, it receives this job (and only this job) from
the runner after its fork: the tests, the program's text, the evidence key. The program runs
in the judged process, which this process created before it read anything, under another
uid; the two talk only through the connection of ``remote``.
"""

from __future__ import annotations

import json
import os
import socket
import time
from typing import Any

from codesynth.harness.evidence import Evidence
from codesynth.harness.remote import ProgramGone, Session
from codesynth.harness.rpc import Channel
from codesynth.harness.wire import Gone, Malformed

EVIDENCE_FD, SOCKET_FD, CONTENT_FD = 3, 4, 5
_GRACE = 1.0  # seconds to wait for a judged process that closed its connection to exit


def read_content(fd: int) -> dict[str, Any]:
    """This job, as the runner wrote it: JSON, a newline, then the tests it compiled and the
    calls they will make (marshal, or nothing). Both come from the runner only: the program
    never reaches this memfd."""
    size = os.fstat(fd).st_size
    data = os.pread(fd, size, 0)
    os.close(fd)
    text, _, compiled = data.partition(b"\n")
    content = json.loads(text)
    if not isinstance(content, dict):
        raise ValueError("the job content is not an object")
    if compiled:
        import marshal

        from codesynth.harness.inprocess import COMPILED, PLANS

        job = content["job"]
        key = (job["test_style"], job["tests"])
        COMPILED[key], PLANS[key] = marshal.loads(compiled)
    return content


def judged_status(pid: int) -> tuple[int | None, int | None, float]:
    """(exit status, signal, CPU seconds) of the judged process once it is gone; killed
    after a grace period if it only closed its connection."""
    deadline = time.monotonic() + _GRACE
    while True:
        try:
            done, status, usage = os.wait4(pid, os.WNOHANG)
        except ChildProcessError:
            return None, None, 0.0
        if done:
            cpu = usage.ru_utime + usage.ru_stime
            if os.WIFEXITED(status):
                return os.WEXITSTATUS(status), None, cpu
            return None, os.WTERMSIG(status) if os.WIFSIGNALED(status) else None, cpu
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            deadline = float("inf")
        time.sleep(0.001)


def main(judged_pid: int) -> None:
    """Run the job's tests; the caller exits afterwards (ending the job's PID namespace)."""
    from codesynth.harness import STYLES

    content = read_content(CONTENT_FD)
    job = content["job"]
    evidence = Evidence(EVIDENCE_FD, bytes.fromhex(content["key"]))
    deadline = time.monotonic() + float(content["timeout"]) + 1.0
    channel = Channel(socket.socket(fileno=SOCKET_FD), deadline)
    session = Session(channel, strict=bool(content.get("strict")))

    def greeting() -> None:  # the judged process is up (see Session.greeting)
        try:
            hello = channel.receive()
            if hello.get("ready") is not True:
                raise Malformed("no hello")
        except (Gone, Malformed) as exc:
            code, signal, _ = judged_status(judged_pid)
            os.write(2, f"codesynth: the judged process did not start ({exc}; exit {code}, "
                        f"signal {signal})\n".encode())
            os._exit(70)

    session.greeting = greeting
    try:
        STYLES[job["test_style"]](job, evidence, session)
    except ProgramGone:
        pass
    if session.gone is not None:
        code, signal, cpu = judged_status(judged_pid)
        evidence.emit("judged", exit=code, signal=signal, cpu=cpu, reason=session.gone[:500])
