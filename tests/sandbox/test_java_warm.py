"""The warm javac (sandbox/_javac_service, harness/java_warm), attacked, on the local backend
(the only one that has it: in a container it would share the jobs' memory cgroup; see
test_attack_javawarm for docker): Java
builds outside the job give the same statuses and compile errors as the in-job javac; a
compile bomb is that record's status within its deadline and the next job still builds
warm; two jobs' sources never meet; a killed service is survived. The in-job path stays
tested by ``cold`` (CODESYNTH_JAVA_WARM=0) and by every other Java test when it is set."""

from __future__ import annotations

import dataclasses
import os
import signal
import threading
import time
from collections.abc import Iterator

import pytest

from codesynth.records import Job, Limits, Status
from codesynth.sandbox.protocol import Sandbox
from tests.conftest import open_or_skip
from tests.sandbox.assert_programs import BROKEN_LINE, TESTS, broken, native, program
from tests.sandbox.language_programs import BROKEN, CORRECT
from tests.sandbox.test_languages import needs

LIMITS = Limits(timeout=30.0, memory_mb=1024, max_processes=64, file_size_mb=8,
                max_output=4096)
ADD = [{"input": "1 2\n", "output": "3\n"}, {"input": "5 7\n", "output": "12\n"}]
WARM = "warm-javac"

@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    sandbox = open_or_skip("local", workers=1, limits=LIMITS)
    yield sandbox
    sandbox.close()


@pytest.fixture(scope="module")
def cold() -> Iterator[Sandbox]:
    """The local backend with the warm javac off: every build runs javac in the job."""
    os.environ["CODESYNTH_JAVA_WARM"] = "0"
    try:
        sandbox = open_or_skip("local", workers=1, limits=LIMITS)
    finally:
        del os.environ["CODESYNTH_JAVA_WARM"]
    yield sandbox
    sandbox.close()


def stdio(code: str, job_id: str = "j") -> Job:
    return Job(id=job_id, code=code, tests=ADD, test_style="stdio", language="java")


def asserts(code: str) -> Job:
    return Job(id="a", code=code, tests=TESTS, test_style="assert", language="java")


def test_every_form_builds_warm_and_passes(box: Sandbox) -> None:
    needs("java")
    code, tests = native("java")
    for job in (stdio(CORRECT["java"]), asserts(program("java")),
                Job(id="n", code=code, tests=tests, test_style="native", language="java")):
        e = box.run(job)
        assert e.status is Status.PASSED, (job.test_style, e.reason, e.stderr)
        assert e.build == WARM, job.test_style
        assert e.to_dict()["build"] == WARM


def test_wrong_programs_still_fail(box: Sandbox) -> None:
    needs("java")
    e = box.run(asserts(program("java", wrong=True)))
    assert e.status is Status.FAILED and e.build == WARM, e.reason
    e = box.run(asserts(program("java", "exit")))
    assert e.status is not Status.PASSED and e.build == WARM, e.reason


@pytest.mark.parametrize("code", [BROKEN["java"], broken("java"),
                                  "public class Main { int x = \"s\";\n void f() { g(); } }\n"])
def test_compile_errors_are_reported_as_the_in_job_javac_reports_them(
        box: Sandbox, cold: Sandbox, code: str) -> None:
    needs("java")
    for make in (stdio, asserts):
        warm, plain = box.run(make(code)), cold.run(make(code))
        assert plain.build is None and "build" not in plain.to_dict()
        assert warm.build == WARM
        assert (warm.status, warm.reason) == (plain.status, plain.reason)
        assert warm.status is Status.ERROR
        assert warm.exception is not None and plain.exception is not None
        assert (warm.exception.type, warm.exception.message, warm.exception.line) == (
            plain.exception.type, plain.exception.message, plain.exception.line)
    assert box.run(asserts(broken("java"))).exception.line == BROKEN_LINE  # type: ignore[union-attr]


def _many_methods(count: int) -> str:
    body = "\n".join(f"  static long f{i}(long x) {{ long y = x * {i} + (x ^ {i}) - (x << 3); "
                     f"if (y > {i}) return f{i}(x - 1) + y % 7; return y; }}"
                     for i in range(count))
    return (f"import java.util.Scanner;\npublic class Main {{\n{body}\n  public static void "
            "main(String[] a) { Scanner s = new Scanner(System.in); "
            "System.out.println(s.nextInt() + s.nextInt()); }\n}\n")


def test_a_build_past_its_deadline_is_that_records_timeout(box: Sandbox) -> None:
    needs("java")
    box.run(stdio(CORRECT["java"]))  # the service is up
    start = time.monotonic()
    e = box.run(stdio(_many_methods(2000)), dataclasses.replace(LIMITS, timeout=0.15))
    assert e.status is Status.TIMEOUT, e.reason
    assert time.monotonic() - start < 10
    for _ in range(2):  # whichever worker: a new service builds the next job
        after = box.run(stdio(CORRECT["java"]))
        assert after.status is Status.PASSED and after.build == WARM, after.reason


@pytest.mark.parametrize("bomb", ["stack", "huge"])
def test_compile_bombs_are_their_records_status_and_the_next_job_builds(
        box: Sandbox, bomb: str) -> None:
    needs("java")
    if bomb == "stack":  # javac overflows its stack: the in-job javac says so, as before
        code = "public class Main { static final int X = " + "+".join(["1"] * 150000) + "; }"
    else:  # 50 MB: built in the job under its limits, as before
        code = CORRECT["java"] + "//" + "x" * (50 << 20) + "\n"
    start = time.monotonic()
    e = box.run(stdio(code), dataclasses.replace(LIMITS, timeout=15.0))
    assert e.status in (Status.ERROR, Status.TIMEOUT, Status.MEMORY) or (
        bomb == "huge" and e.status is Status.PASSED), e.reason
    assert e.build is None, "not from the warm javac"
    assert time.monotonic() - start < 60
    after = box.run(stdio(CORRECT["java"]))
    assert after.status is Status.PASSED and after.build == WARM, after.reason


SECRET = "Zq81TokenOfTheFirstJob"
SPY = """import java.io.*;
import java.nio.file.*;
public class Main {
  public static void main(String[] a) throws Exception {
    StringBuilder seen = new StringBuilder();
    try (DirectoryStream<Path> dir = Files.newDirectoryStream(Paths.get("."))) {
      for (Path p : dir) {
        seen.append(p.getFileName()).append(' ');
        if (p.toString().endsWith(".class"))
          seen.append(new String(Files.readAllBytes(p), "ISO-8859-1"));
      }
    }
    // the needles made at run time: as constants they would be in this class file
    String secret = new StringBuilder("boJtsriFehTfOnekoT18qZ").reverse().toString();
    String leak = new StringBuilder("kaeL").reverse().toString();
    System.out.println(seen.indexOf(secret) >= 0 || seen.indexOf(leak) >= 0 ? "leak" : "clean");
  }
}
"""


def test_two_jobs_sources_never_meet(box: Sandbox) -> None:
    needs("java")
    first = ("import java.util.Scanner;\nclass Leak { static final String S = \"" + SECRET
             + "\"; }\npublic class Main { public static void main(String[] a) { Scanner s = "
             "new Scanner(System.in); System.out.println(s.nextInt() + s.nextInt()); } }\n")
    assert box.run(stdio(first)).build == WARM
    cases = [{"input": "", "output": "clean\n"}]
    e = box.run(Job(id="spy", code=SPY, tests=cases, test_style="stdio", language="java"))
    assert e.status is Status.PASSED and e.build == WARM, (e.reason, e.tests)
    uses = box.run(stdio(CORRECT["java"].replace("System.out.println(",
                                                 "System.out.println(Leak.S + ")))
    assert uses.status is Status.ERROR and "cannot find symbol" in uses.reason, uses.reason


def _services_below(pid: int) -> list[int]:
    """The warm javac JVMs among the descendants of ``pid`` (the local backend's runners)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            todo.append(child)
            try:
                with open(f"/proc/{child}/cmdline", "rb") as handle:
                    if b"CodesynthJavac.java" in handle.read():
                        found.append(child)
            except OSError:
                pass
    return found


def test_a_service_killed_mid_request_is_survived() -> None:
    needs("java")
    others = set(_services_below(os.getpid()))  # other sandboxes' (this module's box)
    sandbox = open_or_skip("local", workers=1, limits=LIMITS)
    try:
        assert sandbox.run(stdio(CORRECT["java"])).build == WARM
        (service,) = set(_services_below(os.getpid())) - others
        os.kill(service, signal.SIGSTOP)  # it takes the next request and never answers...
        threading.Timer(1.0, os.kill, (service, signal.SIGKILL)).start()  # ...and dies
        e = sandbox.run(stdio(_many_methods(2000)))
        assert e.status is Status.PASSED and e.build is None, e.reason  # built in the job
        after = sandbox.run(stdio(CORRECT["java"]))
        assert after.status is Status.PASSED and after.build == WARM, after.reason
        assert set(_services_below(os.getpid())) - others not in (set(), {service})
    finally:
        sandbox.close()


FORKS = """import os, time
n = 0
try:
    while n < 100:
        if os.fork() == 0:
            time.sleep(5)
            os._exit(0)
        n += 1
except OSError:
    pass
print(n)
"""


def test_the_services_threads_never_shrink_a_jobs_process_budget() -> None:
    """The JVM lives in the worker's pids cgroup (local backend): a job after it may still
    make as many processes as one before it, and the JVM starts under a small budget."""
    needs("java")
    limits = dataclasses.replace(LIMITS, max_processes=32, memory_mb=512)
    sandbox = open_or_skip("local", workers=1, limits=limits)
    forks = Job(id="f", code=FORKS, tests=[{"input": "", "output": "?"}], test_style="stdio")
    try:
        before = sandbox.run(forks).tests[0].message
        java = sandbox.run(stdio(CORRECT["java"]))
        assert java.status is Status.PASSED and java.build == WARM, java.reason
        after = sandbox.run(forks).tests[0].message
        assert before == after and before is not None and "got '30\\n'" in before, (before,
                                                                                   after)
    finally:
        sandbox.close()
