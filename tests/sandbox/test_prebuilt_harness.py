"""The harness code for C++ and Rust test blocks compiled once per machine
(``harness/drivers/prebuilt``): attacks on the linking of it into a job, on both backends,
and the fallback (the same text compiled in the job) checked against the same programs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from codesynth.harness.drivers import crates, native, prebuilt
from codesynth.languages import CPP_NATIVE_COMPILE, RUST_NATIVE_COMPILE, SANDBOX_PATH
from codesynth.records import Job, Limits, Status
from codesynth.sandbox.protocol import Sandbox
from tests.sandbox.test_languages import language_box, needs

box = language_box(Limits(timeout=30.0, cpu_time=10.0, memory_mb=1024, max_processes=64,
                          file_size_mb=8, max_output=4096))

CPP_TESTS = "#undef NDEBUG\n#include <assert.h>\nint main() {\n  assert(add(2, 2) == 4);\n}\n"
RUST_TESTS = ("#[cfg(test)]\nmod tests {\n    use super::*;\n    #[test]\n"
              "    fn adds() { assert_eq!(add(2, 2), 4); }\n}\n")

# attack: the program defines the symbol the prebuilt wrapper calls, returning 0 without
# running the block (and a wrong ``add``)
CPP_ENTRY = ('#include <stdio.h>\nint add(int a, int b) { return a - b; }\n'
             'extern "C" int codesynth_entry(int, char**) { return 0; }\n')
# attack: the program defines a crate-level ``run`` and aliases itself under the names a
# fixed runtime would have, hoping the generated ``main`` calls them
RUST_SELF = ("extern crate self as codesynth_rt;\n"
             "pub fn run(_: &[(&str, fn(), u8, Option<&str>)]) {}\n"
             "fn add(a: i32, b: i32) -> i32 { a - b }\n")


def job(code: str, tests: str, language: str) -> Job:
    return Job(id="prebuilt", code=code, tests=tests, test_style="native", language=language)


def test_prepared_here() -> None:
    # the machine's sandbox has them (made with the PCH): else the rest tests the fallback only
    made = prebuilt.prepare()
    for language, path in (("g++", prebuilt.cpp_wrapper_path()),
                           ("rustc", prebuilt.rust_runtime_path())):
        if shutil.which(language, path=SANDBOX_PATH):
            assert path in made and os.stat(path).st_mode & 0o444 == 0o444


@pytest.mark.parametrize("code, expected", [
    ("int add(int a, int b) { return a + b; }\n", Status.PASSED),
    ("int add(int a, int b) { return a - b; }\n", Status.FAILED),
    (CPP_ENTRY, Status.FAILED),
    # the wrapper's own symbol names are not the program's to take
    ("int add(int a, int b) { return a + b; }\nint codesynth_entry = 0;\n", Status.PASSED),
])
def test_cpp_block(box: Sandbox, code: str, expected: Status) -> None:
    needs("cpp")
    e = box.run(job(code, CPP_TESTS, "cpp"))
    assert e.status is expected, e.reason


@pytest.mark.parametrize("code, expected", [
    ("fn add(a: i32, b: i32) -> i32 { a + b }\n", Status.PASSED),
    ("fn add(a: i32, b: i32) -> i32 { a - b }\n", Status.FAILED),
    (RUST_SELF, Status.FAILED),
    ("mod codesynth_rt { pub fn run(_: &[(&str, fn(), u8, Option<&str>)]) {} }\n"
     "fn add(a: i32, b: i32) -> i32 { a * 3 }\n", Status.FAILED),
])
def test_rust_block(box: Sandbox, code: str, expected: Status) -> None:
    needs("rust")
    e = box.run(job(code, RUST_TESTS, "rust"))
    assert e.status is expected, e.reason
    if expected is Status.FAILED:
        assert [t.outcome for t in e.tests] == ["failed"], e.tests


def _build_and_run(form: native.Form, source: str, work: Path) -> tuple[int, str]:
    """Compile a rendered form as the job would (outside any sandbox) and run it with a
    nonce on stdin; the exit status and what it wrote to fd 3."""
    (work / source).write_text(form.source)
    for name, text in form.files.items():
        (work / name).write_text(text)
    assert form.compile is not None
    argv = [flag for part in form.compile for flag in (
        crates.flags() if part == "{crates}"
        else [part.replace("{ld}", "-fuse-ld=bfd").replace("{source}", source)])]
    env = {"PATH": SANDBOX_PATH, "HOME": str(work), "LANG": "C.UTF-8"}
    built = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stdout + built.stderr
    read, write = os.pipe()
    done = subprocess.run(["bash", "-c", f"exec ./solution 3>&{write}"], cwd=work,
                          input=b"N0NCE\n", pass_fds=(write,), env=env, capture_output=True,
                          timeout=60)
    os.close(write)
    with os.fdopen(read, "rb") as handle:
        return done.returncode, handle.read().decode()


@pytest.mark.parametrize("use_prebuilt", [True, False])
@pytest.mark.parametrize("language", ["cpp", "rust"])
def test_the_fallback_and_the_prebuilt_say_the_same(tmp_path: Path, language: str,
                                                    use_prebuilt: bool,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # with the file missing, the job compiles the same text itself: same evidence, same name
    # hiding (the entry and the runtime module named per job)
    compiler = "g++" if language == "cpp" else "rustc"
    if shutil.which(compiler, path=SANDBOX_PATH) is None:
        pytest.skip(f"{compiler} is absent")
    prebuilt.prepare()
    if not use_prebuilt:
        monkeypatch.setattr(prebuilt, "available", lambda path: None)
    elif prebuilt.available(prebuilt.cpp_wrapper_path() if language == "cpp"
                            else prebuilt.rust_runtime_path()) is None:
        pytest.skip("no prebuilt harness on this machine")
    if language == "cpp":
        code, tests, source = "int add(int a, int b) { return a + b; }\n", CPP_TESTS, "s.cpp"
        wrong = CPP_ENTRY
    else:
        code, tests, source = "fn add(a: i32, b: i32) -> i32 { a + b }\n", RUST_TESTS, "s.rs"
        wrong = RUST_SELF
    form, again = (native.native_form(language, code, tests) for _ in range(2))
    names, other = (set(re.findall(r"codesynth_(?:main|rt|runtime)_[0-9a-f]{24}",
                                   one.source + " ".join(one.compile or [])))
                    for one in (form, again))
    assert names and names.isdisjoint(other)  # per job, never guessable from another
    linked = " ".join(form.compile or [])
    if use_prebuilt:
        assert os.path.dirname(prebuilt.PCH_ROOT) in linked and not form.files
    else:
        assert prebuilt.CPP_WRAPPER in form.files.values() if language == "cpp" \
            else prebuilt.RUST_RUNTIME in form.source
    good = tmp_path / "good"
    good.mkdir()
    status, evidence = _build_and_run(form, source, good)
    assert status == 0 and evidence.endswith("DONE\tN0NCE\t0\n"), evidence
    bad = tmp_path / "bad"
    bad.mkdir()
    status, evidence = _build_and_run(native.native_form(language, wrong, tests), source, bad)
    assert status != 0 and not evidence.endswith("\t0\n"), evidence  # no "DONE n 0"


def test_a_new_standard_library_gets_a_new_runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    # a rustc upgrade renames libstd-<hash>: the old rlib (which the new rustc refuses) is
    # never offered; the C++ wrapper (libc only) is keyed by its text and flags
    import glob

    before = prebuilt.rust_runtime_path("/x")
    monkeypatch.setattr(glob, "glob", lambda pattern: ["/usr/lib/rustlib/t/lib/libstd-0.so"])
    assert prebuilt.rust_runtime_path("/x") != before
    assert prebuilt.cpp_wrapper_path("/x").startswith("/x/prebuilt/")


def test_the_prebuilt_flags_are_the_blocks_flags() -> None:
    # an rlib made with another codegen choice than the job's would still link, but the
    # claim "same verdicts as the job compiling the text itself" rests on these being equal
    for flag in ("opt-level=0", "debuginfo=0", "prefer-dynamic", "codegen-units=1"):
        assert flag in RUST_NATIVE_COMPILE and flag in prebuilt.RUST_RUNTIME_FLAGS
    assert "-O0" in CPP_NATIVE_COMPILE and "-O0" in prebuilt.CPP_WRAPPER_FLAGS
