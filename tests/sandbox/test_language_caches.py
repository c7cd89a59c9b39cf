"""The per-machine toolchain caches as a job sees them (both backends): the C++ header
set's PCH is valid for the test blocks' flags and taken by g++ inside the job; javac's
static class archive maps inside the job (``-Xshare:on`` fails on an archive it cannot
use); and a C++ test block sees only the names its own headers declare, as under the
official harness's plain compile (the precompiled set adds none)."""

from __future__ import annotations

from codesynth.harness.cpp_headers import set_header
from codesynth.languages import _JVM_FLAGS, CPP_NATIVE_COMPILE, JAVAC_CDS, max_ram
from codesynth.records import Job, Status
from codesynth.sandbox.protocol import Sandbox
from tests.sandbox.test_languages import box, needs

__all__ = ["box"]

HELPER = "".join(f"#include<{h}>\n" for h in ("stdlib.h", "algorithm", "math.h", "stdio.h",
                                              "vector", "string", "climits", "cstring",
                                              "iostream"))


def _python(code: str, tests: str) -> Job:
    return Job(id="probe", code=code, tests=tests, test_style="assert")


def test_the_header_set_pch_is_taken_inside_the_job(box: Sandbox) -> None:
    needs("cpp")
    header = set_header("humaneval-x", ("-std=c++17", "-O0"))
    argv = [part.format(ld="-fuse-ld=bfd", source="/tmp/s.cpp") for part in
            CPP_NATIVE_COMPILE]
    argv = [argv[0], "-include", header, *argv[1:]]
    argv[argv.index("solution")] = "/tmp/s"
    program = HELPER + "int main() { std::vector<int> v{1}; return v[0] - 1; }\n"
    code = f"""
import subprocess
with open("/tmp/s.cpp", "w") as handle:
    handle.write({program!r})
done = subprocess.run({argv!r} + ["-Winvalid-pch", "-H"], capture_output=True, text=True)
FIRST = done.stderr.splitlines()[0] if done.stderr else ""
CODE = done.returncode
"""
    expected = "! " + header + ".gch"
    e = box.run(_python(code, f"assert CODE == 0\nassert FIRST == {expected!r}\n"))
    assert e.status is Status.PASSED, (e.reason, [t.message for t in e.tests])


def test_javacs_archive_maps_inside_the_job(box: Sandbox) -> None:
    needs("java")
    flags = [f"-J{flag.format(max_ram=max_ram())}" for flag in _JVM_FLAGS
             if flag != "-Xshare:auto"]
    code = f"""
import subprocess
with open("/tmp/Main.java", "w") as handle:
    handle.write("public class Main {{ public static void main(String[] a) {{ }} }}\\n")
done = subprocess.run(["javac", *{flags!r}, "-J-Xshare:on",
                       "-J-XX:SharedArchiveFile={JAVAC_CDS}", "-d", "/tmp", "/tmp/Main.java"],
                      capture_output=True, text=True)
CODE, ERR = done.returncode, done.stderr[-500:]
"""
    e = box.run(_python(code, "assert CODE == 0, ERR\n"))
    assert e.status is Status.PASSED, (e.reason, [t.message for t in e.tests])


def test_a_cpp_block_sees_only_its_own_headers(box: Sandbox) -> None:
    """``std::map`` without ``<map>``: a compile error in HumanEval-X's harness, so here too
    (a bits/stdc++.h prelude made it compile); with ``<map>`` it passes."""
    needs("cpp")
    block = ("#undef NDEBUG\n#include<assert.h>\n"  # (as its test blocks do: no <cassert> in
             "int main() { std::map<int, int> m; m[1] = 2; assert(m[1] == 2); }\n")  # its nine)
    e = box.run(Job(id="m", code=HELPER + "using namespace std;\n", tests=block,
                    test_style="native", language="cpp"))
    assert e.status is Status.ERROR and e.exception is not None, e.reason
    assert e.exception.type == "CompileError" and "map" in e.exception.message
    e = box.run(Job(id="m2", code=HELPER + "#include<map>\nusing namespace std;\n",
                    tests=block, test_style="native", language="cpp"))
    assert e.status is Status.PASSED, e.reason
