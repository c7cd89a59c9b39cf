"""``codesynth eval mbpp|evalplus|stdio SAMPLES``, ``--challenge``, ``--sanitize``, failure
categories, ``eval compare``, and bad problems or samples (exit 2, naming file, line and
field). Problems are the fixtures in tests/data/eval (written for these tests)."""

from __future__ import annotations

import base64
import json
import pickle
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codesynth.benchmarks import sanitize
from codesynth.benchmarks.humaneval import STOP
from tests.conftest import Run, squash

DATA = Path(__file__).parent / "data" / "eval"
SANDBOX = ["--workers", "2", "--memory-mb", "512", "--timeout", "3"]


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def mbpp_rows() -> dict[int, dict[str, Any]]:
    return {r["task_id"]: r for r in read_jsonl(DATA / "mbpp.jsonl")}


def test_mbpp_scores_every_task_and_categorizes_failures(run: Run, tmp_path: Path) -> None:
    rows = mbpp_rows()
    samples = [{"task_id": t, "completion": r["code"]} for t, r in rows.items()]
    samples += [{"task_id": 11, "completion": "def count_vowels(s):\n    return 0\n"},
                {"task_id": 12, "completion": "def reverse_words(s) return s\n"},
                {"task_id": 13, "completion": "def scaled_mean(xs):\n    return 1 / 0\n"},
                {"task_id": 14, "completion": "def fib(n):\n    while True:\n        pass\n"}]
    source = write_jsonl(tmp_path / "samples.jsonl", samples)
    code, out, err = run("eval", "mbpp", source, "--problems", DATA / "mbpp.jsonl", "-k", "1",
                         "--json", "--per-problem", *SANDBOX)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["problems_attempted"] == summary["problems_total"] == 8
    assert summary["pass_at_k"] == {"pass@1": pytest.approx((4 * 0.5 + 4) / 8)}
    assert summary["failures"] == {"syntax": 1, "runtime_error": 1, "wrong_answer": 1,
                                   "timeout": 1, "memory": 0, "output_limit": 0,
                                   "sandbox_error": 0}
    results = read_jsonl(tmp_path / "samples.jsonl_results.jsonl")
    assert [r["passed"] for r in results] == [True] * 8 + [False] * 4
    assert [list(r) for r in results] == [[*s, "passed", "result", "trace"] for s in samples]
    assert "perproblem" in squash(err) and "failures:syntax1" in squash(err)


def test_mbpp_challenge_tests_run_only_when_asked(run: Run, tmp_path: Path) -> None:
    # fib is right for small n and wrong from 60 on: only the challenge test sees it
    wrong = "def fib(n):\n    a, b = 0, 1\n    for _ in range(min(n, 60)):\n" \
            "        a, b = b, a + b\n    return a\n"
    source = write_jsonl(tmp_path / "s.jsonl", [{"task_id": 14, "completion": wrong}])
    code, out, err = run("eval", "mbpp", source, "--problems", DATA / "mbpp.jsonl", "-k", "1",
                         "--json", *SANDBOX)
    assert code == 0, err
    assert json.loads(out)["pass_at_k"] == {"pass@1": 1.0}
    code, out, err = run("eval", "mbpp", source, "--problems", DATA / "mbpp.jsonl", "-k", "1",
                         "--json", "--challenge", "-o", tmp_path / "c.jsonl", *SANDBOX)
    assert code == 0, err
    assert json.loads(out)["pass_at_k"] == {"pass@1": 0.0}
    assert json.loads(out)["benchmark_options"] == {"challenge": True, "sanitize": False}


def test_evalplus_reports_base_and_plus_apart(run: Run, tmp_path: Path) -> None:
    problems = read_jsonl(DATA / "evalplus_humaneval.jsonl")
    samples = [{"task_id": p["task_id"], "completion": p["canonical_solution"]}
               for p in problems]
    samples.append({"task_id": "HumanEval/2",  # passes the base inputs only
                    "completion": "    return xs[1:len(xs) - 1] if len(xs) > 2 else xs\n"})
    source = write_jsonl(tmp_path / "s.jsonl", samples)
    code, out, err = run("eval", "evalplus", source, "--problems",
                         DATA / "evalplus_humaneval.jsonl", "-k", "1", "--json", *SANDBOX)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["pass_at_k"] == {"base": {"pass@1": 1.0},
                                    "plus": {"pass@1": pytest.approx((1 + 1 + 0.5 + 1) / 4)}}
    rows = read_jsonl(tmp_path / "s.jsonl_results.jsonl")
    assert [(r["base_status"], r["plus_status"], r["passed"]) for r in rows] == \
        [("pass", "pass", True)] * 4 + [("pass", "fail", False)]
    assert set(rows[-1]["trace"]) == {"base", "plus"}


def test_mbpp_plus_takes_whole_programs(run: Run, tmp_path: Path) -> None:
    samples = [{"task_id": "Mbpp/2", "solution": "def similar_elements(a, b):\n"
                "    return tuple(sorted(set(a) & set(b), reverse=True))\n"},  # sets compared
               {"task_id": "Mbpp/17", "solution": "def square_perimeter(a):\n"
                "    return abs(4 * a)\n"}]  # wrong for a negative side (plus only)
    source = write_jsonl(tmp_path / "s.jsonl", samples)
    code, out, err = run("eval", "evalplus", source, "--problems", DATA / "evalplus_mbpp.jsonl",
                         "-k", "1", "--json", *SANDBOX)
    assert code == 0, err
    assert [(r["base_status"], r["plus_status"])
            for r in read_jsonl(tmp_path / "s.jsonl_results.jsonl")] == \
        [("pass", "pass"), ("pass", "fail")]


def lcb_compressed(cases: list[dict[str, str]]) -> str:
    """LiveCodeBench's release form of private test cases."""
    return base64.b64encode(zlib.compress(pickle.dumps(json.dumps(cases)))).decode()


@pytest.mark.parametrize("fixture,task,right,skipped", [
    ("stdio.jsonl", "sum-two", "print(sum(map(int, input().split())))", 0),
    ("stdio_codecontests.jsonl", "cc-max",
     "input()\nprint(max(map(int, input().split())))", 0),
    ("stdio_apps.jsonl", "4001", "print(input().upper())", 1),
    ("stdio_livecodebench.jsonl", "lcb-1", "print(2 * int(input()))", 0),
])
def test_stdio_shapes(run: Run, tmp_path: Path, fixture: str, task: str, right: str,
                      skipped: int) -> None:
    problems = DATA / fixture
    if fixture == "stdio_livecodebench.jsonl":  # plus one row in the compressed form
        rows = read_jsonl(problems)
        rows.append({**rows[0], "question_id": "lcb-2", "private_test_cases": lcb_compressed(
            [{"input": "10\n", "output": "20\n", "testtype": "stdin"}])})
        problems = write_jsonl(tmp_path / "lcb.jsonl", rows)
    samples = [{"task_id": task, "completion": right + "\n"},
               {"task_id": task, "completion": "print('no')\n"},
               {"task_id": task, "completion": "raise SystemExit(input())\n"}]
    source = write_jsonl(tmp_path / "s.jsonl", samples)
    code, out, err = run("eval", "stdio", source, "--problems", problems, "-k", "1",
                         "--json", *SANDBOX)
    assert code == 0, err
    rows = read_jsonl(tmp_path / "s.jsonl_results.jsonl")
    assert [r["passed"] for r in rows] == [True, False, False]
    assert rows[0]["trace"]["tests"][0]["name"]


def test_lcb_compressed_cases_never_unpickle_objects(tmp_path: Path) -> None:
    from codesynth.benchmarks.stdio import StdioSet
    from codesynth.errors import InputError

    class Boom:
        def __reduce__(self) -> tuple[Any, ...]:
            return (print, ("unpickled!",))

    row = {"question_id": "x", "question_content": "?", "public_test_cases": "[]",
           "private_test_cases": base64.b64encode(zlib.compress(pickle.dumps(Boom()))).decode()}
    with pytest.raises(InputError, match="private_test_cases"):
        StdioSet().parse([(1, row)], "lcb.jsonl")


def test_sanitize_takes_programs_out_of_chat_answers(run: Run, tmp_path: Path) -> None:
    from codesynth.humaneval import load_problems

    problem = load_problems()["HumanEval/0"]
    answers = [
        f"Sure!\n```python\n{problem['prompt']}{problem['canonical_solution']}```\nHope it helps",
        f"{problem['prompt']}{problem['canonical_solution']}\nThis compares every pair.",
        problem["canonical_solution"],  # already a completion: unchanged
    ]
    source = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "HumanEval/0", "completion": a}
                                                for a in answers])
    code, out, err = run("eval", "humaneval", source, "-k", "1", "--json", *SANDBOX)
    assert code == 0, err
    assert json.loads(out)["pass_at_k"]["pass@1"] == pytest.approx(1 / 3)  # off by default
    code, out, err = run("eval", "humaneval", source, "-k", "1", "--json", "--sanitize",
                         "-o", tmp_path / "sanitized.jsonl", *SANDBOX)
    assert code == 0, err
    assert json.loads(out)["pass_at_k"]["pass@1"] == 1.0
    rows = read_jsonl(tmp_path / "sanitized.jsonl")
    assert [r["completion"] for r in rows] == answers  # the samples as given
    for row in rows:
        assert (problem["prompt"] + row["sanitized"]).count("def has_close_elements(") == 1
    assert rows[2]["sanitized"] == answers[2]


def test_compare_lists_the_problems_that_changed(run: Run, tmp_path: Path) -> None:
    before = write_jsonl(tmp_path / "a.jsonl", [
        {"task_id": "T/0", "passed": True}, {"task_id": "T/0", "passed": False},
        {"task_id": "T/1", "passed": False}, {"task_id": "T/2", "passed": True},
        {"task_id": "T/3", "passed": True}])
    after = write_jsonl(tmp_path / "b.jsonl", [
        {"task_id": "T/0", "passed": True}, {"task_id": "T/0", "passed": True},
        {"task_id": "T/1", "passed": True}, {"task_id": "T/2", "passed": False},
        {"task_id": "T/3", "passed": True}])
    code, out, err = run("eval", "compare", before, after, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert [(c["task_id"], c["change"]) for c in report["changes"]] == [
        ("T/1", "fixed"), ("T/2", "broken"), ("T/0", "changed")]
    assert report["counts"]["unchanged"] == 1
    assert (report["solved_before"], report["solved_after"]) == (3, 3)
    code, out, err = run("eval", "compare", before, after)
    assert code == 0 and "fixed" in err and "solved 3 -> 3" in out


@pytest.mark.parametrize("bench,row,field", [
    ("mbpp", {"task_id": 1, "text": "x", "code": "", "test_list": "assert 1"}, "test_list"),
    ("mbpp", {"task_id": 1, "text": "x", "code": "", "test_list": []}, "test_list"),
    ("evalplus", {"task_id": "T/0", "prompt": "", "canonical_solution": "",
                  "entry_point": "f", "base_input": [1], "plus_input": []}, "base_input"),
    ("stdio", {"task_id": "s", "prompt": "p", "tests": [{"input": "1"}]}, "tests"),
    ("humaneval", {"task_id": "T/0", "prompt": "", "test": "", "entry_point": 3},
     "entry_point"),
])
def test_bad_problems_exit_2_naming_the_field(run: Run, tmp_path: Path, bench: str,
                                              row: dict[str, Any], field: str) -> None:
    problems = write_jsonl(tmp_path / "p.jsonl", [row])
    samples = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "x", "completion": ""}])
    code, out, err = run("eval", bench, samples, "--problems", problems)
    assert code == 2 and out == ""
    assert f"{problems}:1:" in squash(err) and field in err
    assert not (tmp_path / "s.jsonl_results.jsonl").exists()


def test_a_sample_in_an_unsupported_language_is_an_input_error(run: Run,
                                                               tmp_path: Path) -> None:
    samples = write_jsonl(tmp_path / "s.jsonl", [
        {"task_id": "sum-two", "completion": "print(3)\n"},
        {"task_id": "sum-two", "completion": "int main() {}", "language": "cobol"}])
    code, out, err = run("eval", "stdio", samples, "--problems", DATA / "stdio.jsonl")
    assert code == 2 and out == ""
    assert f"{samples}:2:field'language'unsupportedlanguage'cobol'" in squash(err)


def test_no_problems_and_no_hub_is_a_clear_error(run: Run, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    samples = write_jsonl(tmp_path / "s.jsonl", [{"task_id": 11, "completion": ""}])
    code, _, err = run("eval", "mbpp", samples)
    assert code == 2
    assert "hubisnotreachable" in squash(err) and "--problems" in err
    code, _, err = run("eval", "evalplus", samples)
    assert code == 2 and "--problems" in err


@given(st.text(), st.lists(st.sampled_from(STOP + ("[DONE]",)), max_size=3))
def test_truncate_is_the_longest_prefix_without_a_stop_sequence(text: str,
                                                                stops: list[str]) -> None:
    cut = sanitize.truncate(text, tuple(stops))
    assert text.startswith(cut)
    assert not any(stop in cut for stop in stops)
    if len(cut) < len(text):
        assert any(text[len(cut):].startswith(stop) for stop in stops)


def test_a_benchmark_plugin_is_found_by_name(run: Run, tmp_path: Path) -> None:
    """A plugin registered under a new name (as an entry point would) is a sub-command."""
    from codesynth.benchmarks.mbpp import MBPP
    from codesynth.registry import benchmarks

    class Tiny(MBPP):
        name = "tiny-mbpp"
        description = "MBPP under another name"
        hub_dataset = None

    benchmarks.register("tiny-mbpp")(Tiny)
    try:
        samples = write_jsonl(tmp_path / "s.jsonl", [
            {"task_id": 601, "completion": "def square(x):\n    return x * x\n"}])
        code, out, err = run("eval", "tiny-mbpp", samples, "--problems", DATA / "mbpp.jsonl",
                             "-k", "1", "--json", *SANDBOX)
        assert code == 0, err
        assert json.loads(out)["benchmark"] == "tiny-mbpp"
        assert json.loads(out)["pass_at_k"] == {"pass@1": 1.0}
    finally:
        benchmarks._loaded.pop("tiny-mbpp", None)


PROMPT = 'import math\n\n\ndef f(x: int, y: int) -> int:\n    """Some number."""\n'


@given(st.lists(st.tuples(st.sampled_from(["+", "-", "*"]), st.sampled_from(["x", "y", "3", "-2"])),
                min_size=1, max_size=4),
       st.sampled_from(["", "Sure, here it is:\n\n"]),
       st.sampled_from(["", "\n\nThis works because of maths.", "\nprint(f(1, 2))"]),
       st.booleans(), st.booleans())
def test_a_whole_function_in_an_answer_becomes_a_body_under_the_prompt(
        steps: list[tuple[str, str]], before: str, after: str, helper: bool,
        fenced: bool) -> None:
    lines = ["    z = 1", *(f"    z = z {op} {operand}" for op, operand in steps),
             "    return z + helper(x)" if helper else "    return z"]
    body = "\n".join(lines) + "\n"
    extra = "\n\ndef helper(v):\n    return math.floor(v / 2)\n" if helper else ""
    code = f"{PROMPT}{body}{extra}"
    answer = f"{before}```python\n{code}```{after}" if fenced else f"{code}{after}"
    completion = sanitize.body_after_prompt(PROMPT, sanitize.program(answer), "f")
    program = PROMPT + completion
    assert program.count("def f(") == 1
    expected: dict[str, Any] = {}
    exec(code, expected)  # generated arithmetic only
    got: dict[str, Any] = {}
    exec(program, got)
    for x, y in ((0, 0), (3, -4), (10, 7)):
        assert got["f"](x, y) == expected["f"](x, y)


def _first_rows(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".gz":
        import gzip
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            return [json.loads(line) for line in handle][:2]
    return read_jsonl(path)[:2]


@pytest.mark.parametrize(("name", "path", "field"), [
    ("humaneval", None, "task_id"),
    ("mbpp", DATA / "mbpp.jsonl", "task_id"),
    ("evalplus", DATA / "evalplus_humaneval.jsonl", "task_id"),
    ("stdio", DATA / "stdio.jsonl", "task_id"),
    ("humaneval-x", DATA.parent / "humaneval_x" / "humaneval_x.jsonl.gz", "task_id"),
    ("multipl-e", DATA.parent / "humaneval_x" / "multipl_e_cpp.jsonl", "name"),
])
def test_every_benchmark_names_a_repeated_problem_id(name: str, path: Path | None,
                                                     field: str) -> None:
    """A problems file that names one problem twice is refused at the second row, naming the
    file, the line and the id's field; nothing is scored from a file that is ambiguous."""
    from codesynth.errors import InputError
    from codesynth.registry import benchmarks

    if path is None:
        from codesynth.humaneval import load_problems
        first = dict(next(iter(load_problems().values())))
        rows = [first, {"task_id": "HumanEval/other", "prompt": "def g():\n",
                        "canonical_solution": "", "test": "", "entry_point": "g"}, first]
    else:
        first = _first_rows(path)[0]
        second = {**first, field: f"{first[field]}_other"}
        rows = [first, second, first]
    plugin = benchmarks.get(name)()
    with pytest.raises(InputError) as raised:
        plugin.parse(enumerate(rows, 1), "problems.jsonl")
    message = str(raised.value)
    assert "problems.jsonl" in message and "3" in message and field in message, message
    assert "appears twice" in message
