"""``codesynth run`` on an outside tester's bad pipeline files (findings 7, 8, 9, 16): each is
exit 2 with ``FILE:LINE: [section] key: what is wrong``, no traceback, before any model
request and before the run directory exists."""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Run, squash
from tests.openai_server import ScriptedServer
from tests.test_pipeline_validation import REPO, write

Make = Callable[[Path], None]  # writes the files a case needs into tmp_path


def _bench(text: str | bytes, name: str = "bench.jsonl") -> Make:
    def make(tmp_path: Path) -> None:
        data = text.encode() if isinstance(text, str) else text
        (tmp_path / name).write_bytes(data)
    return make


def _corrupt_gzip() -> bytes:
    data = bytearray(gzip.compress(b'{"task_id": "a"}\n' * 50))
    data[10] = 0xFE  # the first deflate block's type: 3, invalid (zlib.error)
    return bytes(data)


def _nothing(tmp_path: Path) -> None:
    pass


def _a_file(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")


def _binary_seeds(tmp_path: Path) -> None:
    (tmp_path / "seeds.jsonl").write_bytes(b'{"instruction": "a"}\n\xff\xfe\x00garbage\n')


BENCH = 'benchmarks = ["{tmp}/bench.jsonl"]'
# (id, line of VALID replaced (by its start), the new text, files to make, the text of the
# line at fault, what the message says after "FILE:LINE: ")
CASES = [
    # 7: benchmark rows typed at load; a corrupt gzip stream
    ("bench-prompt-int", "benchmarks =", BENCH,
     _bench('{"task_id": 1, "prompt": 5, "test": "", "entry_point": "x"}\n'), "benchmarks",
     "[decontaminate] benchmarks: {tmp}/bench.jsonl:1: field 'task_id': expected a string, "
     "got int"),
    ("bench-entry-point", "benchmarks =", BENCH,
     _bench('{"task_id": "a", "prompt": "", "test": "", "entry_point": "not a name"}\n'),
     "benchmarks", "[decontaminate] benchmarks: {tmp}/bench.jsonl:1: field 'entry_point': "
     "expected a function name"),
    ("bench-mbpp-tests", "benchmarks =", BENCH,
     _bench('{"task_id": 1, "text": "t", "code": "def f(): pass", "test_list": [1]}\n'),
     "benchmarks", "[decontaminate] benchmarks: {tmp}/bench.jsonl:1: field 'test_list': "
     "expected a list of strings"),
    ("bench-corrupt-gzip", "benchmarks =", 'benchmarks = ["{tmp}/b.jsonl.gz"]',
     _bench(_corrupt_gzip(), "b.jsonl.gz"), "benchmarks",
     "[decontaminate] benchmarks: {tmp}/b.jsonl.gz: cannot read (Error -3 while "
     "decompressing data: invalid block type)"),
    # 8: values that gave tracebacks
    ("regex-key", "[run]", '"a(" = 1\n[run]', _nothing, '"a(" = 1', "[a(]: unknown section"),
    ("regex-key-bracket", "[run]", '"x[" = 1\n[run]', _nothing, '"x[" = 1',
     "[x[]: unknown section"),
    ("seeds-unknown-user", "seeds =", 'seeds = "~nosuchuser_zz/x"', _nothing, "seeds =",
     "[[generate]] #1 seeds: '~nosuchuser_zz/x' does not exist"),
    ("bench-unknown-user", "benchmarks =", 'benchmarks = ["~nosuchuser_zz/a.jsonl"]',
     _nothing, "benchmarks", "[decontaminate] benchmarks: '~nosuchuser_zz/a.jsonl' is neither"),
    ("output-under-a-file", "output =", 'output = "{tmp}/afile/sub"', _a_file, "output =",
     "[run] output: cannot create {tmp}/afile/sub: {tmp}/afile is not a directory"),
    ("output-in-proc", "output =", 'output = "/proc/1/zz"', _nothing, "output =",
     "[run] output: cannot create /proc/1/zz: /proc/1 is not writable"),
    ("output-nul", "output =", 'output = "{tmp}/o\\u0000x"', _nothing, "output =",
     "[run] output: contains a NUL byte"),
    ("cache-under-dev-null", "max_tokens =", 'max_tokens = 64\ncache = "/dev/null/x.sqlite"',
     _nothing, "cache =", "[llm] cache: cannot create /dev/null/x.sqlite: /dev/null is not a "
     "directory"),
    ("cache-a-directory", "max_tokens =", 'max_tokens = 64\ncache = "{tmp}"', _nothing,
     "cache =", "[llm] cache: {tmp} is a directory, expected a file path"),
    ("concurrency-huge", "max_tokens =", f"max_tokens = 64\nconcurrency = {10**30}", _nothing,
     "concurrency", "[llm] concurrency: expected an integer >= 1 <= 1024"),
    ("llm-max-tokens-huge", "max_tokens =", f"max_tokens = {10**30}", _nothing, "max_tokens",
     "[llm] max_tokens: expected an integer >= 1 <= 1000000"),
    ("sandbox-timeout-huge", "timeout =", "timeout = 1e308", _nothing, "timeout",
     "[sandbox] timeout: expected a number > 0 <= 86400, got 1e+308"),
    ("sandbox-workers-huge", "timeout =", f"timeout = 5\nworkers = {10**23}", _nothing,
     "workers", "[sandbox] workers: expected an integer >= 1 <= 256"),
    ("sandbox-memory-huge", "timeout =", f"timeout = 5\nmemory_mb = {10**23}", _nothing,
     "memory_mb", "[sandbox] memory_mb: expected an integer >= 16 <= 1048576"),
    ("seed-huge", "output =", f'output = "{{tmp}}/run"\nseed = {10**47}', _nothing, "seed =",
     "[run] seed: expected an integer >= 0 <= 9223372036854775807"),
    ("seeds-not-utf8", "seeds =", 'seeds = "{tmp}/seeds.jsonl"', _binary_seeds, "seeds =",
     "[[generate]] #1 seeds: {tmp}/seeds.jsonl:2: not UTF-8 text"),
    ("dedup-fields-twice", "threshold =", 'threshold = 0.8\nfields = ["instruction", '
     '"instruction"]', _nothing, "fields =",
     "[dedup] fields: 'instruction' listed more than once"),
    ("base-url-bracket", "base_url =", 'base_url = "http://[::1"', _nothing, "base_url",
     "[llm] base_url: not a valid URL (Invalid IPv6 URL)"),
    ("base-url-port", "base_url =", 'base_url = "http://127.0.0.1:99999/v1"', _nothing,
     "base_url", "[llm] base_url: not a valid URL (Port out of range 0-65535)"),
    ("base-url-ftp", "base_url =", 'base_url = "ftp://127.0.0.1/v1"', _nothing, "base_url",
     "[llm] base_url: expected an http:// or https:// URL with a host"),
    ("api-key-newline", "max_tokens =", 'max_tokens = 64\napi_key = "a\\nb"', _nothing,
     "api_key", "[llm] api_key: must be printable ASCII without spaces or line breaks"),
    ("api-key-non-ascii", "max_tokens =", 'max_tokens = 64\napi_key = "ключ"', _nothing,
     "api_key", "[llm] api_key: must be printable ASCII without spaces or line breaks"),
    # 16: a negative budget is bad input, not "allows none"
    ("budget-requests-negative", "max_tokens =", "max_tokens = 64\nbudget_requests = -1",
     _nothing, "budget_requests", "[llm] budget_requests: expected an integer >= 1"),
    ("budget-tokens-negative", "max_tokens =", "max_tokens = 64\nbudget_tokens = -1",
     _nothing, "budget_tokens", "[llm] budget_tokens: expected an integer >= 1"),
]


@pytest.mark.parametrize(("start", "text", "make", "at", "message"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_the_testers_pipeline_is_exit_2_before_any_request(
        run: Run, tmp_path: Path, start: str, text: str, make: Make, at: str,
        message: str) -> None:
    make(tmp_path)
    with ScriptedServer() as server:
        path, _ = write(tmp_path, server.base_url, (start, text.replace("{tmp}", str(tmp_path))))
        code, _, err = run("run", path)
        assert server.count == 0
    assert code == 2, err
    assert "Traceback" not in err
    line = next(i for i, row in enumerate(path.read_text().splitlines(), 1) if at in row)
    assert squash(f"{path}:{line}: {message.replace('{tmp}', str(tmp_path))}") in squash(err), err
    assert not (tmp_path / "run").exists()


LAUGHS = """\
sandbox:
  image0: &a0 [x, x, x, x, x, x, x, x, x, x]
  x1: &a1 [*a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0]
  x2: &a2 [*a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1]
  x3: &a3 [*a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2]
  x4: &a4 [*a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3]
  x5: &a5 [*a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4]
  x6: &a6 [*a5, *a5, *a5, *a5, *a5, *a5, *a5, *a5, *a5, *a5]
  x7: &a7 [*a6, *a6, *a6, *a6, *a6, *a6, *a6, *a6, *a6, *a6]
  x8: &a8 [*a7, *a7, *a7, *a7, *a7, *a7, *a7, *a7, *a7, *a7]
run: {{name: *a8}}
llm: {{base_url: "{base_url}"}}
generate:
- {{method: self-instruct, n: 1, seeds: {seeds}}}
"""


@pytest.mark.parametrize("bomb", ["laughs", "recursive"])
def test_a_yaml_alias_bomb_is_refused_at_once(run: Run, tmp_path: Path, bomb: str) -> None:
    with ScriptedServer() as server:
        path = tmp_path / "p.yaml"
        text = LAUGHS.format(base_url=server.base_url, seeds=REPO / "seeds")
        if bomb == "recursive":
            text = text.replace("run: {name: *a8}", "run: &r {name: [*r]}")
        path.write_text(text)
        started = time.monotonic()
        code, _, err = run("run", path)
        assert server.count == 0
    assert time.monotonic() - started < 5  # 52 s and 2 GB before
    assert code == 2 and "Traceback" not in err, err
    assert squash(f"{path}: not a valid pipeline file: its aliases expand to more than "
                  "100,000 values, or refer to themselves") in squash(err)


def test_a_small_alias_is_fine_and_a_long_value_is_quoted_short(run: Run,
                                                                tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    seeds = ", ".join(["123456789"] * 1000)
    path.write_text(LAUGHS.split("  x2:")[0] + f"run: {{name: *a1, seed: [{seeds}]}}\n"
                    f"generate:\n- {{method: seed-tasks, n: 1, seeds: {REPO / 'seeds'}}}\n")
    code, _, err = run("run", path)
    assert code == 2 and "Traceback" not in err
    assert squash("[run] name: expected a non-empty string, got [['x', 'x',") in squash(err)
    assert squash("[run] seed: expected an integer >= 0") in squash(err)
    assert len(err) < 1500  # ~200 characters of each value, not 10,000


@pytest.mark.parametrize("output", ["/proc/1/zz", "{tmp}/afile/sub", "{tmp}/afile"])
def test_a_bad_output_flag_is_exit_2_before_any_request(run: Run, tmp_path: Path,
                                                        output: str) -> None:
    _a_file(tmp_path)
    output = output.replace("{tmp}", str(tmp_path))
    with ScriptedServer() as server:
        path, _ = write(tmp_path, server.base_url)
        code, _, err = run("run", path, "--output", output)
        assert server.count == 0
    assert code == 2 and "Traceback" not in err, err
    assert squash(f"--output: {output}") in squash(err) or \
        squash(f"--output: cannot create {output}") in squash(err), err
    assert not (tmp_path / "run").exists()
