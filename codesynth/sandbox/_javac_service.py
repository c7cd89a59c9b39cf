"""The worker's warm Java compiler: one long-lived JVM, started by the runner, outside jobs.

It runs ``javac_service/CodesynthJavac.java`` (in the JVM's source-launcher mode: nothing is
written anywhere), which compiles with ``javax.tools`` from sources given by value to class
files returned by value, with ``-proc:none`` and an empty class path: no code of a job runs
in it, and it keeps nothing of a request after its reply. One request at a time.

Frames are a 4-byte big-endian length and a payload, both ways. Every request has a deadline
(the job's build budget). Whatever goes wrong is that request's answer, never the next's:
past the deadline the JVM is killed (``Timeout``: the record's ``timeout``); a dead JVM, a
malformed or oversized reply, or a JVM grown past ``MEMORY_MB`` is killed too (``Failed``:
the job then builds with its own ``javac``, under its own limits, as without this service).
The next request starts a new JVM.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import struct
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from codesynth.harness.call_limits import cpu_of
from codesynth.languages import SANDBOX_PATH
from codesynth.sandbox import _linux as L
from codesynth.sandbox._runner_support import rss_mb

SOURCE = os.path.join(os.path.dirname(__file__), "javac_service", "CodesynthJavac.java")
HEAP_MB = 256  # -Xmx: a compile bomb's heap ends in OutOfMemoryError and the JVM exits
MEMORY_MB = 640  # resident memory past which the JVM is restarted after its reply
REPLY_BYTES = 64 << 20  # the largest reply read (class files)
START_SECONDS = 30.0
START_THREADS = 64  # room the JVM needs in the worker's pids cgroup to start
_FLAGS = ("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1",
          "-Xshare:auto", f"-Xmx{HEAP_MB}m", "-XX:+ExitOnOutOfMemoryError",
          "-XX:MaxMetaspaceSize=128m", "-XX:ReservedCodeCacheSize=48m",
          "-XX:-UseDynamicNumberOfCompilerThreads")  # a steady thread count (see threads)


@dataclass(frozen=True)
class Compiled:
    classes: dict[str, bytes]  # binary name -> class file


@dataclass(frozen=True)
class Rejected:
    output: str  # javac's diagnostics, as its command line prints them


@dataclass(frozen=True)
class Timeout:
    seconds: float


@dataclass(frozen=True)
class Failed:
    why: str


Answer = Compiled | Rejected | Timeout | Failed


class _Broken(Exception):
    pass


def _string(data: bytes) -> bytes:
    return struct.pack(">i", len(data)) + data


def encode(options: list[str], sources: dict[str, str]) -> bytes:
    parts = [struct.pack(">i", len(options)), *(_string(o.encode()) for o in options),
             struct.pack(">i", len(sources))]
    for name, text in sources.items():
        parts += [_string(name.encode()), _string(text.encode("utf-8", "surrogatepass"))]
    return b"".join(parts)


def decode(payload: bytes) -> Compiled | Rejected | Failed:
    """A reply's payload; ``_Broken`` when it is not one."""
    at = 0

    def take(size: int) -> bytes:
        nonlocal at
        if size < 0 or at + size > len(payload):
            raise _Broken("a truncated reply")
        at += size
        return payload[at - size:at]

    def number() -> int:
        return int(struct.unpack(">i", take(4))[0])

    kind = number()
    if kind == 0:
        classes = {}
        for _ in range(number()):
            name = take(number()).decode("utf-8", "replace")
            classes[name] = take(number())
        answer: Compiled | Rejected | Failed = Compiled(classes)
    elif kind == 1:
        answer = Rejected(take(number()).decode("utf-8", "replace"))
    elif kind == 2:
        answer = Failed("javac failed: " + take(number()).decode("utf-8", "replace")[:500])
    else:
        raise _Broken(f"an unknown reply kind {kind}")
    if at != len(payload):
        raise _Broken("trailing bytes in a reply")
    return answer


class JavacService:
    """The runner's handle on its warm compiler (started on first use)."""

    def __init__(self, java: str | None = None, confine: Callable[[], Confinement | None]
                 = lambda: None) -> None:
        self.java = java or shutil.which("java", path=SANDBOX_PATH)
        self.confine = confine  # asked at each start: how to confine the JVM, if at all
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.used_cpu = 0.0  # CPU seconds the last request took (the JVM's, all threads)
        self.baseline_mb = 0.0  # the JVM's resident size when it was ready
        self.home: str | None = None  # the JVM's empty working directory and class path

    def available(self) -> bool:
        return self.java is not None and os.path.exists(SOURCE)

    def compile(self, options: list[str], sources: dict[str, str], cpu: float,
                memory_mb: int = 1 << 30, wall: float | None = None) -> Answer:
        """Compile ``sources`` within the job's limits: ``cpu`` seconds of the JVM's CPU
        (``Timeout`` past them), ``wall`` seconds (default ``cpu``; from when the JVM is up:
        its start, bounded by ``START_SECONDS``, is ours, not the job's), and a peak resident
        size of ``memory_mb`` (past it: ``Failed``, so the job's own javac meets the limit
        itself). ``used_cpu`` says what the request took."""
        self.used_cpu = 0.0
        deadline = cpu if wall is None else wall
        try:
            process = self._started()
            before = cpu_of(process.pid) or 0.0
            resident = self.resident_mb()
            _reset_peak(process.pid)
            answer = decode(_exchange(process, encode(options, sources),
                                      time.monotonic() + deadline))
            self.used_cpu = max(0.0, (cpu_of(process.pid) or 0.0) - before)
        except TimeoutError:
            self.used_cpu = max(0.0, (cpu_of(self.process.pid) or 0.0) - before) \
                if self.process is not None else 0.0
            self.stop()
            return Timeout(deadline)
        except (OSError, _Broken, struct.error, ValueError) as exc:
            self.stop()
            return Failed(f"the warm compiler failed: {exc}"[:500])
        # What a fresh javac would have needed: the JVM as it started, plus what this build
        # added to it (never what earlier builds left in its heap).
        needed = self.baseline_mb + max(0.0, _peak_mb(process.pid) - resident)
        if isinstance(answer, Failed) or self.resident_mb() > MEMORY_MB:
            # a javac crash or a grown heap: the next request gets a new JVM (and so a colder
            # one: rare, as a restart after every large build made the next job's build cost
            # more CPU than before it; what a large build leaves in the heap is not counted
            # against the next one, above)
            self.stop()
        if self.used_cpu > cpu:
            return Timeout(self.used_cpu)
        if needed > memory_mb:
            return Failed(f"the warm compiler needed {needed:.0f} MB, past the job's "
                          f"{memory_mb} MB")
        return answer

    def _started(self) -> subprocess.Popen[bytes]:
        if self.process is not None and self.process.poll() is None:
            return self.process
        self.stop()
        if self.java is None:
            raise _Broken("java is not installed")
        # An empty directory of ours as the JVM's working directory and whole class path:
        # javac looks for plugins (``com.sun.source.util.Plugin``, which ``-proc:none`` does
        # not stop) through the JVM's own class path, which is otherwise its working
        # directory.
        confinement = self.confine()
        if self.home is None or not os.path.isdir(self.home):
            self.home = tempfile.mkdtemp(prefix="codesynth-javac-")
        source = SOURCE
        if confinement is not None:  # its own copy of the service, readable by its uid
            source = os.path.join(self.home, os.path.basename(SOURCE))
            shutil.copyfile(SOURCE, source)
            os.chmod(source, 0o444)
            os.chmod(self.home, 0o555)
        self.process = subprocess.Popen(
            [self.java, *_FLAGS, "-cp", self.home, source], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=self.home,
            start_new_session=True, env={"PATH": SANDBOX_PATH, "LANG": "C.UTF-8"},
            preexec_fn=confinement.enter if confinement is not None else None)
        self.starts += 1
        assert self.process.stdout is not None
        try:  # a slow start is ours, not the job's: it builds with its own javac
            ready = _read(self.process.stdout.fileno(), 4, time.monotonic() + START_SECONDS)
        except TimeoutError:
            raise _Broken("the warm compiler did not start in time") from None
        if ready != b"\0\0\0\0":
            raise _Broken("the warm compiler did not start")
        self.baseline_mb = self.resident_mb()
        with contextlib.suppress(OSError, _Broken, TimeoutError, struct.error):
            # one small build first, so a job's build after a (re)start costs about what it
            # costs later (a cold javac's classes and JIT are ours, not the job's)
            _exchange(self.process, encode([], {"W.java": _WARM_UP}),
                      time.monotonic() + START_SECONDS)
        return self.process

    def resident_mb(self) -> float:
        if self.process is None:
            return 0.0
        try:
            return rss_mb(self.process.pid)
        except (OSError, ValueError, IndexError):
            return 0.0

    def threads(self) -> int:
        """The JVM's threads now (0 when none runs): the runner adds them to the worker's
        pids limit, so they never shrink a job's process budget."""
        if self.process is None:
            return 0
        try:
            return len(os.listdir(f"/proc/{self.process.pid}/task"))
        except OSError:
            return 0

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        with contextlib.suppress(OSError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            process.kill()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        with contextlib.suppress(subprocess.TimeoutExpired, OSError, ChildProcessError):
            process.wait(timeout=5)


_WARM_UP = """import java.util.*;
import java.util.stream.*;
class W {
    static List<Integer> f(List<Integer> xs, Map<String, Integer> m) {
        List<Integer> out = new ArrayList<>();
        for (int x : xs) if (x % 2 == 0) out.add(x * 2);
        out.sort(Comparator.comparing((Integer v) -> -v));
        return xs.stream().filter(v -> v > 0).map(v -> v + m.size()).collect(Collectors.toList());
    }
}
"""


@dataclass(frozen=True)
class Confinement:
    """Where the JVM runs when the runner can put it there (root, no user namespace): a
    network namespace of its own (empty: not even the runner's), and a uid and gid of its own
    that no job and no judge has (so none of them can signal it or read its memory, nor it
    theirs), without supplementary groups; the runner's no-new-privileges is inherited, and
    the jobs' system-call filter is installed last."""

    uid: int
    gid: int
    seccomp: Any = None  # the jobs' filter (``_seccomp.Filter``), or None

    def enter(self) -> None:  # in the child, before exec
        L.unshare(L.CLONE_NEWNET)
        os.setgroups([])
        os.setresgid(self.gid, self.gid, self.gid)
        os.setresuid(self.uid, self.uid, self.uid)
        if self.seccomp is not None:
            self.seccomp.install()


def service_id(uid: int) -> int:
    """The warm JVM's uid (and gid) for a worker whose programs run as ``uid``: in a range
    apart from the workers' (``local.uid_block``: below 0x10000000) and the judges'
    (``_job.judge_id``: uid + 0x40000000)."""
    return uid + 0x20000000


def _exchange(process: subprocess.Popen[bytes], request: bytes, end: float) -> bytes:
    """One framed request to the JVM and its reply's payload, by ``end`` (``TimeoutError``
    past it; ``_Broken`` for a reply of an impossible size)."""
    assert process.stdin is not None and process.stdout is not None
    _write(process.stdin.fileno(), _string(request), end)
    size = struct.unpack(">i", _read(process.stdout.fileno(), 4, end))[0]
    if not 0 < size <= REPLY_BYTES:
        raise _Broken(f"a reply of {size} bytes")
    return _read(process.stdout.fileno(), size, end)


def _reset_peak(pid: int) -> None:
    """Start the process's peak resident size (VmHWM) again from its current size."""
    with contextlib.suppress(OSError), open(f"/proc/{pid}/clear_refs", "w") as handle:
        handle.write("5")


def _peak_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


def _wait(fd: int, events: int, end: float) -> None:
    left = end - time.monotonic()
    if left <= 0:
        raise TimeoutError
    poller = select.poll()
    poller.register(fd, events)
    if not poller.poll(left * 1000):
        raise TimeoutError


def _read(fd: int, size: int, end: float) -> bytes:
    data = bytearray()
    while len(data) < size:
        _wait(fd, select.POLLIN, end)
        chunk = os.read(fd, min(size - len(data), 1 << 20))
        if not chunk:
            raise _Broken("the warm compiler exited")
        data += chunk
    return bytes(data)


def _write(fd: int, data: bytes, end: float) -> None:
    os.set_blocking(fd, False)
    view = memoryview(data)
    while view:
        _wait(fd, select.POLLOUT, end)
        try:
            view = view[os.write(fd, view):]
        except BlockingIOError:
            continue
