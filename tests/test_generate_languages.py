"""Generators in every language (the ``stdio`` form), against the scripted OpenAI server with
known answers per language: a correct program is kept with its trace; a wrong output, a
compile error and a reply without a program are rejections, each with its reason. Also the
``translate`` generator end to end, and the new parameters validated before any request.
Runs on the local backend with the host's toolchains (g++, go, node, tsc, rustc, javac)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Run, squash
from tests.language_answers import BROKEN, CASES, CORRECT, WRONG, cases_text, fenced
from tests.openai_server import Request, ScriptedServer

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
OTHER = ("javascript", "typescript", "cpp", "go", "rust", "java")
INSTRUCTIONS = (
    "Read two integers from standard input and print their sum on one line.",
    "Given a pair of whole numbers on a single line, output what adding them gives.",
    "Compute the total of both numbers found in the input and write it out.",
    "Take each value provided as input, combine them by addition, and display the result.",
)


def asked_language(prompt: str) -> str:
    """The language a prompt asks the program in (its ```LANG fence instruction)."""
    match = re.search(r"program in one ```(\w+) block", prompt)
    assert match, prompt
    return match.group(1)


def self_instruct_reply(language: str) -> str:
    """Four tasks: correct, wrong output, compile error, no program."""
    bodies = (fenced(language, CORRECT[language]), fenced(language, WRONG[language]),
              fenced(language, BROKEN[language]), "")
    return "".join(f"{i + 1}. Instruction: {instruction}\nSolution:\n{body}{cases_text()}\n"
                   for i, (instruction, body) in enumerate(zip(INSTRUCTIONS, bodies,
                                                               strict=True)))


def generate(run: Run, server: ScriptedServer, tmp_path: Path, method: str, n: int,
             *extra: str | Path, seeds: Path = SEEDS) -> tuple[list[dict[str, Any]],
                                                              dict[str, Any], list[Any]]:
    out = tmp_path / f"{method}.jsonl"
    code, stdout, stderr = run("generate", method, "--seeds", seeds, "--n", str(n), "-o", out,
                               "--base-url", server.base_url, "--cache",
                               tmp_path / "cache.sqlite", "--json", "--sandbox", "local",
                               "--concurrency", "1", "--memory-mb", "1024",
                               "--max-processes", "64", *extra)
    assert code == 0, stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    log = Path(f"{out}.rejected.jsonl")
    rejections = [json.loads(line) for line in log.read_text().splitlines()] \
        if log.exists() else []
    return records, json.loads(stdout.strip().splitlines()[-1]), rejections


def stdio_record(record: dict[str, Any], language: str) -> None:
    assert record["language"] == language and record["test_style"] == "stdio"
    assert record["tests"] and all(set(c) == {"input", "output"} for c in record["tests"])
    assert record["result"]["passed"] and record["result"]["status"] == "passed"
    assert record["result"]["runtime"].startswith(f"{language}:")


@pytest.mark.parametrize("language", OTHER)
def test_self_instruct_keeps_only_programs_that_pass_in_each_language(
        run: Run, tmp_path: Path, language: str) -> None:
    with ScriptedServer(lambda r: self_instruct_reply(language)) as server:
        records, summary, rejections = generate(
            run, server, tmp_path, "self-instruct", 4, "--param", f"language={language}",
            "--param", "max_requests=1", "--param", "tasks_per_request=4")
        assert "reads its input from standard input" in server.requests[0].last_user
        assert f"```{language}\n" in server.requests[0].last_user  # the worked example
    assert len(records) == 1
    stdio_record(records[0], language)
    assert records[0]["code"] == CORRECT[language] and records[0]["tests"] == CASES
    assert records[0]["instruction"] == INSTRUCTIONS[0]
    assert summary["rejected"] == {"tests_failed": 1, "tests_error": 1, "no_code": 1,
                                   "gave_up": 1}
    by_reason = {r["reason"]: r for r in rejections}
    assert "expected '5" in by_reason["tests_failed"]["message"]
    assert "compile error" in by_reason["tests_error"]["message"]
    assert by_reason["no_code"]["instruction"] == INSTRUCTIONS[3]


def evol_reply(request: Request) -> str:
    prompt = request.last_user
    if "a bit harder" in prompt:
        parent = prompt.split("Task:\n", 1)[1].strip()
        return f"{parent} Read the values from standard input as two integers instead."
    language = asked_language(prompt)
    pick = sum(map(ord, prompt)) % 4
    body = (CORRECT, WRONG, BROKEN)[pick][language] if pick < 3 else None
    return (fenced(language, body) if body else "The program reads both numbers.\n") \
        + cases_text()


def test_evol_instruct_in_go_verifies_each_answer(run: Run, tmp_path: Path) -> None:
    with ScriptedServer(evol_reply) as server:
        records, summary, _ = generate(run, server, tmp_path, "evol-instruct", 30,
                                       "--param", "language=go", "--param", "rounds=1",
                                       "--allow-empty")
    assert records, summary
    for record in records:
        stdio_record(record, "go")
        assert record["code"] == CORRECT["go"]
    rejected = summary["rejected"]
    assert rejected.get("tests_failed", 0) >= 1 and rejected.get("tests_error", 0) >= 1
    assert rejected.get("no_code", 0) >= 1


def snippet_reply(request: Request) -> str:
    prompt = request.last_user
    problem = "[Problem Description]\nRead two integers and print their sum.\n[Solution]\n"
    if "as a JavaScript (Node.js) program" in prompt:
        return problem + fenced("javascript", CORRECT["javascript"]) + cases_text()
    if "as a Go program" in prompt:
        return problem + fenced("go", CORRECT["go"]) + cases_text()
    if "as a C++17 program" in prompt:
        return problem + fenced("cpp", WRONG["cpp"]) + cases_text()
    return ("[Problem Description]\nWrite `head(items, n)` returning the first n items.\n"
            "[Solution]\n```python\ndef head(items, n):\n    return items[:n]\n```\n")


@pytest.mark.parametrize("extra", [(), ("--param", "language=snippet")])
def test_oss_instruct_writes_in_the_snippets_language_by_default(
        run: Run, tmp_path: Path, extra: tuple[str, ...]) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for name in ("rate_limiter.js", "intervals.cpp", "csv.go", "retry.rb"):
        source = next((SEEDS / "snippets").rglob(name))
        (seeds / name).write_text(source.read_text())
    with ScriptedServer(snippet_reply) as server:
        records, summary, _ = generate(run, server, tmp_path, "oss-instruct", 8,
                                       "--param", "max_requests=12", "--param", "per_file=3",
                                       *extra, seeds=seeds)
    languages = {r["language"] for r in records}
    assert languages == {"javascript", "go", "python"}  # ruby has no toolchain: Python
    for record in records:
        params = record["origin"]["params"]
        if record["language"] in ("javascript", "go"):
            stdio_record(record, record["language"])
            assert record["code"] == CORRECT[record["language"]]
            assert params["snippet_language"] == record["language"]
            assert "language_fallback" not in params
        else:
            assert record["test_style"] == "assert" and record["code"].startswith("def head")
            assert params["snippet_language"] == "ruby"
            assert params["language_fallback"] == ("ruby is not a language codesynth can "
                                                   "run: the program is in Python")
    assert summary["rejected"].get("tests_failed", 0) >= 1  # the C++ ones are wrong


def test_oss_instruct_in_python_writes_python_for_every_snippet(run: Run,
                                                                tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "rate_limiter.js").write_text(
        next((SEEDS / "snippets").rglob("rate_limiter.js")).read_text())
    with ScriptedServer(snippet_reply) as server:
        records, _, _ = generate(run, server, tmp_path, "oss-instruct", 1,
                                 "--param", "language=python", seeds=seeds)
        assert "solution in Python" in server.requests[0].last_user
    assert records[0]["language"] == "python" and records[0]["code"].startswith("def head")
    assert records[0]["origin"]["params"]["snippet_language"] == "javascript"
    assert "language_fallback" not in records[0]["origin"]["params"]


def align_reply(request: Request) -> str:
    prompt = request.last_user
    if "List the programming concepts" in prompt:
        return "closures, counters"
    if "Write one self-contained programming task for a JavaScript" in prompt:
        return f"Read two integers from standard input and print their sum ({len(prompt)})."
    seed = int(request.body.get("seed", 0))
    body = (CORRECT, WRONG, BROKEN)[seed % 3]["javascript"]
    return fenced("javascript", body) + (cases_text() if seed % 4 != 3 else "")


def test_self_align_in_javascript_runs_each_response(run: Run, tmp_path: Path) -> None:
    with ScriptedServer(align_reply) as server:
        records, summary, _ = generate(run, server, tmp_path, "self-align", 2,
                                       "--param", "language=javascript", "--param",
                                       "samples=4", "--param", "keep=all")
    assert len(records) == 2
    for record in records:
        stdio_record(record, "javascript")
        assert record["code"] == CORRECT["javascript"]
    assert summary["rejected"].get("tests_failed", 0) >= 1
    assert summary["rejected"].get("tests_error", 0) >= 1
    assert summary["rejected"].get("no_tests", 0) >= 1


def translate_reply(request: Request) -> str:
    program = re.findall(r"Program:\n```python\n(.*?)```", request.last_user, re.DOTALL)
    assert program, request.last_user
    if "a + b" in program[0]:
        return "Here it is:\n" + fenced("rust", CORRECT["rust"])
    if "a * b" in program[0]:
        return fenced("rust", WRONG["rust"])
    if "a - b" in program[0]:
        return "I cannot translate this."
    return fenced("rust", BROKEN["rust"])


def test_translate_keeps_translations_that_pass_the_source_cases(run: Run,
                                                                 tmp_path: Path) -> None:
    product = [{"input": "2 3\n", "output": "6\n"}, {"input": "10 -4\n", "output": "-40\n"}]
    difference = [{"input": "2 3\n", "output": "-1\n"}]
    rows = [
        {"id": "sum", "instruction": "Add.", "language": "python", "code": CORRECT["python"],
         "tests": CASES, "test_style": "stdio"},
        {"id": "product", "instruction": "Multiply.", "language": "python",
         "code": CORRECT["python"].replace("a + b", "a * b"), "tests": product,
         "test_style": "stdio"},
        {"id": "difference", "instruction": "Subtract.", "language": "python",
         "code": WRONG["python"], "tests": difference, "test_style": "stdio"},
        {"id": "asserts", "instruction": "f.", "language": "python",
         "code": "def f():\n    return 1\n", "tests": "def test_f():\n    assert f() == 1\n",
         "test_style": "pytest"},
        {"id": "lies", "instruction": "Add.", "language": "python",
         "code": "print(0)\n", "tests": CASES, "test_style": "stdio"},
        {"id": "already", "instruction": "Add.", "language": "rust", "code": CORRECT["rust"],
         "tests": CASES, "test_style": "stdio"},
        {"id": "compile", "instruction": "Echo.", "language": "python",
         "code": "print(input())\n", "tests": [{"input": "x\n", "output": "x\n"}],
         "test_style": "stdio"},
    ]
    seeds = tmp_path / "verified.jsonl"
    seeds.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with ScriptedServer(translate_reply) as server:
        records, summary, rejections = generate(run, server, tmp_path, "translate", 10,
                                                "--param", "target=rust", seeds=seeds)
        prompts = [r.last_user for r in server.requests]
    assert len(records) == 1
    [record] = records
    stdio_record(record, "rust")
    assert record["code"] == CORRECT["rust"] and record["tests"] == CASES
    assert (record["source_id"], record["source_language"], record["target_language"]) == (
        "sum", "python", "rust")
    assert record["origin"]["parent_ids"] == ["sum"]
    assert summary["rejected"] == {"tests_failed": 1, "no_code": 1, "tests_untranslatable": 1,
                                   "source_failed": 1, "same_language": 1, "tests_error": 1}
    assert {r["source"] for r in rejections if r["reason"] == "tests_untranslatable"} == {
        "asserts"}
    assert {r["source"] for r in rejections if r["reason"] == "source_failed"} == {"lies"}
    assert len(prompts) == 5  # nothing asked for the skipped records
    assert all("into Rust" in p for p in prompts)


@pytest.mark.parametrize(("method", "param", "value"), [
    ("self-instruct", "language", "cobol"), ("evol-instruct", "language", "c"),
    ("oss-instruct", "language", "ruby"), ("self-align", "language", "Go"),
    ("translate", "target", "cobol")])
def test_a_language_that_is_not_registered_is_refused_before_any_request(
        run: Run, tmp_path: Path, method: str, param: str, value: str) -> None:
    with ScriptedServer(lambda r: "x") as server:
        code, _, err = run("generate", method, "--seeds", SEEDS, "--n", "1", "-o",
                           tmp_path / "o.jsonl", "--base-url", server.base_url,
                           "--param", f"{param}={value}")
        assert server.count == 0
    assert code == 2
    assert squash(f"params.{param}: expected one of python, javascript") in squash(err)


_LINE = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")),
                max_size=20).filter(
    # fences strip trailing whitespace (stdio compares without it); a line that is itself
    # an "Input:"/"Output:" label is read as one
    lambda t: "`" not in t and "~" not in t and t.strip() and t == t.rstrip()
    and not re.match(r"[ \t*#>-]*(example\s+|sample\s+)?(input|output)", t, re.I))


@settings(suppress_health_check=[HealthCheck.too_slow])  # (a filtered strategy on a busy VM)
@given(st.lists(st.tuples(st.lists(_LINE, min_size=1, max_size=3),
                          st.lists(_LINE, min_size=1, max_size=3)), min_size=1, max_size=4))
def test_cases_written_as_blocks_are_read_back(pairs: list[tuple[list[str], list[str]]]
                                               ) -> None:
    from codesynth.generators.polyglot import parse_cases, split_answer

    cases = [{"input": "".join(f"{x}\n" for x in i), "output": "".join(f"{x}\n" for x in o)}
             for i, o in pairs]
    text = fenced("cpp", CORRECT["cpp"]) + cases_text(cases)
    assert parse_cases(text) == cases
    assert split_answer(text, "cpp") == (CORRECT["cpp"], cases)


def test_an_input_without_its_output_is_dropped() -> None:
    from codesynth.generators.polyglot import parse_cases

    text = "Input:\n```\n1\n```\nInput: 2\nOutput: 3\nOutput:\n```\n9\n```\n"
    assert parse_cases(text) == [{"input": "2\n", "output": "3\n"}]


def test_the_worked_examples_shown_to_the_model_pass_in_every_language() -> None:
    """A prompt's example program must itself be right: each shot, in each language, runs
    on cases of its own expression in the sandbox and passes."""
    from codesynth.generators.polyglot import EXAMPLES, SHOTS, few_shot
    from codesynth.records import Job, Limits
    from codesynth.sandbox import open_sandbox

    values = {"n * 2": lambda n: n * 2, "n - 3": lambda n: n - 3,
              "n * n * n": lambda n: n * n * n}
    jobs = []
    for language in EXAMPLES:
        messages = few_shot(language, "Task: {instruction}", "Read n.")
        assert len(messages) == 2 * len(SHOTS) + 1 and messages[-1]["content"] == "Task: Read n."
        for index, (_, expression) in enumerate(SHOTS):
            program = messages[2 * index + 1]["content"].split("\n", 1)[1].rsplit("```", 1)[0]
            cases = [{"input": f"{n}\n", "output": f"{values[expression](n)}\n"}
                     for n in (4, -3, 0)]
            jobs.append(Job(id=f"{language}-{index}", code=program, tests=cases,
                            test_style="stdio", language=language))
    with open_sandbox("local") as box:
        results = list(box.run_many(jobs, Limits(timeout=30, memory_mb=1024,
                                                 max_processes=64)))
    assert [(j.id, r.status.value) for j, r in zip(jobs, results, strict=True)] == [
        (j.id, "passed") for j in jobs], [r.reason for r in results]


def test_several_languages_take_turns_by_request(run: Run, tmp_path: Path) -> None:
    def reply(request: Request) -> str:
        match = re.search(r"give the solution in a ```(\w+) block", request.last_user)
        assert match, request.last_user
        return self_instruct_reply(match.group(1))

    with ScriptedServer(reply) as server:
        records, summary, _ = generate(
            run, server, tmp_path, "self-instruct", 2, "--param", "languages=javascript, cpp",
            "--param", "max_requests=2", "--param", "tasks_per_request=4",
            "--param", "similarity=1")
    assert sorted(r["language"] for r in records) == ["cpp", "javascript"]
    for record in records:
        stdio_record(record, record["language"])
        assert record["code"] == CORRECT[record["language"]]
    assert summary["rejected"] == {"tests_failed": 2, "tests_error": 2, "no_code": 2}


def test_a_languages_list_is_checked_in_both_forms() -> None:
    from codesynth.errors import UserError
    from codesynth.generators.params import check_params

    assert check_params("self-align", {"languages": ["go", "cpp"]}, "p:") == {
        "languages": ["go", "cpp"]}
    assert check_params("oss-instruct", {"languages": "go, rust"}, "p:") == {
        "languages": ["go", "rust"]}
    for bad in (["go", "cobol"], [], "", [1], {"go": 1}):
        with pytest.raises(UserError, match=r"p: params.languages: expected a non-empty list|"
                                            r"p: params.languages: expected a list"):
            check_params("evol-instruct", {"languages": bad}, "p:")
