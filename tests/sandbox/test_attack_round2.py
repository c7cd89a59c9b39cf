"""Attack round 2 on the warm javac, the prebuilt C++/Rust harness and ``Job.standard``.
Each test asserts the SAFE outcome: it fails while its hole is open.

- the runner reads a Java program's top-level types (``java_source._top_level``: quadratic
  in the number of type keywords before one ``{``) before the job's clock, in
  ``java_warm.attach``: one program stalls the worker past the host's wait, twice, and its
  record is ``sandbox_error`` (never ``timeout``/``error``: an RL reward skips it);
- ``cpp_headers.leading_includes`` reads a ``// ... \\`` (or, at ``-std=c++11``/``c++14``,
  a ``// ... ??/``) comment's next line as an ``#include``, where g++ splices it into the
  comment: the PCH set then includes a header the plain compile never sees; a program that
  does not compile (``std::sort`` without ``<algorithm>``) passes where the PCH exists;
- a build that fills the warm JVM's heap leaves its RSS high for good (SerialGC keeps the
  pages); ``_reset_peak`` starts every later job's VmHWM there, so every later Java job
  with a smaller memory limit "peaks past it" and builds with the cold in-job javac: an
  innocent job's verdict (``passed``/``timeout``) depends on the job before it;
- ``calls._folded`` guards ``str * int`` only: ``[0] * n``, ``n * [0]`` (and ``n * "a"``)
  are built and rendered by the runner (``java_warm.planned``) before the job's clock and
  outside every memory cgroup.
"""

from __future__ import annotations

import dataclasses
import subprocess
import time
from pathlib import Path

import pytest

from codesynth.harness.cpp_headers import HUMANEVAL_X, with_pch
from codesynth.records import Job, Limits, Status
from codesynth.sandbox.protocol import Sandbox
from tests.conftest import open_or_skip
from tests.sandbox.language_programs import CORRECT
from tests.sandbox.test_languages import language_box, needs

LIMITS = Limits(timeout=30.0, memory_mb=1024, max_processes=64, file_size_mb=8,
                max_output=4096)
ADD = [{"input": "1 2\n", "output": "3\n"}, {"input": "5 7\n", "output": "12\n"}]


def stdio(code: str, job_id: str = "j", language: str = "java") -> Job:
    return Job(id=job_id, code=code, tests=ADD, test_style="stdio", language=language)


# --- the runner reads a hostile Java source before the job's clock -------------------------

def _many_type_keywords(k: int) -> str:
    """``class A`` k times, then one ``{`` and a body of 4k words: every keyword is a
    top-level type at depth 0 whose body scan (a Python loop) runs the whole body again."""
    return "class A " * k + "{" + " x" * (4 * k) + "}\n" + CORRECT["java"]


def test_java_source_top_level_is_linear() -> None:
    """What the runner runs on every Java program before its job starts (public_class via
    Language.source_name/main_name, main_class): 4x the text must not cost 16x the CPU."""
    from codesynth.java_source import public_class

    costs = []
    for k in (1000, 4000):
        code = _many_type_keywords(k)
        start = time.process_time()
        public_class(code)
        costs.append(time.process_time() - start)
    assert costs[1] < 2.0, costs  # 64 KB: ~10 s of CPU when quadratic


def test_a_hostile_java_source_never_makes_the_host_kill_the_worker() -> None:
    """~100 KB (inside java_warm.MAX_INPUT_CHARS): the runner's attach_warm_build spends
    minutes in java_source before the job's clock; the host declares the runner dead after
    4 x timeout + 15 s, twice: `sandbox_error` instead of the job's own verdict."""
    needs("java")
    sandbox = open_or_skip("local", workers=1, limits=dataclasses.replace(LIMITS, timeout=2.0))
    try:
        start = time.monotonic()
        e = sandbox.run(stdio(_many_type_keywords(6000)))
        took = time.monotonic() - start
    finally:
        sandbox.close()
    assert e.status in (Status.ERROR, Status.TIMEOUT), (e.status, round(took, 1), e.reason)


# --- a PCH set the plain compile does not include ------------------------------------------

def _hidden_algorithm(splice: str) -> str:
    """HumanEval-X's leading headers, <algorithm> on a line g++ splices into the comment
    before it; the program needs <algorithm> (std::sort)."""
    lines = [f"#include <{header}>" for header in HUMANEVAL_X]
    lines[0] += " // " + splice if splice == "\\" else ""
    if splice != "\\":
        lines.insert(1, "// " + splice)
    return "\n".join(lines) + "\n"


SORT = ("int smallest(int a, int b, int c) {\n  std::vector<int> v{a, b, c};\n"
        "  std::sort(v.begin(), v.end());\n  return v[0];\n}\n")
SORT_TESTS = "int main() { assert(smallest(3, 1, 2) == 1); }\n"


@pytest.mark.parametrize("splice, std", [("\\", "-std=c++17"), ("??/", "-std=c++11")])
def test_the_pch_compile_is_the_plain_compile(tmp_path: Path, splice: str, std: str) -> None:
    """with_pch must never turn a compile error into a build (or change what compiles)."""
    needs("cpp")
    source = _hidden_algorithm(splice) + SORT + SORT_TESTS
    (tmp_path / "a.cpp").write_text(source)
    argv = ["g++", std, "-O0", "-o", "a.out", "a.cpp"]
    plain = subprocess.run(argv, cwd=tmp_path, capture_output=True, timeout=120)
    assert plain.returncode != 0  # std::sort is not declared: <algorithm> is in a comment
    # a spliced line ends the leading includes: no header set is taken (the PCH compile was
    # `passed` where g++ alone rejects the program)
    assert with_pch(argv, source) == argv


box = language_box(Limits(timeout=30.0, cpu_time=15.0, memory_mb=1024, max_processes=64))


@pytest.mark.parametrize("splice, standard", [("\\", None), ("??/", "c++11")])
def test_a_program_that_does_not_compile_is_an_error_with_the_pch(
        box: Sandbox, splice: str, standard: str | None) -> None:
    needs("cpp")
    e = box.run(Job(id="pch", code=_hidden_algorithm(splice) + SORT, tests=SORT_TESTS,
                    test_style="native", language="cpp", standard=standard))
    assert e.status is Status.ERROR, (e.status, e.reason)



# --- a job leaves the warm JVM big: every later small-memory job loses its warm build --------

def test_a_heavy_build_never_changes_how_the_next_jobs_are_built() -> None:
    """The JVM's heap never shrinks after a build that filled it (SerialGC keeps the pages):
    _reset_peak starts the next job's VmHWM at that size, so every later job whose memory
    limit is below it 'peaked past its limit' and builds with the cold in-job javac (~0.5 s
    more CPU): an innocent job's verdict then depends on which job ran before it."""
    from tests.sandbox.test_attack_javawarm import _heavy_to_build, _slow_to_build

    needs("java")
    small = dataclasses.replace(LIMITS, memory_mb=256)
    code = _slow_to_build(300)  # ~0.4 s of the warm javac's CPU, ~2x that in the job
    innocent = Job(id="innocent", code=code, tests=ADD[:1], test_style="stdio",
                   language="java")
    sandbox = open_or_skip("local", workers=1, limits=small)
    try:
        warm = [sandbox.run(innocent) for _ in range(3)]
        # room for noise, not for the in-job javac (~2x the warm build's CPU): the build
        # assertion below says which one built it
        tight = dataclasses.replace(small, cpu_time=round(
            max(e.cpu_time for e in warm[1:]) + 0.3, 2))
        before = sandbox.run(innocent, tight)
        heavy = sandbox.run(stdio(_heavy_to_build(6000), "heavy"), LIMITS)
        after = sandbox.run(innocent, tight)
    finally:
        sandbox.close()
    assert [e.build for e in warm] == ["warm-javac"] * 3 and before.status is Status.PASSED
    assert heavy.status is Status.PASSED and heavy.build == "warm-javac", heavy.reason
    # the verdict first (what a reward sees), then the cause
    assert after.status is Status.PASSED, (after.status, after.build, after.cpu_time,
                                           tight.cpu_time)
    assert after.build == "warm-javac", (after.build, after.status, after.cpu_time)


# --- a test literal the runner builds before the job's clock, outside every cgroup ----------

@pytest.mark.parametrize("argument", ["4194304 * [0]", "[0] * 4194304",
                                      "[0] * 2048 * 2048"])
def test_the_runner_never_builds_a_huge_test_argument(argument: str) -> None:
    """calls._folded refuses a string repeated past 1 << 20 characters, but not a list (nor
    an int times a string): java_warm.planned (the runner, before the job's clock, in no
    memory cgroup: the job joins it itself) builds and renders it. 4M elements: ~450 MB and
    2 s in the runner; ``[0] * 1000 * 1000 * 1000`` (10 characters of tests, far below
    MAX_INPUT_CHARS): 8 GB and more, which this test does not try on a shared machine."""
    import tracemalloc

    from codesynth.harness.java_warm import planned

    code = "public class Main { public static long f(java.util.List<Long> x) { return 1; } }"
    job = {"language": "java", "test_style": "assert", "code": code, "entry_point": "f",
           "tests": f"assert f({argument}) == 1\n"}
    tracemalloc.start()
    try:
        planned(job)
    except Exception:  # noqa: BLE001 - a refusal is the safe outcome
        pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 64 << 20, f"the runner built {peak >> 20} MB from {argument!r}"
