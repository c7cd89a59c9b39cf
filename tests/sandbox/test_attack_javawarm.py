"""Attacks on the warm javac (sandbox/_javac_service, harness/java_warm), each asserting the
SAFE outcome: every test here fails while its hole is open.

- a javac ``Plugin`` with ``autoStart`` on the service JVM's class path runs inside the warm
  JVM (``-proc:none`` and an empty processor path do not stop plugin discovery), and the JVM's
  class path is ``.`` (its working directory) unless one is given;
- the runner reads a job's source (``java_source.unescaped``, quadratic) before the job's clock
  and outside every deadline: one record stalls the worker, then kills it (``sandbox_error``);
- the warm build's CPU and memory are nobody's: a build the in-job javac cannot finish within
  the job's time or memory limit passes;
- docker: the container's memory limit adds the runner's RSS, which counts the JVM's shared
  file pages that the container's cgroup charges once: a job exceeds its memory limit; and the
  first Java job of a worker pays for the JVM started after its limit was set, and so does
  the job after one whose build killed the JVM (a job spoils the next one's verdict).
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from codesynth.records import Job, Limits, Status
from codesynth.sandbox import _javac_service as service
from codesynth.sandbox.protocol import Sandbox
from tests.conftest import open_or_skip
from tests.sandbox.language_programs import CORRECT
from tests.sandbox.test_languages import _languages_image, needs

LIMITS = Limits(timeout=30.0, memory_mb=1024, max_processes=64, file_size_mb=8,
                max_output=4096)
ADD = [{"input": "1 2\n", "output": "3\n"}, {"input": "5 7\n", "output": "12\n"}]
WARM = "warm-javac"


def stdio(code: str, job_id: str = "j") -> Job:
    return Job(id=job_id, code=code, tests=ADD, test_style="stdio", language="java")


@pytest.fixture
def cold_env() -> Iterator[None]:
    os.environ["CODESYNTH_JAVA_WARM"] = "0"
    try:
        yield
    finally:
        del os.environ["CODESYNTH_JAVA_WARM"]


# --- claim 1: code runs in the warm JVM --------------------------------------------------

PLUGIN = """package evil;
import com.sun.source.util.*;
public class P implements Plugin {
  public String getName() { return "evil"; }
  public boolean autoStart() { return true; }
  public void init(JavacTask task, String... args) {
    try { java.nio.file.Files.writeString(java.nio.file.Path.of(System.getProperty(
        "java.io.tmpdir"), "codesynth-attack-PLUGIN-RAN"),
        "pid " + ProcessHandle.current().pid()); }
    catch (Exception e) { throw new RuntimeException(e); }
  }
}
"""
MARK = Path("/tmp/codesynth-attack-PLUGIN-RAN")


def _plugin_dir(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "P.java").write_text(PLUGIN)
    out = tmp_path / "plugins"
    subprocess.run(["javac", "-d", str(out), str(tmp_path / "src" / "P.java")], check=True,
                   timeout=120)
    (out / "META-INF" / "services").mkdir(parents=True)
    (out / "META-INF" / "services" / "com.sun.source.util.Plugin").write_text("evil.P\n")
    return out


def test_the_services_class_path_is_its_own_empty_directory() -> None:
    """javac looks for autoStart Plugins through the JVM's application class path whatever
    -proc says (a plugin there ran inside the warm JVM): that path is a directory of the
    runner's own, empty and private, never the working directory's default '.'."""
    needs("java")
    client = service.JavacService()
    try:
        assert isinstance(client.compile([], {"Main.java": "public class Main {}"}, 60),
                          service.Compiled)
        assert client.process is not None and client.home is not None
        argv = Path(f"/proc/{client.process.pid}/cmdline").read_bytes().split(b"\0")
        where = argv[argv.index(b"-cp") + 1].decode()
        assert argv.count(b"-cp") == 1 and where == client.home
        assert Path(f"/proc/{client.process.pid}/cwd").resolve() == Path(client.home)
        assert os.listdir(where) == [] and os.stat(where).st_mode & 0o077 == 0
    finally:
        client.stop()


def test_the_services_jvm_does_not_search_its_working_directory(tmp_path: Path) -> None:
    """Without -cp the JVM's class path is '.', its working directory (the runner's '/'):
    with the launch JavacService makes, a plugin in the working directory is not loaded."""
    needs("java")
    MARK.unlink(missing_ok=True)
    plugins = _plugin_dir(tmp_path)
    java = service.JavacService().java
    assert java is not None
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    process = subprocess.Popen([java, *service._FLAGS, "-cp", str(home), service.SOURCE],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, cwd=plugins,
                               env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
    try:
        assert process.stdout is not None and process.stdin is not None
        assert process.stdout.read(4) == b"\0\0\0\0"
        process.stdin.write(service._string(service.encode([], {"A.java": "class A {}"})))
        process.stdin.flush()
        size = int.from_bytes(process.stdout.read(4), "big")
        assert isinstance(service.decode(process.stdout.read(size)), service.Compiled)
    finally:
        process.kill()
        process.communicate()
    ran = MARK.exists()
    MARK.unlink(missing_ok=True)
    assert not ran, "the warm JVM loaded a plugin from its working directory"


# --- claim 4: a record that stalls, then kills, the worker -------------------------------

def _quadratic(k: int) -> str:
    # java_source.unescaped: r"\\+u+([0-9A-Fa-f]{4})" backtracks O(k*k) on k backslashes
    # then k 'u's; the runner runs it ~4 times in java_warm.attach, before the job's clock.
    return CORRECT["java"] + "/*" + "\\" * k + "u" * k + "*/\n"


def test_reading_a_hostile_source_in_the_runner_is_within_the_jobs_deadline() -> None:
    needs("java")
    limits = dataclasses.replace(LIMITS, timeout=2.0)
    sandbox = open_or_skip("local", workers=1, limits=limits)
    try:
        start = time.monotonic()
        e = sandbox.run(stdio(_quadratic(16000)))
        took = time.monotonic() - start
        after = sandbox.run(stdio(CORRECT["java"]))
    finally:
        sandbox.close()
    assert after.status is Status.PASSED, after.reason
    # a correct program with a long comment: read in one pass (java_source.unescaped), it
    # builds warm and passes (the in-job javac, JVM start included, needs more than 2 s: its
    # `timeout`); it took 17.5 s when the runner's scan was quadratic
    assert e.status is Status.PASSED and took < 8, (e.status, round(took, 1), e.reason)


def test_a_hostile_source_never_makes_the_host_kill_the_worker() -> None:
    """Larger: past the host's wait (4 x timeout + 15 s) the runner is declared dead, twice,
    and the record is `sandbox_error` (~46 s) instead of its `timeout`."""
    needs("java")
    sandbox = open_or_skip("local", workers=1, limits=dataclasses.replace(LIMITS, timeout=2.0))
    try:
        e = sandbox.run(stdio(_quadratic(40000)))
    finally:
        sandbox.close()
    assert e.status in (Status.PASSED, Status.TIMEOUT), (e.status, e.reason)


# --- claim 5: the warm build's CPU ---------------------------------------------------------

def _slow_to_build(count: int = 1100) -> str:
    """~250 KB that javac attributes for seconds into a 600-byte class (dead code)."""
    body = "\n".join(
        f"    if (false) {{ java.util.List<java.util.Map<String,Integer>> v{i} = new "
        f"java.util.ArrayList<>(); v{i}.add(java.util.Map.of(\"k\", {i})); long y{i} = "
        f"java.util.stream.Stream.of(v{i}, v{i}).flatMap(java.util.List::stream).count(); }}"
        for i in range(count))
    return ("import java.util.Scanner;\npublic class Main {\n  static void dead() {\n" + body
            + "\n  }\n  public static void main(String[] a) { Scanner s = new Scanner(System.in);"
            " System.out.println(s.nextInt() + s.nextInt()); }\n}\n")


def test_the_warm_builds_cpu_is_the_jobs() -> None:
    """The warm build's CPU was nobody's (the job then had its whole budget again): a build
    worth more CPU than the job's limit passed. Now it is the job's: its trace counts it, and
    a job whose limit is below what its build takes is `timeout`. (The warm JVM's javac is
    JIT-compiled, so it needs less CPU than the in-job javac, which starts cold: the same
    program can fit the limit warm and not cold; what the build takes is charged either
    way.)"""
    needs("java")
    warm = open_or_skip("local", workers=1, limits=LIMITS)
    try:
        assert warm.run(stdio(CORRECT["java"])).build == WARM
        roomy = warm.run(stdio(_slow_to_build()))
        assert roomy.status is Status.PASSED and roomy.build == WARM, roomy.reason
        tight = dataclasses.replace(LIMITS, cpu_time=max(0.3, roomy.cpu_time / 3))
        e = warm.run(stdio(_slow_to_build()), tight)
    finally:
        warm.close()
    # the build alone takes most of that CPU (a 600-byte class runs in milliseconds)
    assert roomy.cpu_time > 0.6, roomy.cpu_time
    assert e.status is Status.TIMEOUT, (e.status, e.build, e.cpu_time, e.reason)


def _heavy_to_build(count: int = 4000) -> str:
    """~150 KB whose constant folding holds ~130 MB in javac's heap (unused local String
    constants of 32 KB each: no bytecode), into a 600-byte class."""
    lines = ['    final String a0 = "0123456789abcdef";']
    lines += [f"    final String a{i} = a{i - 1} + a{i - 1};" for i in range(1, 12)]
    lines += [f"    final String c{i} = a11 + {i};" for i in range(count)]
    return ("import java.util.Scanner;\npublic class Main {\n  static void dead() {\n"
            + "\n".join(lines) + "\n  }\n  public static void main(String[] a) { Scanner s = "
            "new Scanner(System.in); System.out.println(s.nextInt() + s.nextInt()); }\n}\n")


def test_a_build_the_jobs_memory_cannot_afford_does_not_pass_warm(cold_env: None) -> None:
    """--memory-mb 200: the in-job javac is OOM-killed (`memory`); the warm JVM (256 MB heap,
    outside the job's memory cgroup) builds it and the job passes."""
    needs("java")
    limits = dataclasses.replace(LIMITS, memory_mb=200)
    cold = open_or_skip("local", workers=1, limits=limits)
    try:
        reference = cold.run(stdio(_heavy_to_build()))
    finally:
        cold.close()
    del os.environ["CODESYNTH_JAVA_WARM"]
    try:
        warm = open_or_skip("local", workers=1, limits=limits)
        try:
            e = warm.run(stdio(_heavy_to_build()))
        finally:
            warm.close()
    finally:
        os.environ["CODESYNTH_JAVA_WARM"] = "0"
    assert reference.status is Status.MEMORY, reference.reason  # the in-job javac's verdict
    assert e.status is reference.status, (e.status, e.build, e.memory_peak_mb, e.reason)


# --- claim 5, docker: the JVM's memory ------------------------------------------------------

HOG = """import java.util.Scanner;
import java.lang.reflect.Field;
public class Main {
  public static void main(String[] a) throws Exception {
    Field f = sun.misc.Unsafe.class.getDeclaredField("theUnsafe"); f.setAccessible(true);
    sun.misc.Unsafe u = (sun.misc.Unsafe) f.get(null);
    long n = %dL << 20; long p = u.allocateMemory(n);
    for (long i = 0; i < n; i += 4096) u.putByte(p + i, (byte) 1);
    Scanner s = new Scanner(System.in); System.out.println(s.nextInt() + s.nextInt());
  }
}
"""
DOCKER_LIMITS = dataclasses.replace(LIMITS, memory_mb=600)


def _docker_runs(megabytes: int, times: int) -> list[Status]:
    needs("java")
    sandbox: Sandbox = open_or_skip("docker", workers=1, limits=DOCKER_LIMITS,
                                    image=_languages_image())
    try:
        return [sandbox.run(Job(id=f"h{i}", code=HOG % megabytes, tests=ADD[:1],
                                test_style="stdio", language="java")).status
                for i in range(times)]
    finally:
        sandbox.close()


def test_docker_has_no_warm_javac() -> None:
    """In a container the JVM would share the container's one memory cgroup (and its
    charged pages) with the jobs: the docker backend builds Java in the job."""
    needs("java")
    sandbox: Sandbox = open_or_skip("docker", workers=1, limits=LIMITS,
                                    image=_languages_image())
    try:
        e = sandbox.run(stdio(CORRECT["java"]))
    finally:
        sandbox.close()
    assert e.status is Status.PASSED and e.build is None, (e.status, e.build)


def test_docker_a_job_never_gets_the_warm_jvms_shared_pages_as_extra_memory() -> None:
    """600 MB off-heap + a JVM under --memory-mb 600: `memory` with the in-job javac, every
    time; with the warm JVM in the container, `passed` from the second job on (the limit
    adds the runner's RSS, JVM included, but the JVM's libjvm/modules pages are shared with
    the job's own JVM and charged once)."""
    statuses = _docker_runs(600, 3)
    assert statuses == [Status.MEMORY] * 3, statuses


def test_docker_the_first_java_job_is_not_charged_for_starting_the_jvm(
        cold_env: None) -> None:
    """550 MB under 600 passes with the in-job javac; the first job of a worker with the warm
    JVM gets `memory` (the JVM starts in the container after the job's limit was set)."""
    reference = _docker_runs(550, 1)
    del os.environ["CODESYNTH_JAVA_WARM"]
    try:
        statuses = _docker_runs(550, 2)
    finally:
        os.environ["CODESYNTH_JAVA_WARM"] = "0"
    assert reference == [Status.PASSED], reference
    assert statuses == [Status.PASSED] * 2, statuses


def test_docker_a_job_that_kills_the_warm_jvm_never_spoils_the_next_jobs_verdict() -> None:
    """A build past its deadline kills the JVM; the next Java job restarts it inside the
    container after its memory limit was set from a reply without the JVM: that innocent
    job (540 MB under 600, which passes before the bomb and with the in-job javac) gets
    `memory`."""
    from tests.sandbox.test_java_warm import _many_methods

    needs("java")
    sandbox: Sandbox = open_or_skip("docker", workers=1, limits=DOCKER_LIMITS,
                                    image=_languages_image())
    innocent = Job(id="h", code=HOG % 540, tests=ADD[:1], test_style="stdio", language="java")
    try:
        assert sandbox.run(stdio(CORRECT["java"])).status is Status.PASSED
        before = sandbox.run(innocent)
        bomb = sandbox.run(stdio(_many_methods(2000)), dataclasses.replace(DOCKER_LIMITS,
                                                                         timeout=0.15))
        after = sandbox.run(innocent)
    finally:
        sandbox.close()
    assert before.status is Status.PASSED, before.reason
    assert bomb.status is Status.TIMEOUT, bomb.reason
    assert after.status is Status.PASSED, (after.status, after.reason)


def test_the_warm_jvm_is_confined_apart_from_runner_jobs_and_judges() -> None:
    """The JVM parses hostile source: as root without a user namespace (the local backend
    here), the runner starts it with a uid and gid of its own (never a job's or a judge's),
    no supplementary groups, an empty network namespace, no new privileges and the jobs'
    system-call filter."""
    from tests.sandbox.test_java_warm import _services_below

    needs("java")
    if os.getuid() != 0:
        pytest.skip("the runner confines the JVM only as root")
    others = set(_services_below(os.getpid()))
    sandbox = open_or_skip("local", workers=1, limits=LIMITS)
    try:
        e = sandbox.run(stdio(CORRECT["java"]))
        assert e.status is Status.PASSED and e.build == WARM, e.reason
        (jvm,) = set(_services_below(os.getpid())) - others
        status = dict(line.split(":", 1) for line in
                      Path(f"/proc/{jvm}/status").read_text().splitlines() if ":" in line)
        uid = int(status["Uid"].split()[0])
        runner = int(Path(f"/proc/{jvm}/stat").read_text().rsplit(")", 1)[1].split()[1])
        runner_uid = int(Path(f"/proc/{runner}/status").read_text().split("Uid:")[1].split()[0])
        assert uid not in (0, runner_uid) and status["Gid"].split()[0] == str(uid)
        assert status["Groups"].strip() == ""
        assert status["NoNewPrivs"].strip() == "1" and status["Seccomp"].strip() == "2"
        assert os.readlink(f"/proc/{jvm}/ns/net") != os.readlink(f"/proc/{runner}/ns/net")
        # its uid is none of this worker's jobs' (they run as the runner's config uid) or
        # judges' (uid + 0x40000000): it sits 0x20000000 above the jobs'
        from codesynth.sandbox._javac_service import service_id
        assert uid - service_id(0) < 0x10000000
    finally:
        sandbox.close()
