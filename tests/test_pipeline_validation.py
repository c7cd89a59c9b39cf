"""``codesynth run``: the whole pipeline file is checked before any work. Each mistake is exit 2
with a message naming the file, the line and the key, and the model server sees no request."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Run, squash
from tests.openai_server import ScriptedServer, fixed

REPO = Path(__file__).resolve().parent.parent

VALID = """\
[run]
name = "v"
output = "{output}"

[llm]
base_url = "{base_url}"
max_tokens = 64

[sandbox]
backend = "local"
timeout = 5

[[generate]]
method = "seed-tasks"
n = 2
seeds = "{seeds}"

[[generate]]
method = "self-instruct"
n = 1
seeds = "{seeds}"
params = {{ tasks_per_request = 1 }}

[solve]
samples = 2

[filter]
keep = "one"

[dedup]
threshold = 0.8

[decontaminate]
benchmarks = ["humaneval"]

[export]
formats = ["jsonl"]
"""

# (line of VALID to replace, by its start; the new line; what the message must say)
MISTAKES = [
    ("samples =", 'samples = "four"', '[solve] samples: expected an integer >= 1'),
    ("threshold =", 'threshold = "high"', "[dedup] threshold: expected a number > 0 <= 1"),
    ("timeout =", 'timeout = "5s"',
     "[sandbox] timeout: expected a number > 0 <= 86400, got '5s'"),
    ("timeout =", "timeout = 5\nwall_time = 2",
     "[sandbox] wall_time: the wall backstop (2 s) must be at least the timeout (5 s)"),
    ("backend =", 'backend = "dockr"',
     "[sandbox] backend: unknown sandbox backend 'dockr' (known: docker, local"),
    ("benchmarks =", 'benchmarks = ["mbpp"]', "[decontaminate] benchmarks: 'mbpp' is neither"),
    ('method = "self-instruct"', 'method = "self-instrukt"',
     "[[generate]] #2 method: unknown generator 'self-instrukt' (known: evol-instruct"),
    ("keep =", 'keep = "some"', "[filter] keep: 'some' is not one of one, all"),
    ("max_tokens =", 'max_tokens = "lots"', "[llm] max_tokens: expected an integer >= 1"),
    ("formats =", 'formats = ["jsonl", "csv"]',
     "[export] formats: 'csv' not valid (valid: jsonl, hf, parquet)"),
    ("params =", "params = { tasks_per_reqest = 1 }",
     "[[generate]] #2 params.tasks_per_reqest: unknown parameter"),
    ("params =", 'params = { tasks_per_request = "many" }',
     "[[generate]] #2 params.tasks_per_request: expected an integer"),
    ("formats =", 'formats = ["jsonl"]\nhub_repo = "me/data"',
     "[export] hub_repo: is set but HF_TOKEN is not in the environment"),
    ("n = 2", "n = 0", "[[generate]] #1 n: expected an integer >= 1 <= 10000000, got 0"),
    ("keep =", 'keep = "one"\nmin_test = 2', "[filter] min_test: unknown key; did you mean "
                                             "'min_tests'?"),
    ("max_tokens =", "max_tokens = 64\nseed = 3", "[llm] seed: set the seed in [run] seed"),
    ("max_tokens =", 'max_tokens = 64\nmode = "chatty"', "[llm] mode: 'chatty' is not one of"),
]


def write(tmp_path: Path, base_url: str, replace: tuple[str, str] | None = None,
          name: str = "p.toml") -> tuple[Path, int | None]:
    """The valid pipeline with one line replaced; the replaced line's number."""
    lines = VALID.format(output=tmp_path / "run", base_url=base_url,
                         seeds=REPO / "seeds").splitlines()
    number = None
    if replace is not None:
        number = next(i for i, line in enumerate(lines) if line.startswith(replace[0]))
        lines[number] = replace[1]
        number += 1
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path, number


@pytest.fixture
def no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)


@pytest.mark.parametrize(("start", "line", "message"), MISTAKES,
                         ids=[m[1].split("\n")[-1] for m in MISTAKES])
def test_each_mistake_is_reported_before_any_request(run: Run, tmp_path: Path, no_token: None,
                                                     start: str, line: str,
                                                     message: str) -> None:
    with ScriptedServer(fixed("```python\ndef f(): pass\n```")) as server:
        path, number = write(tmp_path, server.base_url, (start, line))
        code, _, err = run("run", path)
        assert server.count == 0
    assert code == 2, err
    assert "Traceback" not in err
    assert number is not None
    at = number + line.count("\n")  # a second line added is the one at fault
    assert squash(f"{path}:{at}: {message}") in squash(err), err
    assert not (tmp_path / "run").exists()  # nothing was started


def test_every_mistake_is_listed_at_once(run: Run, tmp_path: Path) -> None:
    path, _ = write(tmp_path, "http://127.0.0.1:9/v1")
    text = path.read_text().replace("samples = 2", 'samples = "four"').replace(
        'keep = "one"', 'keep = "some"')
    path.write_text(text)
    code, _, err = run("run", path)
    assert code == 2
    assert "[solve]samples" in squash(err) and "[filter]keep" in squash(err)


def test_the_valid_pipeline_loads_and_hub_push_can_be_declined(tmp_path: Path,
                                                              no_token: None) -> None:
    from codesynth.pipeline import config

    path, _ = write(tmp_path, "http://127.0.0.1:9/v1",
                    ("formats =", 'formats = ["jsonl"]\nhub_repo = "me/data"\npush = false'))
    pipeline = config.load(path)
    assert pipeline.export["push"] is False and pipeline.generate[1].params == {
        "tasks_per_request": 1}


def test_a_benchmark_file_must_be_humaneval_or_mbpp(run: Run, tmp_path: Path) -> None:
    good = tmp_path / "mbpp.jsonl"
    good.write_text('{"task_id": 1, "text": "t", "code": "def f(): pass", "test_list": []}\n')
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"task_id": 1, "text": "t", "code": "def f(): pass", "test_list": []}\n'
                   '{"task_id": 2, "question": "?"}\n')
    from codesynth.pipeline import config

    path, _ = write(tmp_path, "http://x/v1", ("benchmarks =", 'benchmarks = ["mbpp.jsonl"]'))
    assert config.load(path).decontaminate["benchmarks"] == [str(good)]
    path, number = write(tmp_path, "http://x/v1", ("benchmarks =", 'benchmarks = ["bad.jsonl"]'))
    code, _, err = run("run", path)
    assert code == 2 and squash(f"{path}:{number}: [decontaminate] benchmarks: {bad}:2: "
                                "not a HumanEval row") in squash(err), err


YAML = """\
run:
  name: y
  output: {output}
llm:
  base_url: {base_url}
generate:
  - method: seed-tasks
    n: 1
    seeds: {seeds}
  - method: self-instruct
    n: 1
    seeds: {seeds}
    params:
      tasks_per_request: 1
      similarty: 0.5
solve:
  samples: four
bugs:
"""


def test_yaml_mistakes_are_located_by_line(run: Run, tmp_path: Path) -> None:
    with ScriptedServer() as server:
        path = tmp_path / "p.yaml"
        path.write_text(YAML.format(output=tmp_path / "run", base_url=server.base_url,
                                    seeds=REPO / "seeds"))
        code, _, err = run("run", path)
        assert server.count == 0
    assert code == 2, err
    assert squash(f"{path}:15: [[generate]] #2 params.similarty: unknown parameter") \
        in squash(err)
    assert squash(f"{path}:17: [solve] samples: expected an integer >= 1 <= 100, got 'four'") \
        in squash(err)


def test_the_example_pipeline_is_valid_and_finds_its_seeds(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from codesynth.pipeline import config

    monkeypatch.chdir(tmp_path)  # relative paths are found next to the pipeline file
    pipeline = config.load(REPO / "seeds/pipeline.toml")
    assert [Path(s.seeds) for s in pipeline.generate] == [REPO / "seeds/easy", REPO / "seeds"]


@pytest.mark.parametrize("interval", ["soon", "1e308", "1e-300", "0", "nan", "inf", "86401"])
def test_a_bad_progress_interval_is_reported_before_any_request(
        run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, interval: str) -> None:
    monkeypatch.setenv("CODESYNTH_PROGRESS_INTERVAL", interval)
    with ScriptedServer() as server:
        path, _ = write(tmp_path, server.base_url)
        code, _, err = run("run", path)
        assert server.count == 0
    assert code == 2 and "Traceback" not in err
    assert squash(f"CODESYNTH_PROGRESS_INTERVAL='{interval}': expected a number of seconds "
                  "from 0.1 to 86400") in squash(err)
