# ruff: noqa: E501 - programs in other languages keep their own line lengths
"""``translate`` of records whose tests are equality assertions (``assert``, HumanEval's
``check``), end to end: the real ``openai`` client against the scripted server, the real
sandbox (local backend, the host's toolchains). A right translation passes the source's
Python assertions run in the target (expected values in the judge) and keeps the source's
id; a wrong one, or one that leaves early, is a rejection; tests that do not translate are
counted skips with their line; the model is given the declaration the tests need."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import Run
from tests.language_answers import fenced
from tests.openai_server import Request, ScriptedServer

TARGETS = ("rust", "go", "javascript", "cpp", "java", "typescript")
NAMES = {"rust": "Rust", "go": "Go", "javascript": "JavaScript (Node.js)", "cpp": "C++17",
         "java": "Java", "typescript": "TypeScript (Node.js)"}

SOURCES = [
    {"id": "add-all", "instruction": "Add k to every item.", "language": "python",
     "code": "def add_all(xs: list[int], k: int) -> list[int]:\n    return [x + k for x in xs]\n",
     "tests": "assert add_all([1, 2, 3], 1) == [2, 3, 4]\nassert add_all([], 5) == []\n",
     "test_style": "assert", "entry_point": "add_all",
     "origin": {"method": "self-instruct", "model": "m", "template_hash": "t",
                "parent_ids": [], "round": 0, "seed": 0, "params": {}}},
    # HumanEval's form; the ints in [1, 2] are floats by the function's annotation
    {"id": "HumanEval/mean", "instruction": "The mean.", "language": "python",
     "code": "from typing import List\n\n\ndef mean(xs: List[float]) -> float:\n    return sum(xs) / len(xs)\n",
     "tests": "METADATA = {}\n\n\ndef check(candidate):\n    assert abs(candidate([1, 2]) - 1.5) < 1e-6\n    assert candidate([4.0]) == 4\n",
     "test_style": "humaneval", "entry_point": "mean"},
    {"id": "negate", "instruction": "Negate.", "language": "python",
     "code": "def negate(x):\n    return -x\n", "tests": "assert negate(3) == -3\nassert negate(-2) == 2\n",
     "test_style": "assert", "entry_point": "negate"},
    {"id": "loop", "instruction": "Identity.", "language": "python",
     "code": "def same(x):\n    return x\n", "tests": "for i in range(3):\n    assert same(i) == i\n",
     "test_style": "assert", "entry_point": "same"},
    {"id": "sets", "instruction": "Size.", "language": "python",
     "code": "def size(s):\n    return len(s)\n", "tests": "assert size({1, 2}) == 2\n",
     "test_style": "assert", "entry_point": "size"},
    {"id": "pytest", "instruction": "One.", "language": "python",
     "code": "def one():\n    return 1\n", "tests": "def test_one():\n    assert one() == 1\n",
     "test_style": "pytest", "entry_point": "one"},
    {"id": "liar", "instruction": "Twice.", "language": "python",
     "code": "def twice(x):\n    return x\n", "tests": "assert twice(2) == 4\n",
     "test_style": "assert", "entry_point": "twice"},
]

TRANSLATIONS: dict[str, dict[str, str]] = {
    "rust": {
        "add_all": "fn add_all(xs: Vec<i64>, k: i64) -> Vec<i64> {\n    xs.into_iter().map(|x| x + k).collect()\n}\n",
        "mean": "fn mean(xs: Vec<f64>) -> f64 {\n    xs.iter().sum::<f64>() / xs.len() as f64\n}\n",
        "negate": "fn negate(x: i64) -> i64 {\n    x\n}\n",
        "twice": "fn twice(x: i64) -> i64 {\n    2 * x\n}\n"},
    "go": {
        "add_all": "func add_all(xs []int, k int) []int {\n\tout := []int{}\n\tfor _, x := range xs {\n\t\tout = append(out, x+k)\n\t}\n\treturn out\n}\n",
        "mean": "func mean(xs []float64) float64 {\n\ts := 0.0\n\tfor _, x := range xs {\n\t\ts += x\n\t}\n\treturn s / float64(len(xs))\n}\n",
        "negate": "func negate(x int) int {\n\treturn x\n}\n",
        "twice": "func twice(x int) int {\n\treturn 2 * x\n}\n"},
    "javascript": {
        "add_all": "function add_all(xs, k) {\n  return xs.map((x) => x + k);\n}\n",
        "mean": "function mean(xs) {\n  return xs.reduce((a, b) => a + b, 0) / xs.length;\n}\n",
        # leaves before the result is written: not a pass
        "negate": "function negate(x) {\n  console.log('passed');\n  process.exit(0);\n}\n",
        "twice": "function twice(x) {\n  return 2 * x;\n}\n"},
    "typescript": {
        "add_all": "function add_all(xs: number[], k: number): number[] {\n  return xs.map((x) => x + k);\n}\n",
        "mean": "function mean(xs: number[]): number {\n  return xs.reduce((a, b) => a + b, 0) / xs.length;\n}\n",
        "negate": "function negate(x: number): number {\n  return x;\n}\n",
        "twice": "function twice(x: number): number {\n  return 2 * x;\n}\n"},
    "cpp": {
        "add_all": "#include <vector>\n\nstd::vector<long long> add_all(std::vector<long long> xs, long long k) {\n    for (auto& x : xs) x += k;\n    return xs;\n}\n",
        "mean": "#include <vector>\n\ndouble mean(std::vector<double> xs) {\n    double s = 0;\n    for (double x : xs) s += x;\n    return s / xs.size();\n}\n",
        "negate": "long long negate(long long x) {\n    return x;\n}\n",
        "twice": "long long twice(long long x) {\n    return 2 * x;\n}\n"},
    "java": {
        "add_all": "import java.util.*;\n\npublic class Solution {\n    public static List<Long> add_all(List<Long> xs, long k) {\n        List<Long> out = new ArrayList<>();\n        for (long x : xs) out.add(x + k);\n        return out;\n    }\n}\n",
        "mean": "import java.util.*;\n\npublic class Solution {\n    public static double mean(List<Double> xs) {\n        double s = 0;\n        for (double x : xs) s += x;\n        return s / xs.size();\n    }\n}\n",
        "negate": "public class Solution {\n    public static long negate(long x) {\n        return x;\n    }\n}\n",
        "twice": "public class Solution {\n    public static long twice(long x) {\n        return 2 * x;\n    }\n}\n"},
}
DECLARATIONS_OF_SHOTS = {"rust": "fn scale(xs: Vec<i64>, k: i64) -> Vec<i64>",
                         "go": "func scale(xs []int, k int) []int",
                         "javascript": "function scale(xs, k)",
                         "typescript": "function scale(xs: number[], k: number): number[]",
                         "cpp": "std::vector<long long> scale(std::vector<long long> xs, long long k)",
                         "java": "public static List<Long> scale(List<Long> xs, long k)"}
DECLARATIONS = {
    "rust": ("fn add_all(xs: Vec<i64>, k: i64) -> Vec<i64>", "fn mean(xs: Vec<f64>) -> f64"),
    "go": ("func add_all(xs []int, k int) []int", "func mean(xs []float64) float64"),
    "javascript": ("function add_all(xs, k)", "function mean(xs)"),
    "typescript": ("function add_all(xs: number[], k: number): number[]",
                   "function mean(xs: number[]): number"),
    "cpp": ("std::vector<long long> add_all(std::vector<long long> xs, long long k)",
            "double mean(std::vector<double> xs)"),
    "java": ("public static List<Long> add_all(List<Long> xs, long k)",
             "public static double mean(List<Double> xs)"),
}


def reply_for(target: str):  # type: ignore[no-untyped-def]
    def reply(request: Request) -> str:
        prompt = request.last_user
        assert f"into {NAMES[target]}." in prompt, prompt
        code = prompt.rsplit("Code:\n```python\n", 1)[1]
        name = re.match(r"(?:from .*\n+)?def (\w+)", code)
        assert name, code
        return "Here it is:\n" + fenced(target, TRANSLATIONS[target][name.group(1)])
    return reply


def translate(run: Run, tmp_path: Path, target: str, rows: list[dict[str, Any]], reply: Any
              ) -> tuple[list[dict[str, Any]], dict[str, Any], list[dict[str, Any]], list[Any]]:
    seeds = tmp_path / "verified.jsonl"
    seeds.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out.jsonl"
    with ScriptedServer(reply) as server:
        code, stdout, stderr = run(
            "generate", "translate", "--seeds", seeds, "--n", "10", "-o", out, "--base-url",
            server.base_url, "--cache", tmp_path / "cache.sqlite", "--json", "--sandbox",
            "local", "--concurrency", "1", "--memory-mb", "1024", "--max-processes", "64",
            "--timeout", "30", "--allow-empty", "--param", f"target={target}")
        requests = list(server.requests)
    assert code == 0, stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    log = Path(f"{out}.rejected.jsonl")
    rejections = [json.loads(line) for line in log.read_text().splitlines()] \
        if log.exists() else []
    return records, json.loads(stdout.strip().splitlines()[-1]), rejections, requests


@pytest.mark.parametrize("target", TARGETS)
def test_assert_form_records_are_translated_and_verified_in_the_target(
        run: Run, tmp_path: Path, target: str) -> None:
    records, summary, rejections, requests = translate(run, tmp_path, target, SOURCES,
                                                       reply_for(target))
    prompts = [r.last_user for r in requests]
    by_source = {r["source_id"]: r for r in records}
    assert set(by_source) == {"add-all", "HumanEval/mean"}, rejections
    for source in SOURCES[:2]:
        record = by_source[source["id"]]
        assert record["language"] == record["target_language"] == target
        assert record["source_language"] == "python"
        assert record["test_style"] == source["test_style"]
        assert record["entry_point"] == source["entry_point"]
        assert record["code"] == TRANSLATIONS[target][source["entry_point"]]
        assert record["source_code"] == source["code"]
        assert record["tests"].endswith(source["tests"])  # the typed stub before them
        assert record["origin"]["parent_ids"] == [source["id"]]
        result = record["result"]
        assert result["passed"] and result["status"] == "passed"
        assert result["runtime"].startswith(f"{target}:")
        assert len(result["tests"]) == 2 and all(t["outcome"] == "passed" for t in result["tests"])
    assert by_source["add-all"]["source_origin"]["method"] == "self-instruct"
    assert by_source["HumanEval/mean"]["tests"].startswith("def mean(xs: List[float]) -> float: ...")
    # the wrong translation fails its tests and is not emitted; the others are counted skips
    assert summary["rejected"] == {"tests_failed": 1, "tests_untranslatable": 3,
                                   "source_failed": 1}, rejections
    failed = next(r for r in rejections if r["reason"] == "tests_failed")
    assert failed["source"] == "negate"
    skipped = {r["source"]: r["why"] for r in rejections if r["reason"] == "tests_untranslatable"}
    assert set(skipped) == {"loop", "sets", "pytest"}
    assert "line 1: a For statement" in skipped["loop"]
    assert "set literal" in skipped["sets"]
    assert "'pytest' tests are not equality assertions" in skipped["pytest"]
    assert next(r for r in rejections if r["reason"] == "source_failed")["source"] == "liar"
    # asked for the four translatable sources only, each with the declaration the tests need,
    # after two worked examples in the target as earlier turns
    assert len(prompts) == 4
    for request in requests:
        shots = request.body["messages"][:-1]
        assert [m["role"] for m in shots] == ["user", "assistant"] * 2
        assert shots[1]["content"].startswith(f"```{target}\n")
        assert DECLARATIONS_OF_SHOTS[target] in shots[0]["content"]
    for declaration in DECLARATIONS[target]:
        assert sum(declaration in p for p in prompts) == 1, (declaration, prompts)


def test_a_literal_the_target_cannot_express_is_a_counted_skip(run: Run, tmp_path: Path) -> None:
    rows = [{"id": "keys", "instruction": "Count.", "language": "python",
             "code": "def count(d):\n    return len(d)\n",
             "tests": "assert count({(1, 2): 3}) == 1\n", "test_style": "assert",
             "entry_point": "count"}]
    records, summary, rejections, requests = translate(run, tmp_path, "javascript", rows,
                                                       lambda r: "x")
    assert records == [] and requests == []
    assert summary["rejected"] == {"tests_unrenderable": 1}
    assert "javascript: a dict whose keys are not strings or numbers" in rejections[0]["why"]


def test_the_worked_examples_shown_to_the_model_pass_in_every_language() -> None:
    """The example functions shown to the model, in each language, pass their assertions."""
    from codesynth.generators.translate_asserts import EXAMPLE_TESTS, EXAMPLES
    from codesynth.records import Job, Limits
    from codesynth.sandbox import open_sandbox

    jobs = [Job(id=f"{name}-{language}", code=code, tests=EXAMPLE_TESTS[name],
                test_style="assert", entry_point=name, language=language)
            for name, versions in EXAMPLES.items() for language, code in versions.items()]
    with open_sandbox("local") as box:
        results = list(box.run_many(jobs, Limits(timeout=30, memory_mb=1024,
                                                 max_processes=64)))
    assert [(j.id, r.status.value) for j, r in zip(jobs, results, strict=True)] == [
        (j.id, "passed") for j in jobs], [r.reason for r in results]


def test_the_pipeline_translates_verified_assert_form_records(run: Run, tmp_path: Path) -> None:
    """``codesynth run``: Python tasks with assertions solved and verified, then the
    ``[translate]`` stage writes them in Go; the wrong translation is not in the dataset."""
    tasks = [{"id": "add", "instruction": "Write add_ten(a, b): a + b + 10.", "language": "python",
              "tests": "assert add_ten(2, 3) == 15\nassert add_ten(-1, 1) == 10\n",
              "test_style": "assert", "entry_point": "add_ten"},
             {"id": "neg", "instruction": "Write neg(x).", "language": "python",
              "tests": "assert neg(4) == -4\n", "test_style": "assert", "entry_point": "neg"}]
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "tasks.jsonl").write_text("".join(json.dumps(t) + "\n" for t in tasks))

    def reply(request: Request) -> str:
        prompt = request.last_user
        if "Translate the" in prompt:
            assert "func add_ten(a int, b int) int" in prompt or "func neg(x int) int" in prompt
            return fenced("go", "func add_ten(a int, b int) int {\n\treturn a + b + 10\n}\n"
                          if "def add_ten" in prompt else "func neg(x int) int {\n\treturn x\n}\n")
        if "add_ten(a, b)" in prompt:
            return "```python\ndef add_ten(a, b):\n    return a + b + 10\n```\n"
        return "```python\ndef neg(x):\n    return -x\n```\n"

    path = tmp_path / "p.toml"
    with ScriptedServer(reply) as server:
        path.write_text(f"""
[run]
name = "asserts"
output = "{tmp_path / 'run'}"

[llm]
base_url = "{server.base_url}"

[sandbox]
timeout = 30
memory_mb = 1024

[[generate]]
method = "seed-tasks"
n = 2
seeds = "{seeds}"

[solve]
samples = 1

[export]
formats = ["jsonl"]

[translate]
n = 5
params = {{ target = "go" }}
""")
        code, stdout, err = run("run", path, "--json")
    assert code == 0, err
    folder = tmp_path / "run" / "dataset"
    verified = [json.loads(line) for line in (folder / "verified.jsonl").read_text().splitlines()]
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert sorted(r["entry_point"] for r in verified) == ["add_ten", "neg"], summary
    translations = [json.loads(line) for line in (folder / "translations.jsonl").read_text()
                    .splitlines()]
    source = next(r for r in verified if r["entry_point"] == "add_ten")
    assert [(t["source_id"], t["language"], t["test_style"]) for t in translations] == [
        (source["id"], "go", "assert")]
    assert translations[0]["result"]["passed"] and translations[0]["tests"] == tasks[0]["tests"]
    assert summary["stages"]["translate"]["rejected"] == {"tests_failed": 1}


BODIES = {
    "pick": {
        "rust": "{\n    let _ = pair;\n    d.get(&key).copied()\n}\n",
        "go": "{\n\t_ = pair\n\tif v, ok := d[key]; ok {\n\t\treturn &v\n\t}\n\treturn nil\n}\n",
        "java": "{\n        return d.get(key);\n    }\n",
        "cpp": "{\n    auto it = d.find(key);\n    if (it == d.end()) return std::nullopt;\n    return it->second;\n}\n",
        "typescript": "{\n  return key in d ? d[key] : null;\n}\n",
        "javascript": "{\n  return key in d ? d[key] : null;\n}\n"},
    "split": {
        "rust": "{\n    let n = n as usize;\n    (xs[..n].to_vec(), xs[n..].to_vec())\n}\n",
        "go": "{\n\treturn xs[:n], xs[n:]\n}\n",
        "java": "{\n        return new ArrayList<Object>(List.of(xs.subList(0, (int) n), xs.subList((int) n, xs.size())));\n    }\n",
        "cpp": "{\n    return {std::vector<std::string>(xs.begin(), xs.begin() + n), std::vector<std::string>(xs.begin() + n, xs.end())};\n}\n",
        "typescript": "{\n  return [xs.slice(0, n), xs.slice(n)];\n}\n",
        "javascript": "{\n  return [xs.slice(0, n), xs.slice(n)];\n}\n"},
}
HEADERS = {"rust": "use std::collections::HashMap;\n\n",
           "cpp": "#include <map>\n#include <optional>\n#include <string>\n#include <tuple>\n#include <vector>\n\n",
           "go": "package main\n\n"}
SHAPES = {
    "pick": ("from typing import Optional\n\n\ndef pick(d: dict[str, int], key: str, pair: tuple[int, str]) -> Optional[int]:\n    return d.get(key)\n",
             'assert pick({"a": 1, "b": 2}, "a", (1, "x")) == 1\nassert pick({}, "b", (2, "y")) is None\n'),
    "split": ("def split(xs, n):\n    return xs[:n], xs[n:]\n",
              'assert split(["a", "b", "c"], 1) == (["a"], ["b", "c"])\nassert split([], 0) == ([], [])\n'),
}


@pytest.mark.parametrize("target", TARGETS)
def test_the_declaration_given_to_the_model_takes_the_tests_literals(target: str) -> None:
    """A function written with exactly the declaration the prompt asks for (maps, tuples,
    optionals, lists of strings, several results) builds with the driver and passes."""
    from codesynth.generators.signatures import declaration
    from codesynth.generators.translate_asserts import prepare, target_job
    from codesynth.records import Job, Limits
    from codesynth.sandbox import open_sandbox

    jobs = []
    for name, (code, tests) in SHAPES.items():
        source = Job(id=name, code=code, tests=tests, test_style="assert", entry_point=name,
                     language="python")
        prepared = prepare(source, target)
        [signature] = prepared.signatures
        text = declaration(target, signature) + " " + BODIES[name][target]
        if target == "java":
            text = f"import java.util.*;\n\npublic class Solution {{\n    {text}}}\n"
        jobs.append(target_job(name, source, target, HEADERS.get(target, "") + text, prepared))
    with open_sandbox("local") as box:
        results = list(box.run_many(jobs, Limits(timeout=30, memory_mb=1024,
                                                 max_processes=64)))
    assert [(j.id, r.status.value) for j, r in zip(jobs, results, strict=True)] == [
        (j.id, "passed") for j in jobs], [(j.code, r.reason) for j, r in zip(jobs, results, strict=True)]


def test_records_in_another_language_are_translated_into_python(run: Run, tmp_path: Path) -> None:
    """A JavaScript source with assertions: into Python the tests run as they are (no typed
    stub, which would shadow the function); the wrong translation is rejected."""
    rows = [{"id": "js-add-all", "instruction": "Add k.", "language": "javascript",
             "code": TRANSLATIONS["javascript"]["add_all"], "tests": SOURCES[0]["tests"],
             "test_style": "assert", "entry_point": "add_all"},
            {"id": "js-twice", "instruction": "Twice.", "language": "javascript",
             "code": TRANSLATIONS["javascript"]["twice"], "tests": "assert twice(2) == 4\n",
             "test_style": "assert", "entry_point": "twice"}]

    def reply(request: Request) -> str:
        prompt = request.last_user
        assert "into Python." in prompt and "```javascript\nfunction " in prompt
        if "function add_all" in prompt:
            assert "keep this declaration:\n```python\ndef add_all(arg0, arg1)\n```" in prompt
            return "```python\ndef add_all(xs, k):\n    return [x + k for x in xs]\n```\n"
        return "```python\ndef twice(x):\n    return x * 3\n```\n"

    records, summary, rejections, _ = translate(run, tmp_path, "python", rows, reply)
    [record] = records
    assert (record["source_id"], record["language"], record["source_language"]) == (
        "js-add-all", "python", "javascript")
    assert record["tests"] == SOURCES[0]["tests"] and record["result"]["passed"]
    assert summary["rejected"] == {"tests_failed": 1}, rejections
    assert rejections[0]["source"] == "js-twice"


_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(1 << 70), 1 << 70)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=3) | st.integers(-5, 5), inner, max_size=2)
    | st.frozensets(st.integers(0, 3), max_size=2),
    max_leaves=8)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.lists(_VALUES, max_size=3), _VALUES), min_size=1, max_size=3),
       st.sampled_from(("assert", "humaneval")), st.sampled_from((*TARGETS, "python")))
def test_any_assertions_either_translate_or_are_a_counted_skip(
        calls: list[tuple[list[Any], Any]], style: str, target: str) -> None:
    """Whatever literals the tests hold, ``prepare`` gives tests and a declaration in every
    language, or a :class:`Skip` with a reason: never another exception."""
    from codesynth.generators.signatures import declaration
    from codesynth.generators.translate_asserts import Skip, prepare
    from codesynth.records import Job

    lines = [f"assert {'candidate' if style == 'humaneval' else 'f'}"
             f"({', '.join(map(repr, args))}) == {expected!r}" for args, expected in calls]
    tests = "\n".join(lines) + "\n"
    if style == "humaneval":
        tests = "def check(candidate):\n" + "".join(f"    {line}\n" for line in lines)
    job = Job(id="x", code="def f(*args):\n    return None\n", tests=tests, test_style=style,
              entry_point="f", language="python")
    try:
        prepared = prepare(job, target)
    except Skip as skip:
        assert skip.reason in ("tests_untranslatable", "tests_unrenderable") and skip.why
        return
    assert prepared.tests.endswith(tests)
    for signature in prepared.signatures:
        assert declaration(target, signature)
