"""``generate refactor``, ``generate optimize`` and ``generate nl2sql`` end to end: the real
``openai`` client against scripted servers whose answers are known (correct, subtly wrong,
unparseable), every program and query run in the sandbox. Only the correct answers are
kept, and every other one is in the rejections log with its reason."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from tests.conftest import Run
from tests.openai_server import Request, ScriptedServer

CLIP = {"id": "clip", "instruction": "Write `clip(xs, k)`: the items of xs not above k.",
        "code": "def clip(xs, k):\n    # keep the small ones\n    out = []\n    for x in xs:\n"
                "        if x <= k:\n            out.append(x)\n    return out\n",
        "tests": "assert clip([1, 5, 3], 3) == [1, 3]\nassert clip([], 2) == []\n",
        "test_style": "assert", "entry_point": "clip"}
PRIMES = {"id": "primes", "instruction": "Write `count_primes(n)`: the primes below n.",
          "code": "def count_primes(n):\n    count = 0\n    for m in range(2, n):\n"
                  "        if all(m % d for d in range(2, m)):\n            count += 1\n"
                  "    return count\n",
          "tests": "assert count_primes(10) == 4\nassert count_primes(300) == 62\n",
          "test_style": "assert", "entry_point": "count_primes"}


def fenced(code: str, language: str = "python") -> str:
    return f"Here it is:\n```{language}\n{code}```\n"


REFACTORED = "def clip(xs, k):\n    return [value for value in xs if value <= k]\n"
# Passes both tests (their lists are in order), but sorts: differs on shuffled inputs.
SORTS = "def clip(xs, k):\n    return sorted(x for x in xs if x <= k)\n"
BROKEN = "def clip(xs, k)\n    return xs\n"
SIEVE = ("def count_primes(n):\n    if n < 3:\n        return 0\n    sieve = [True] * n\n"
         "    sieve[0] = sieve[1] = False\n    for i in range(2, int(n ** 0.5) + 1):\n"
         "        if sieve[i]:\n            sieve[i * i::i] = [False] * len(sieve[i * i::i])\n"
         "    return sum(sieve)\n")
# Right for n >= 2 (the tests), wrong (raises) for negative n.
SIEVE_WRONG = SIEVE.replace("    if n < 3:\n        return 0\n", "")
SLOW_RENAMED = PRIMES["code"].replace("count", "found").replace("def found_primes",
                                                                 "def count_primes")


def rewrite_reply(request: Request) -> str:
    seed = int(request.body.get("seed", 0))
    if "run faster" in request.last_user:
        return [fenced(SIEVE), fenced(SIEVE_WRONG), fenced(SLOW_RENAMED),
                "```python\ndef count_primes(n:\n```"][seed % 4]
    return [fenced(REFACTORED), fenced(SORTS), fenced(BROKEN), "I would rather not."][seed % 4]


def generate(run: Run, tmp_path: Path, method: str, seeds: Path, base_url: str,
             *extra: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    out = tmp_path / f"{method}.jsonl"
    code, stdout, stderr = run("generate", method, "--seeds", seeds, "--n", "50", "-o", out,
                               "--base-url", base_url, "--cache", tmp_path / "cache.sqlite",
                               "--json", *extra)
    assert code == 0, stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    log = out.with_name(out.name + ".rejected.jsonl")
    rejected = [json.loads(line) for line in log.read_text().splitlines()]
    return records, rejected, json.loads(stdout.strip().splitlines()[-1])


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_refactor_keeps_only_variants_that_pass_and_agree(run: Run, tmp_path: Path) -> None:
    seeds = write_jsonl(tmp_path / "verified.jsonl", [CLIP])
    with ScriptedServer(rewrite_reply) as server:
        records, rejected, summary = generate(run, tmp_path, "refactor", seeds,
                                              server.base_url, "--param", "model_samples=4")
    codes = {r["code"] for r in records}
    assert REFACTORED in codes and SORTS not in codes
    made_by = {tuple(r["transforms"]) for r in records}
    assert {("rename_locals",), ("extract_helper",), ("loop_to_comprehension",),
            ("strip_comments",), ("model",)} <= made_by
    for record in records:
        assert record["source_id"] == "clip" and record["source_code"] == CLIP["code"]
        assert record["diff"].startswith("--- original.py") and record["result"]["passed"]
        assert record["differential"]["agreed"] == record["differential"]["inputs"] >= 10
        assert record["origin"]["parent_ids"] == ["clip"]
    by_sample = {r.get("sample"): r for r in rejected if r["transforms"] == ["model"]}
    assert by_sample[1]["reason"] == "differs_on_generated_inputs"  # passed the tests
    assert "_cs_probe" in by_sample[1]["input"] and by_sample[1]["status"] == "failed"
    assert by_sample[2]["reason"] == "unparseable"
    assert by_sample[3]["reason"] == "no_code"
    assert summary["kept"] == len(records)


def test_refactor_rejects_a_source_without_inputs_and_bad_seeds(run: Run,
                                                                 tmp_path: Path) -> None:
    no_calls = {**CLIP, "id": "nocalls", "tests": "assert callable(clip)\n"}
    seeds = write_jsonl(tmp_path / "verified.jsonl", [no_calls])
    with ScriptedServer(rewrite_reply) as server:
        records, rejected, _ = generate(run, tmp_path, "refactor", seeds, server.base_url,
                                        "--allow-empty")
        assert records == [] and rejected[0]["reason"] == "no_differential_inputs"
        bad = tmp_path / "bad.jsonl"
        bad.write_text(json.dumps(CLIP) + "\n" + json.dumps({"id": "x", "code": "x = 1"}) + "\n")
        code, _, err = run("generate", "refactor", "--seeds", bad, "--n", "1", "-o",
                           tmp_path / "o.jsonl", "--base-url", server.base_url)
    assert code == 2 and "bad.jsonl:2" in "".join(err.split()) and "tests" in err


def test_optimize_keeps_only_a_statistically_faster_correct_variant(run: Run,
                                                                    tmp_path: Path) -> None:
    seeds = write_jsonl(tmp_path / "verified.jsonl", [PRIMES])
    with ScriptedServer(rewrite_reply) as server:
        records, rejected, _ = generate(run, tmp_path, "optimize", seeds, server.base_url,
                                        "--param", "samples=4", "--param", "repeats=5")
    assert [r["code"] for r in records] == [SIEVE]
    timing = records[0]["timing"]
    assert len(timing["original"]["seconds"]) == len(timing["variant"]["seconds"]) == 5
    assert timing["p_value"] < 0.05 and timing["speedup"] >= 1.1
    assert 1 < timing["speedup_ci95"][0] <= timing["speedup"] <= timing["speedup_ci95"][1]
    assert timing["original"]["q1"] <= timing["original"]["median"] <= timing["original"]["q3"]
    reasons = {r["sample"]: r["reason"] for r in rejected}
    assert reasons == {1: "differs_on_generated_inputs", 2: "not_faster", 3: "unparseable"}


def _database(path: Path) -> Path:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE staff (id INTEGER PRIMARY KEY, name TEXT, team TEXT, "
                   "salary INTEGER)")
        db.executemany("INSERT INTO staff VALUES (?, ?, ?, ?)",
                       [(1, "Ada", "red", 50), (2, "Ben", "blue", 70), (3, "Cy", "red", 70),
                        (4, "Di", "blue", 40)])
    return path


QUESTIONS = [
    ("How many people earn at least 70?", "SELECT COUNT(*) FROM staff WHERE salary >= 70",
     "SELECT COUNT(id) FROM staff WHERE salary >= 70"),
    # Subtly wrong: > instead of >= (the reference says 2, this says 0).
    ("How many people earn 70 or more?", "SELECT COUNT(*) FROM staff WHERE salary > 70",
     "SELECT COUNT(*) FROM staff WHERE salary >= 70"),
    # The same rows in another order: kept, the question asks for no order.
    ("Which names are in the red team?", "SELECT name FROM staff WHERE team = 'red'",
     "SELECT name FROM staff WHERE team = 'red' ORDER BY name DESC"),
    # The question asks for an order the query does not give.
    ("Can you list the names sorted by salary from highest?", "SELECT name FROM staff",
     "SELECT name FROM staff ORDER BY salary DESC, name"),
    ("What is in the table?", "SELECT nme FROM staff", "SELECT * FROM staff"),
]


def weak(request: Request) -> str:
    prompt, seed = request.last_user, int(request.body.get("seed", 0))
    if "Write one question" in prompt:
        if seed == 5:
            return "Question: What is in it?"
        if seed >= 6:
            return "I can write questions about this table."
        return f"Question: {QUESTIONS[seed][0]}"
    if "What is in it?" in prompt:
        return fenced("SELECT 1; DROP TABLE staff\n", "sql")
    return next(fenced(sql + "\n", "sql") for q, sql, _ in QUESTIONS if q in prompt)


def strong(request: Request) -> str:
    return next(fenced(ref + "\n", "sql") for q, _, ref in QUESTIONS if q in request.last_user)


def test_nl2sql_keeps_pairs_whose_result_equals_the_strong_reference(run: Run,
                                                                    tmp_path: Path) -> None:
    seeds = tmp_path / "dbs"
    seeds.mkdir()
    _database(seeds / "staff.sqlite")
    with ScriptedServer(weak) as weak_server, ScriptedServer(strong) as strong_server:
        records, rejected, _ = generate(
            run, tmp_path, "nl2sql", seeds, weak_server.base_url, "--param", "per_database=7",
            "--param", f"reference_base_url={strong_server.base_url}")
        assert strong_server.count == 5  # only parsed, single-statement questions
    assert [r["question"] for r in records] == [QUESTIONS[0][0], QUESTIONS[2][0]]
    assert records[0]["result"] == {"columns": ["COUNT(id)"], "rows": [[2]]}
    assert sorted(records[1]["result"]["rows"]) == [["Ada"], ["Cy"]]
    for record in records:
        assert "CREATE TABLE staff" in record["schema"] and record["database"] == "staff.sqlite"
        assert record["trace"]["query"]["status"] == "passed"
        assert record["origin"]["params"]["reference"] == "strong"
    reasons = {r["sample"]: r["reason"] for r in rejected}
    assert reasons == {1: "result_differs", 3: "result_differs", 4: "sql_error",
                       5: "not_a_select", 6: "no_question"}
    assert "no such column" in next(r for r in rejected if r["sample"] == 4)["error"]


def templated(request: Request) -> str:
    prompt = request.last_user
    question = prompt.split("answers this question: ", 1)[1].split("\n", 1)[0]
    if question.startswith("How many rows does the staff"):
        # The tables written back before the query, as a small model does.
        return fenced("CREATE TABLE staff (id INTEGER PRIMARY KEY, name TEXT);\n"
                      "SELECT COUNT(id) FROM staff;\n", "sql")
    if question.startswith("What is the largest"):
        return fenced("SELECT MAX(salary) FROM staff\n", "sql")
    return fenced("SELECT MIN(salary) FROM staff\n", "sql")


def test_nl2sql_template_questions_are_checked_against_the_templates_query(
        run: Run, tmp_path: Path) -> None:
    database = _database(tmp_path / "staff.db")
    with ScriptedServer(templated) as server:
        records, rejected, _ = generate(run, tmp_path, "nl2sql", database, server.base_url,
                                        "--param", "questions=templates",
                                        "--param", "per_database=8")
        asked = [r.last_user for r in server.requests]
        seeds = {int(r.body.get("seed", 0)) for r in server.requests}
    assert not any("Write one question" in prompt for prompt in asked)
    assert max(seeds) < 1000  # the template's query is the reference: no second sample
    assert records
    for record in records:
        reference = {"How many rows does the staff table have?": 'SELECT COUNT(*) FROM "staff"',
                     "What is the largest salary in the staff table?":
                     'SELECT MAX("salary") FROM "staff"'}[record["question"]]
        assert record["reference_sql"] == reference
        assert record["sql"] in ("SELECT COUNT(id) FROM staff", "SELECT MAX(salary) FROM staff")
        assert record["asked_by"] == "template" and record["same_text"] is False
        assert record["origin"]["params"]["reference"] == "template"
        assert record["origin"]["params"]["reference_model"] is None
        assert record["result"]["rows"] in ([[4]], [[70]])
    # The subtly wrong answers (MIN for an average, a count, a grouping) are refused.
    assert rejected and {r["reason"] for r in rejected} == {"result_differs"}
    assert all(r["sql"] == "SELECT MIN(salary) FROM staff" for r in rejected)


def test_sql_block_drops_the_tables_written_back_but_nothing_else() -> None:
    from codesynth.generators.sql_prompts import sql_block

    echo = "```sql\n-- the tables\nCREATE TABLE t (a INTEGER);\nINSERT INTO t VALUES (1);\n" \
           "SELECT a FROM t WHERE a > 0;\n```"
    assert sql_block(echo) == "SELECT a FROM t WHERE a > 0"
    assert sql_block("```sql\nSELECT ';' FROM t\n```") == "SELECT ';' FROM t"
    for mixed in ("SELECT 1; DROP TABLE t", "CREATE TABLE t (a);\nSELECT 1;\nSELECT 2",
                  "DELETE FROM t;\nSELECT 1"):
        assert sql_block(f"```sql\n{mixed}\n```") == mixed  # refused as not_a_select later


def test_a_broken_source_is_a_rejection_not_a_crash(run: Run, tmp_path: Path) -> None:
    raises = {**CLIP, "id": "raises", "code": CLIP["code"] + "raise ValueError(3)\n"}
    wrong = {**CLIP, "id": "wrong", "code": CLIP["code"].replace("<=", "<")}
    seeds = write_jsonl(tmp_path / "verified.jsonl", [raises, wrong])
    with ScriptedServer(rewrite_reply) as server:
        records, rejected, _ = generate(run, tmp_path, "refactor", seeds, server.base_url,
                                        "--allow-empty")
    assert records == []
    assert {r["source"]: r["reason"] for r in rejected} == {"raises": "source_error",
                                                            "wrong": "source_failed"}
    assert server.count == 0  # nothing is asked about a program that does not pass


MAXIMUM = {"id": "maximum", "instruction": "Write `maximum(a, b)`: the larger of a and b.",
           "code": "def maximum(a, b):\n    return max((a, b), default=None)\n",
           "tests": "assert maximum(3, 9) == 9\nassert maximum(-1, -5) == -1\n"
                    "assert maximum(2, 2) == 2\n",
           "test_style": "assert", "entry_point": "maximum"}


def test_optimize_keeps_a_deterministic_speedup_that_is_measured_faster(
        run: Run, tmp_path: Path) -> None:
    seeds = write_jsonl(tmp_path / "verified.jsonl", [MAXIMUM])
    # The model only writes the program back: every kept variant is a speed-up's.
    with ScriptedServer(lambda r: fenced(MAXIMUM["code"])) as server:
        records, rejected, _ = generate(run, tmp_path, "optimize", seeds, server.base_url,
                                        "--param", "samples=1", "--param", "repeats=5")
    assert [r["transforms"] for r in records] == [["minmax_to_conditional"]]
    record = records[0]
    assert record["code"] == "def maximum(a, b):\n    return (b if b > a else a)\n"
    assert record["model"] is False and record["result"]["status"] == "passed"
    assert record["differential"]["agreed"] == record["differential"]["inputs"] > 0
    assert record["timing"]["p_value"] < 0.05 and record["timing"]["speedup_ci95"][0] > 1
    assert [r["reason"] for r in rejected] == ["unchanged"]


def test_optimize_refuses_a_speedup_that_is_wrong_on_generated_inputs(
        run: Run, tmp_path: Path) -> None:
    # Floats in the tests: the bit test that replaces `% 2` raises on them.
    halves = {"id": "halves", "instruction": "Is x an even number?",
              "code": "def even(x):\n    return x % 2 == 0\n",
              "tests": "assert even(4.0) is True\nassert even(3.5) is False\n",
              "test_style": "assert", "entry_point": "even"}
    seeds = write_jsonl(tmp_path / "verified.jsonl", [halves])
    with ScriptedServer(lambda r: "no code today") as server:
        records, rejected, _ = generate(run, tmp_path, "optimize", seeds, server.base_url,
                                        "--param", "samples=1", "--allow-empty")
    assert records == []
    assert {(tuple(r["transforms"]), r["reason"]) for r in rejected} == {
        (("parity_by_bit",), "tests_failed"), (("model",), "no_code")}


def test_timing_never_reads_the_execution_cache(tmp_path: Path,
                                                monkeypatch: Any) -> None:
    """A measurement read back from the cache is the first one again: the pipeline's cached
    sandbox made every repeat the same number."""
    import asyncio

    from codesynth.exec_cache import cached
    from codesynth.generators.base import Context
    from codesynth.generators.optimize import timed_job
    from codesynth.generators.variants import run_jobs
    from codesynth.records import Limits
    from codesynth.sandbox import open_sandbox

    monkeypatch.setenv("CODESYNTH_EXEC_CACHE", str(tmp_path / "exec.sqlite"))
    ctx = Context(llm=None, seeds=tmp_path, n=1,  # type: ignore[arg-type]
                  sandbox_factory=lambda: cached(open_sandbox("local", workers=1),
                                                 path=tmp_path / "exec.sqlite"),
                  limits=Limits(timeout=5))
    job = timed_job("t", "def f():\n    return 1\n", "assert f() == 1\n", 1000)
    try:
        plain = asyncio.run(run_jobs(ctx, [job, job]))
        again = asyncio.run(run_jobs(ctx, [job]))
        measured = asyncio.run(run_jobs(ctx, [job, job], measure=True))
        measured += asyncio.run(run_jobs(ctx, [job, job], one_at_a_time=True, measure=True))
    finally:
        ctx.close()
    # The cache is on: without measure, a repeat is a copy and a later run reads it back.
    assert plain[1].cache == "duplicate" and again[0].cache == "hit"
    assert all(e.passed and e.cache is None for e in measured)
    assert len({e.cpu_time for e in measured}) > 1
