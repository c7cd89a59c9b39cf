"""``Job.standard``: the C++ standard a program is compiled for (HumanEval-X's harness
compiles at ``-std=c++11``, MultiPL-E's and codesynth's at C++17), and HumanEval-X's task
162 (MD5 through OpenSSL, linked as its harness links it). Both backends."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from codesynth.benchmarks.base import Problem
from codesynth.benchmarks.humaneval_x import HumanEvalX
from codesynth.exec_cache import job_key
from codesynth.harness.cpp_headers import set_header, with_pch
from codesynth.records import InvalidJob, Job, Limits, Status
from codesynth.sandbox.protocol import Sandbox
from tests.sandbox.test_languages import language_box, needs

box = language_box(Limits(timeout=30.0, cpu_time=15.0, memory_mb=1024, max_processes=64))

# generic lambdas and std::make_unique are C++14; dynamic exception specifications are gone
# in C++17
CPP14 = ("#include <memory>\nint twice(int x) { auto f = [](auto v) { return 2 * v; };\n"
         "  return *std::make_unique<int>(f(x)); }\n")
THROWS = "int twice(int x) throw(int) { return 2 * x; }\n"
TESTS = "#include <assert.h>\nint main() { assert(twice(2) == 4); }\n"


def job(code: str, standard: str | None) -> Job:
    return Job(id="std", code=code, tests=TESTS, test_style="native", language="cpp",
               standard=standard)


@pytest.mark.parametrize("code, standard, expected", [
    (CPP14, None, Status.PASSED), (CPP14, "c++11", Status.ERROR),
    (CPP14, "c++14", Status.PASSED), (THROWS, "c++11", Status.PASSED),
    (THROWS, None, Status.ERROR), (THROWS, "c++17", Status.ERROR),
])
def test_the_standard_is_the_jobs(box: Sandbox, code: str, standard: str | None,
                                  expected: Status) -> None:
    needs("cpp")
    e = box.run(job(code, standard))
    assert e.status is expected, e.reason


def test_the_standard_applies_to_stdio_and_equality_forms(box: Sandbox) -> None:
    needs("cpp")
    main = "#include <iostream>\nint main() { std::cout << twice(2) << std::endl; }\n"
    for code, standard, status in ((CPP14, "c++11", Status.ERROR), (CPP14, None,
                                                                     Status.PASSED)):
        stdio = box.run(Job(id="s", code=code + main, tests=[{"input": "", "output": "4\n"}],
                            test_style="stdio", language="cpp", standard=standard))
        assert stdio.status is status, stdio.reason
        calls = box.run(Job(id="a", code=code, tests="assert twice(2) == 4\n",
                            test_style="assert", language="cpp", standard=standard))
        assert calls.status is status, calls.reason


def test_a_bad_standard_is_the_callers_error() -> None:
    with pytest.raises(InvalidJob) as raised:
        job(CPP14, "c++99 -fplugin=x")
    assert raised.value.field == "standard" and "c++11" in raised.value.detail
    with pytest.raises(InvalidJob):
        Job(id="x", code="f = 1", tests="assert f == 1", standard="c++17")  # python has none
    assert Job.from_dict(job(CPP14, "gnu++20").to_dict()).standard == "gnu++20"


def test_the_execution_cache_tells_standards_apart() -> None:
    limits, runtime = Limits(), {"backend": "local"}
    keys = {job_key(job(CPP14, standard), limits, runtime) for standard in
            (None, "c++11", "c++17")}
    assert len(keys) == 3


def test_humaneval_x_compiles_at_its_harness_standard_with_its_pch() -> None:
    rows = [json.loads(line) for line in gzip.open(
        Path(__file__).parent.parent / "data" / "humaneval_x" / "humaneval_x.jsonl.gz", "rt")]
    benchmark = HumanEvalX()
    problems = benchmark.parse(enumerate(rows, 1), "fixtures")
    cpp = next(p for p in problems.values() if p.row["_language"] == "cpp")
    made = benchmark.jobs(Problem(cpp.task_id, cpp.prompt, cpp.row),
                          {"completion": cpp.row["canonical_solution"]}, "j")[0]
    assert made.standard == "c++11"
    argv = ["g++", "-std=c++11", "-O0", "-o", "solution", "solution.cpp"]
    header = set_header("humaneval-x", ("-std=c++11", "-O0"))
    if Path(header + ".gch").exists():  # prepared on this machine (language_caches)
        assert with_pch(argv, made.code)[1:3] == ["-include", header]


MD5_CODE = """#include<stdio.h>
#include<string>
#include<openssl/md5.h>
using namespace std;
string string_to_md5(string text){
    if (text.length()==0) return "None";
    unsigned char md[16];
    MD5((const unsigned char*)text.c_str(), text.length(), md);
    char out[33];
    for (int i = 0; i < 16; i++) sprintf(out + 2 * i, "%02x", md[i]);
    return string(out);
}
"""
MD5_TESTS = """#undef NDEBUG
#include<assert.h>
int main(){
    assert (string_to_md5("Hello world") == "3e25960a79dbc69b674cd4ec67a72c62");
    assert (string_to_md5("") == "None");
}
"""


def test_openssl_md5_links_as_humaneval_x_162(box: Sandbox) -> None:
    needs("cpp")
    if not Path("/usr/include/openssl/md5.h").exists():
        pytest.skip("libssl-dev is absent")
    e = box.run(Job(id="162", code=MD5_CODE, tests=MD5_TESTS, test_style="native",
                    language="cpp", standard="c++11"))
    assert e.status is Status.PASSED, e.reason
    wrong = box.run(Job(id="162", code=MD5_CODE.replace('"%02x"', '"%02X"'), tests=MD5_TESTS,
                        test_style="native", language="cpp", standard="c++11"))
    assert wrong.status is Status.FAILED, wrong.reason


def test_verify_reads_the_standard_and_names_a_bad_one(tmp_path: Path) -> None:
    from codesynth.errors import InputError
    from codesynth.verify import job_from_record

    record = {"id": 1, "code": CPP14, "tests": TESTS, "test_style": "native",
              "language": "cpp", "standard": "c++11"}
    assert job_from_record(record, "in.jsonl", 3).standard == "c++11"
    with pytest.raises(InputError) as raised:
        job_from_record({**record, "standard": "c++3"}, "in.jsonl", 3)
    assert raised.value.field == "standard" and "in.jsonl" in str(raised.value)
