"""Small pieces of the runner's start-up: joining cgroups, its own size, the jobs' hardening."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from codesynth.records import WALL_BACKSTOP
from codesynth.sandbox import _linux as L
from codesynth.sandbox._cgroup import JobCgroup
from codesynth.sandbox._seccomp import DESCRIPTION, Filter, load


class Joining:
    """Joining the worker's cgroups in a thread: the kernel's wait (an RCU grace period on
    cgroup v1) overlaps the building of the filesystem view. Over before the first fork."""

    def __init__(self, cgroup: JobCgroup) -> None:
        self.error: OSError | None = None
        self._thread = threading.Thread(target=self._join, args=(cgroup,), name="join")
        self._thread.start()

    def _join(self, cgroup: JobCgroup) -> None:
        try:
            cgroup.join()
        except OSError as exc:
            self.error = exc

    def wait(self) -> None:
        self._thread.join()
        if self.error is not None:
            raise self.error


def harden() -> tuple[Filter, bool, str]:
    """The jobs' seccomp filter (OSError where libseccomp is missing: no isolation without
    it), whether each job can join a new session keyring, and how to describe both.

    The runner first leaves the caller's session keyring for a new anonymous one, which jobs
    inherit; each job then joins a new one of its own. Where keyctl is refused (a container
    under the engine's own seccomp profile, which denies it), the engine's keyring stands,
    and no job can use keyctl either."""
    seccomp = load()
    try:
        L.join_session_keyring()
    except OSError:
        return seccomp, False, f"{DESCRIPTION} + keyring(keyctl denied)"
    return seccomp, True, f"{DESCRIPTION} + keyring(new session keyring per job)"


def rss_mb(pid: int | str = "self") -> float:
    """A process's resident memory (by default the runner's: the container's share the
    job's budget does not pay)."""
    with open(f"/proc/{pid}/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / (1 << 20)


def mkdtemp(prefix: str) -> str:
    import tempfile

    return tempfile.mkdtemp(prefix=prefix)


REPLY_BYTES = 4 << 20  # the most a job's tests may take in a reply (escaped JSON)
_ESCAPED = 12  # bytes one character may take in ASCII JSON (a surrogate pair: two \uXXXX)
_TEST_TEXTS = ("name", "message", "source")
CUT = " [cut by the runner: reply size]"


def cap_reply(reply: dict[str, Any]) -> dict[str, Any]:
    """The reply, with its tests' texts cut when they could make it larger than REPLY_BYTES
    (each cut text ends with ``CUT``): a reply is read by the host, per worker, in order; a
    job must not be able to make it tens of megabytes."""
    tests = reply.get("tests") or []
    chars = sum(len(t.get(k) or "") for t in tests for k in _TEST_TEXTS)
    if _ESCAPED * chars + 200 * len(tests) <= REPLY_BYTES:
        return reply
    each = max(8, (REPLY_BYTES // _ESCAPED - 20 * len(tests)) // (len(_TEST_TEXTS) * len(tests)))
    for test in tests:
        for name in _TEST_TEXTS:
            text = test.get(name)
            if isinstance(text, str) and len(text) > each:
                test[name] = text[:each] + CUT
    return reply


def serve(run: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]],
          hello: dict[str, Any], inp: Any, out: Any) -> None:
    """Answer ``hello``, then one JSON reply per JSON request line until end of input."""
    out.write(json.dumps(hello).encode() + b"\n")
    out.flush()
    for line in inp:
        request = json.loads(line)
        try:
            reply = run(request["job"], request["limits"])
        except Exception as exc:  # noqa: BLE001 - infrastructure fault, reported as data
            # Whatever state this left the runner in, the next job gets a new one.
            reply = {"status": "sandbox_error", "reason": f"runner: {exc!r}"[:2000],
                     "runner_tainted": "failed before forking a job"}
        out.write(json.dumps(reply).encode() + b"\n")
        out.flush()


def cpu_limit(limits: dict[str, Any]) -> float:
    return float(limits.get("cpu_time") or limits["timeout"]) + float(limits.get("startup_cpu", 0))


def backstop(limits: dict[str, Any]) -> float:
    return float(limits.get("wall_time") or WALL_BACKSTOP * float(limits["timeout"])) \
        + WALL_BACKSTOP * float(limits.get("startup_cpu", 0))


def startup_cpu(job: dict[str, Any]) -> float:
    """CPU seconds the job's runtime spends starting before each case's first line (a JVM,
    node), added to its budget per case: a program's verdict must not depend on how many cases
    its problem has. Python's cases are forks of a warm process (nothing added)."""
    name = job.get("language", "python")
    if name == "python" or job.get("test_style") != "stdio":
        return 0.0
    from codesynth.languages import BUILTIN
    from codesynth.registry import languages

    try:
        language = BUILTIN.get(name) or languages.get(name)
    except Exception:  # noqa: BLE001 - an unknown language fails in the job, with its reason
        return 0.0
    return float(getattr(language, "case_cpu", 0.0)) * len(job.get("tests") or ())


RUNNER_NAME = b"codesynth-run"  # the runners' name in ps and /proc/<pid>/comm (<= 15 bytes)


def hide_command_line() -> None:
    """Blank our arguments in memory (``/proc/<pid>/cmdline`` reads them there, and CPython's
    ``sys.orig_argv``): every job's first process is a copy of us, and a job must not read
    the runner's configuration. The runner keeps a name of its own (``RUNNER_NAME``)."""
    sys.orig_argv = sys.orig_argv[:1]
    sys.argv = sys.argv[:1]
    with contextlib.suppress(OSError, ValueError, IndexError):
        with open("/proc/self/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        start, end = int(fields[45]), int(fields[46])  # arg_start, arg_end (fields 48, 49)
        with open("/proc/self/mem", "r+b", buffering=0) as mem:
            mem.seek(start)
            first = mem.read(end - start).find(b"\0") + 1  # keep argv[0]
            if first > 0:
                mem.seek(start + first)
                mem.write(bytes(end - start - first))
    with contextlib.suppress(OSError), open("/proc/self/comm", "wb") as handle:
        handle.write(RUNNER_NAME)  # how ps and the tests still tell a runner from its host
