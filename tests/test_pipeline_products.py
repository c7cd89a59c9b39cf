"""``codesynth run`` with every product stage (lintseq, repairs, refactor, optimize, nl2sql)
against a scripted server: each product exported and listed in the card, duplicates
dropped with their reason, and a resumed stage makes the same file without asking the
model again."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.conftest import Run
from tests.openai_server import Request, ScriptedServer
from tests.test_pipeline import REPO
from tests.test_pipeline import reply as task_reply


def reply(request: Request) -> str:
    prompt, seed = request.last_user, int(request.body.get("seed", 0))
    blocks = re.findall(r"```python\n(.*?)```", prompt, re.DOTALL)
    program = blocks[-1] if blocks else None  # the last: the prompt's examples come first
    if "functionally identical program" in prompt and program:
        return f"```python\n# tidied\n{program}```"
    if "run faster" in prompt and program:
        return f"```python\n{program}```"  # the same program: unchanged
    if "Write one question" in prompt:
        table = "departments" if seed % 2 else "employees"
        return f"Question: How many {table} are there?"
    if "Write the SQLite query" in prompt:
        table = "departments" if "departments are there" in prompt else "employees"
        column = "COUNT(*)" if seed < 1000 else "COUNT(id)"
        return f"```sql\nSELECT {column} FROM {table}\n```"
    return task_reply(request)


def pipeline(tmp_path: Path, base_url: str) -> Path:
    path = tmp_path / "all.toml"
    path.write_text(f"""
[run]
name = "all"
output = "{tmp_path / 'run'}"

[llm]
base_url = "{base_url}"
concurrency = 2

[sandbox]
timeout = 5
memory_mb = 512

[[generate]]
method = "self-instruct"
n = 4
seeds = "{REPO / 'seeds'}"
params = {{ tasks_per_request = 1 }}

[solve]
samples = 3

[export]
formats = ["jsonl"]

[bugs]
per_sample = 1

[lintseq]
samples = 2

[repairs]
max_chain = 2

[refactor]
n = 40
params = {{ model_samples = 1, inputs = 12 }}

[optimize]
n = 2
params = {{ samples = 1, repeats = 3, transforms = "none" }}

[nl2sql]
n = 4
params = {{ databases = 1, per_database = 4 }}
""")
    return path


def test_every_product_is_made_exported_and_resumed(run: Run, tmp_path: Path) -> None:
    with ScriptedServer(reply) as server:
        path = pipeline(tmp_path, server.base_url)
        code, stdout, err = run("run", path, "--json")
        assert code == 0, err
        summary = json.loads(stdout.strip().splitlines()[-1])
        folder = tmp_path / "run" / "dataset"
        files = {p.name: [json.loads(line) for line in p.read_text().splitlines()]
                 for p in folder.glob("*.jsonl")}
        stages = summary["stages"]
        for stage, file in (("lintseq", "edit_sequences.jsonl"), ("repairs", "repairs.jsonl"),
                            ("refactor", "refactor_variants.jsonl"),
                            ("nl2sql", "sql_pairs.jsonl")):
            assert files[file], stage
            assert stages[stage]["out"] == len(files[file])
        assert "optimized.jsonl" in files and stages["optimize"]["out"] == 0
        assert stages["optimize"]["rejected"] == {"unchanged": len(files["verified.jsonl"])}
        verified_ids = {r["id"] for r in files["verified.jsonl"]}
        assert {r["source_id"] for r in files["edit_sequences.jsonl"]} == verified_ids
        assert {r["kind"] for r in files["repairs.jsonl"]} >= {"repair"}
        assert {r["source_id"] for r in files["refactor_variants.jsonl"]} <= verified_ids
        assert any(r["transforms"] == ["model"] for r in files["refactor_variants.jsonl"])
        questions = [r["question"] for r in files["sql_pairs.jsonl"]]
        assert sorted(questions) == ["How many departments are there?",
                                     "How many employees are there?"]
        # the same question twice: kept once, the other row says why
        assert stages["nl2sql"]["rejected"] == {"exact_duplicate": 2}
        card = (folder / "README.md").read_text()
        for file in ("edit_sequences", "repairs", "refactor_variants", "optimized",
                     "sql_pairs"):
            assert f"`{file}.jsonl`" in card
        before = {name: (folder / name).read_text() for name in files}
        asked = server.count

        # A resumed run: the refactor stage again, from its stage file and the cache.
        state_path = tmp_path / "run" / "state.json"
        state = json.loads(state_path.read_text())
        state["completed"].remove("refactor")
        state_path.write_text(json.dumps(state))
        (folder / "refactor_variants.jsonl").unlink()
        code, _, err = run("run", path)
        assert code == 0, err
        assert (folder / "refactor_variants.jsonl").read_text() == \
            before["refactor_variants.jsonl"]
        assert server.count == asked  # every answer came from the cache


def test_a_product_section_is_checked_before_any_work(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(f"""
[[generate]]
method = "seed-tasks"
n = 1
seeds = "{REPO / 'seeds' / 'easy'}"

[refactor]
n = 2
params = {{ model_samples = "many", colour = 1 }}

[nl2sql]
seeds = "{tmp_path / 'nowhere'}"
""")
    code, _, err = run("run", path)
    flat = " ".join(err.split())
    assert code == 2
    assert "[refactor] params.model_samples: expected an integer, got 'many'" in flat
    assert "[refactor] params.colour: unknown parameter" in flat
    assert "[nl2sql] seeds:" in flat and "does not exist" in flat
