"""``codesynth run`` with tasks in several languages (the stdio form), against the scripted
server: solve asks each task's language, verify builds and runs each program, only the
correct ones are exported (one per task and language: dedup is per language), the card
counts them per language, and the translate stage keeps translations that pass the cases.
Also: the seed tasks of the multi-language example pass with their reference programs, and
the new parameters are checked before any request."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import Run, squash
from tests.language_answers import BROKEN, CASES, CORRECT, WRONG, fenced
from tests.openai_server import Request, ScriptedServer

REPO = Path(__file__).resolve().parent.parent
LANGUAGES = ("python", "javascript", "cpp")
INSTRUCTION = "Read two integers from standard input and print their sum."


def reply(request: Request) -> str:
    prompt, seed = request.last_user, int(request.body.get("seed", 0))
    if "Translate the" in prompt:
        return fenced("go", CORRECT["go"] if "a + b" in prompt.split("Program:")[1]
                      else BROKEN["go"])
    language = re.search(r"program in one ```(\w+) block", prompt)
    assert language, prompt
    name = language.group(1)
    return [fenced(name, BROKEN[name]), fenced(name, WRONG[name]), fenced(name, CORRECT[name]),
            "I would read the numbers first."][seed % 4]


def write(tmp_path: Path, base_url: str, extra: str = "") -> Path:
    seeds = tmp_path / "seeds"
    seeds.mkdir(exist_ok=True)
    (seeds / "tasks.jsonl").write_text("".join(json.dumps(
        {"id": f"sum-{language}", "instruction": INSTRUCTION, "language": language,
         "tests": CASES, "test_style": "stdio"}) + "\n" for language in LANGUAGES))
    path = tmp_path / "languages.toml"
    path.write_text(f"""
[run]
name = "languages"
output = "{tmp_path / 'run'}"

[llm]
base_url = "{base_url}"
concurrency = 2

[sandbox]
timeout = 10
memory_mb = 1024

[[generate]]
method = "seed-tasks"
n = 3
seeds = "{seeds}"

[solve]
samples = 4

[export]
formats = ["jsonl"]

[translate]
n = 5
params = {{ target = "go" }}
{extra}""")
    return path


def test_tasks_in_three_languages_are_solved_verified_and_translated(run: Run,
                                                                     tmp_path: Path) -> None:
    with ScriptedServer(reply) as server:
        code, stdout, err = run("run", write(tmp_path, server.base_url), "--json")
    assert code == 0, err
    summary = json.loads(stdout.strip().splitlines()[-1])
    stages = summary["stages"]
    # Four samples per task: a compile error, a wrong output, a correct one, no program.
    # Python's broken program does not parse: no program (no_code) for Python.
    assert stages["solve"]["rejected"] == {"no_code": 4}
    assert stages["verify"]["out"] == 3
    assert stages["verify"]["rejected"] == {"tests_error": 2, "tests_failed": 3}
    folder = tmp_path / "run" / "dataset"
    verified = [json.loads(line) for line in (folder / "verified.jsonl").read_text()
                .splitlines()]
    assert sorted(r["language"] for r in verified) == sorted(LANGUAGES)
    for record in verified:
        assert record["code"] == CORRECT[record["language"]]
        assert record["test_style"] == "stdio" and record["tests"] == CASES
        assert record["result"]["passed"]
    sft = [json.loads(line) for line in (folder / "sft.jsonl").read_text().splitlines()]
    assert {r["response"].split("\n")[0] for r in sft} == {f"```{lang}" for lang in LANGUAGES}
    rows = [json.loads(line) for line in (tmp_path / "run" / "stages").glob("*verify.jsonl")
            .__next__().read_text().splitlines()]
    failed = [r for r in rows if r["reason"] == "tests_failed"]
    assert all("expected '5" in r["result"]["reason"] for r in failed)
    errors = [r for r in rows if r["reason"] == "tests_error"]
    assert all(r["result"]["exception"]["type"] == "CompileError" for r in errors)
    translations = [json.loads(line) for line in (folder / "translations.jsonl").read_text()
                    .splitlines()]
    assert sorted(t["source_language"] for t in translations) == ["cpp", "javascript",
                                                                   "python"]
    assert all(t["language"] == "go" and t["result"]["passed"] for t in translations)
    assert {t["source_id"] for t in translations} == {r["id"] for r in verified}
    card = (folder / "README.md").read_text()
    assert "records per language: cpp 1, javascript 1, python 1" in card
    assert "`translations.jsonl`" in card


@pytest.mark.parametrize(("extra", "message"), [
    ('[[generate]]\nmethod = "self-instruct"\nn = 1\nseeds = "{seeds}"\n'
     'params = {{ language = "cobol" }}\n',
     "[[generate]] #2 params.language: expected one of python, javascript, typescript, cpp"),
])
def test_an_unknown_language_in_a_pipeline_is_refused_before_any_request(
        run: Run, tmp_path: Path, extra: str, message: str) -> None:
    with ScriptedServer(reply) as server:
        path = write(tmp_path, server.base_url)
        text = path.read_text().replace('target = "go"', 'target = "cobol"')
        path.write_text(text.replace("[translate]", extra.format(
            seeds=REPO / "seeds") + "\n[translate]"))
        code, _, err = run("run", path)
        assert server.count == 0
    assert code == 2, err
    assert squash(message) in squash(err)
    assert squash("[translate] params.target: expected one of python") in squash(err)


def test_the_language_seed_tasks_pass_with_their_reference_programs(run: Run,
                                                                    tmp_path: Path) -> None:
    seeds = REPO / "seeds" / "languages" / "tasks.jsonl"
    out = tmp_path / "checked.jsonl"
    code, _, err = run("verify", seeds, "-o", out, "--sandbox", "local", "--memory-mb", "1024")
    assert code == 0, err
    results = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(results) == 15 and {r["language"] for r in results} == set(LANGUAGES)
    assert all(r["result"]["status"] == "passed" for r in results), [
        (r["id"], r["result"]["reason"]) for r in results if not r["result"]["passed"]]
