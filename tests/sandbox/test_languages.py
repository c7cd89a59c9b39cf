"""Other languages in the stdio form: built once inside the job, run once per case, compared
by the runner (codesynth/harness/compiled.py). Every language's programs get the right
status; hostile ones never pass. A language whose toolchain is absent skips (and says why),
except under CI=1, where it fails: a skip there would hide a language never tested."""

from __future__ import annotations

import dataclasses
import functools
import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codesynth.errors import SandboxUnavailable
from codesynth.languages import BUILTIN, toolchain
from codesynth.records import Job, Limits, Status
from codesynth.sandbox.protocol import Sandbox
from tests.conftest import BACKENDS, REQUIRE_DOCKER, Run, in_ci, open_or_skip
from tests.sandbox.language_programs import BROKEN, BROKEN_LINE, CORRECT, HOSTILE, LOOP, WRONG

LANGUAGES = sorted(CORRECT)
# The JVM and tsc need a few seconds of one core to build; the job's limits include the build.
LIMITS = Limits(timeout=30.0, memory_mb=1024, max_processes=64, file_size_mb=8,
                max_output=4096)
CASES = [{"input": "1 2\n", "output": "3\n"}, {"input": "5 7", "output": "12"},
         {"input": "-4 4\n", "output": "0"}]


@functools.cache
def _toolchain(language: str) -> str | None:
    return toolchain(BUILTIN[language])


def needs(language: str) -> str:
    """The toolchain's description; skip (fail under CI) when it is absent."""
    found = _toolchain(language)
    if found is None:
        message = f"the {language} toolchain ({', '.join(BUILTIN[language].binaries)}) is " \
                  "not installed: apt-get install -y nodejs node-typescript g++ golang-go " \
                  "rustc default-jdk-headless"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    return found


def _languages_image() -> str:
    """The docker runner image with the toolchains (``codesynth sandbox build
    --languages``); skip without it, except where docker is required (CI)."""
    from codesynth.sandbox import images
    from codesynth.sandbox.container import connect

    try:
        client = connect()
    except Exception as exc:  # noqa: BLE001 - no engine: open_or_skip says why
        return f"unavailable: {exc}"
    try:
        return str(images.ensure_languages_runner(client))
    except SandboxUnavailable as exc:
        if REQUIRE_DOCKER:
            pytest.fail(str(exc))
        pytest.skip(str(exc))


def language_box(limits: Limits) -> Any:
    """A module's ``box`` fixture: each backend in turn (docker with the toolchains' image),
    two workers, ``limits`` by default."""

    @pytest.fixture(scope="module", params=BACKENDS)
    def box(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
        options: dict[str, object] = {}
        if request.param == "docker":
            options["image"] = _languages_image()
        sandbox = open_or_skip(request.param, workers=2, limits=limits, **options)
        yield sandbox
        sandbox.close()

    return box


box = language_box(LIMITS)


def stdio(language: str, program: str, cases: list[dict[str, str]] = CASES,
          job_id: str = "j") -> Job:
    return Job(id=job_id, code=program, tests=cases, test_style="stdio", language=language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_correct_program_passes(box: Sandbox, language: str) -> None:
    found = needs(language)
    e = box.run(stdio(language, CORRECT[language]))
    assert e.status is Status.PASSED, (e.reason, e.stderr)
    assert [(t.name, t.outcome) for t in e.tests] == [
        ("case 0", "passed"), ("case 1", "passed"), ("case 2", "passed")]
    # the toolchain the trace ran with (the image's own in docker)
    assert e.runtime == found if e.backend == "local" else e.runtime.startswith(f"{language}: ")


@pytest.mark.parametrize("language", LANGUAGES)
def test_wrong_program_fails_per_case(box: Sandbox, language: str) -> None:
    needs(language)
    e = box.run(stdio(language, WRONG[language]))
    assert e.status is Status.FAILED
    assert [t.outcome for t in e.tests] == ["failed", "failed", "failed"]
    assert e.tests[0].message == "expected '3\\n', got '-1\\n'"
    assert e.exception is not None and e.exception.type == "WrongAnswer"


@pytest.mark.parametrize("language", LANGUAGES)
def test_compile_error_is_error_with_message_and_line(box: Sandbox, language: str) -> None:
    needs(language)
    e = box.run(stdio(language, BROKEN[language]))
    assert e.status is Status.ERROR, e.reason
    assert e.tests == ()  # no case ran
    assert e.exception is not None and e.exception.type == "CompileError"
    assert e.exception.line == BROKEN_LINE, e.exception.traceback
    assert e.exception.message and e.exception.message in e.reason
    assert f"line {BROKEN_LINE}" in e.reason
    assert e.exception.traceback  # the compiler's whole output


@pytest.mark.parametrize("language", LANGUAGES)
def test_infinite_loop_times_out(box: Sandbox, language: str) -> None:
    needs(language)
    limits = dataclasses.replace(LIMITS, timeout=10.0, cpu_time=6.0)
    e = box.run(stdio(language, LOOP[language], CASES[:1]), limits)
    assert e.status is Status.TIMEOUT, (e.reason, e.stderr)
    assert e.limit in ("cpu", "wall", "backstop")


@pytest.mark.parametrize("language", LANGUAGES)
def test_hostile_program_never_passes(box: Sandbox, language: str) -> None:
    """It forges evidence and hunts for the expected outputs everywhere in its job: they are
    not there (the runner keeps them), so it prints what it could only guess."""
    needs(language)
    secrets_ = [f"SECRET-{secrets.token_hex(8)}" for _ in range(3)]
    cases = [{"input": f"case {i}\n", "output": s + "\n"} for i, s in enumerate(secrets_)]
    e = box.run(stdio(language, HOSTILE[language], cases))
    assert e.status is Status.FAILED, (e.reason, e.stderr)
    assert [t.outcome for t in e.tests] == ["failed"] * 3
    for test in e.tests:
        assert test.message is not None and test.message.endswith("got 'passed\\n'"), \
            test.message
    for secret in secrets_:
        assert secret not in e.stdout + e.stderr


def test_one_build_for_all_cases(box: Sandbox) -> None:
    """N cases cost one compile: 40 cases take far less than 40 builds."""
    needs("cpp")
    if not isinstance(box, _local_type()):
        pytest.skip("measured on the local backend")
    one = box.run(stdio("cpp", CORRECT["cpp"], CASES[:1]))
    many_cases = [{"input": f"{i} {i}", "output": str(2 * i)} for i in range(40)]
    start = time.perf_counter()
    many = box.run(stdio("cpp", CORRECT["cpp"], many_cases))
    elapsed = time.perf_counter() - start
    assert one.passed and many.passed and len(many.tests) == 40
    per_case = sum(t.duration or 0.0 for t in many.tests) / 40
    assert per_case < 0.1 * one.duration  # a case is a run of the binary, not a build
    assert elapsed < one.duration + 40 * per_case + 0.5 * one.duration


def test_verify_command_with_language(run: Run, tmp_path: Path) -> None:
    """``codesynth verify`` takes the ``language`` field: per-case outcomes and the
    toolchain in every record's result."""
    needs("cpp")
    needs("go")
    records = [{"id": "c", "language": "cpp", "code": CORRECT["cpp"], "tests": CASES,
                "test_style": "stdio"},
               {"id": "g", "language": "go", "code": WRONG["go"], "tests": CASES,
                "test_style": "stdio"},
               {"id": "b", "language": "cpp", "code": BROKEN["cpp"], "tests": CASES,
                "test_style": "stdio"}]
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in records))
    code, _, err = run("verify", source, "-o", out, "--timeout", "30", "--workers", "2")
    assert code == 0, err
    results = [json.loads(line)["result"] for line in out.read_text().splitlines()]
    assert [r["status"] for r in results] == ["passed", "failed", "error"]
    assert [t["outcome"] for t in results[1]["tests"]] == ["failed"] * 3
    assert results[0]["runtime"].startswith("cpp: g++")
    assert results[1]["runtime"].startswith("go: go version")
    assert results[2]["exception"]["line"] == BROKEN_LINE


def test_unsupported_style_for_a_language_is_bad_input() -> None:
    with pytest.raises(ValueError, match="'pytest' is for Python programs"):
        Job(id="x", code="fn main() {}", tests="def test_f(): pass", test_style="pytest",
            language="rust")
    with pytest.raises(ValueError, match="'native' is a test block in another language"):
        Job(id="x", code="x = 1", tests="assert x == 1", test_style="native")


def _local_type() -> type:
    from codesynth.sandbox.local import LocalSandbox

    return LocalSandbox


def test_build_out_of_cpu_is_timeout_not_compile_error(box: Sandbox) -> None:
    """A compiler stopped by the CPU-time limit (g++ reports its child's SIGXCPU as an
    internal compiler error) says nothing about the program: timeout."""
    needs("cpp")
    limits = dataclasses.replace(LIMITS, timeout=10.0, cpu_time=0.5)
    program = ("#include <iostream>\nconstexpr long f(long n) { long s = 0; "
               "for (long i = 0; i < n; i++) s += i % 7; return s; }\n"
               "constexpr long v = f(200000000);\nint main() { std::cout << v; }\n")
    e = box.run(stdio("cpp", program, [{"input": "", "output": "1"}]), limits)
    assert e.status is Status.TIMEOUT, e.reason
    assert e.limit == "cpu"
    assert e.exception is None or e.exception.type != "CompileError"


def test_languages_as_an_unprivileged_user(tmp_path: Path) -> None:
    """Without cgroups (an ordinary user: a user namespace, rlimits only) memory is an
    address-space rlimit: the JVM is sized from it and starts; the others build and run."""
    import shutil

    from tests.test_unprivileged import _as_unprivileged, _kernel_allows_unprivileged_userns

    if shutil.which("unshare") is None or not _kernel_allows_unprivileged_userns():
        pytest.skip("needs unshare and unprivileged user namespaces")
    chosen = ["cpp", "java"]
    for language in chosen:
        needs(language)
    tmp_path.chmod(0o777)
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text("".join(json.dumps({"id": name, "language": name, "code": CORRECT[name],
                                          "tests": CASES, "test_style": "stdio"}) + "\n"
                              for name in chosen))
    source.chmod(0o644)
    done = _as_unprivileged(tmp_path, "verify", str(source), "-o", str(out), "--timeout", "30",
                            "--memory-mb", "512")
    assert done.returncode == 0, done.stderr
    results = [json.loads(line)["result"] for line in out.read_text().splitlines()]
    assert [r["status"] for r in results] == ["passed", "passed"], \
        [r["reason"] for r in results]
    assert "rlimits only" in results[0]["isolation"]


def test_eval_stdio_scores_samples_in_any_language(run: Run, tmp_path: Path) -> None:
    """``codesynth eval stdio`` takes each sample's ``language``: a benchmark's stdio
    problems scored for programs in several languages in one file."""
    chosen = ["cpp", "javascript", "rust"]
    for language in chosen:
        needs(language)
    samples = [{"task_id": "sum-two", "completion": program[language], "language": language}
               for language in chosen for program in (CORRECT, WRONG)]
    source = tmp_path / "s.jsonl"
    source.write_text("".join(json.dumps(s) + "\n" for s in samples))
    problems = Path(__file__).parent.parent / "data" / "eval" / "stdio.jsonl"
    code, _, err = run("eval", "stdio", source, "--problems", problems, "-k", "1",
                       "--workers", "2", "--timeout", "30")
    assert code == 0, err
    rows = [json.loads(line) for line in
            (tmp_path / "s.jsonl_results.jsonl").read_text().splitlines()]
    assert [r["passed"] for r in rows] == [True, False] * len(chosen)
    assert [r["trace"]["runtime"].split(":")[0] for r in rows] == \
        [language for language in chosen for _ in range(2)]


MEMORY_HOGS = {  # touch 2 GiB
    "cpp": "#include <vector>\n#include <iostream>\nint main() {\n"
           "    std::vector<char> v(2048L << 20, 1);\n    std::cout << (int) v[12345];\n}\n",
    "go": "package main\n\nimport \"fmt\"\n\nfunc main() {\n    v := make([]byte, 2048<<20)\n"
          "    for i := range v {\n        v[i] = 1\n    }\n    fmt.Println(v[12345])\n}\n",
    "rust": "fn main() {\n    let n = std::io::stdin().lines().count() as u8 + 1;\n"
            "    let v = vec![n; 2048 << 20];\n"
            "    println!(\"{}\", v.iter().map(|&x| x as u64).sum::<u64>() % 7);\n}\n",
}


@pytest.mark.parametrize("language", sorted(MEMORY_HOGS))
def test_memory_hog_is_memory(box: Sandbox, language: str) -> None:
    needs(language)
    limits = dataclasses.replace(LIMITS, memory_mb=256)
    e = box.run(stdio(language, MEMORY_HOGS[language], [{"input": "", "output": "1"}]), limits)
    assert e.status is Status.MEMORY, (e.reason, e.stderr[-500:])


def test_build_starved_of_processes_says_so(box: Sandbox) -> None:
    """``go build`` under 4 processes cannot make its threads: the record is `error`, and
    the reason names the limit rather than blaming the program's code."""
    needs("go")
    limits = dataclasses.replace(LIMITS, max_processes=4)
    e = box.run(stdio("go", CORRECT["go"]), limits)
    assert e.status is Status.ERROR
    assert e.reason.startswith("the build ran out of processes"), e.reason
    assert e.exception is None or e.exception.type != "CompileError"


def test_precompiled_bits_stdcpp(box: Sandbox) -> None:
    """``#include <bits/stdc++.h>`` costs ~1.5 s of CPU to compile here, ~0.2 s with the
    precompiled header codesynth makes (local: once per machine; docker: in the image): a
    program including it builds and passes under a 1 s CPU limit."""
    needs("cpp")
    from codesynth.languages import PCH_DIR, prepare_pch

    if isinstance(box, _local_type()) and prepare_pch() is None:
        pytest.skip(f"{PCH_DIR} cannot be written here: C++ compiles without it")
    program = "#include <bits/stdc++.h>\nint main() { long a, b; std::cin >> a >> b; " \
              "std::cout << a + b; }\n"
    limits = dataclasses.replace(LIMITS, timeout=5.0, cpu_time=1.0)
    e = box.run(stdio("cpp", program), limits)
    assert e.status is Status.PASSED, e.reason
    assert e.cpu_time < 1.0
