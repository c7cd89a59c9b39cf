"""``codesynth generate`` on an outside tester's bad arguments and files (findings 10, 11, 16):
each is exit 2 with a message, no traceback, and no request sent."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Run, squash
from tests.openai_server import ScriptedServer
from tests.test_generate import SEEDS, scripted

Args = Callable[[Path], list[str]]  # the case's arguments, its files made in tmp_path


def _output_a_directory(tmp_path: Path) -> list[str]:
    (tmp_path / "odir").mkdir()
    return ["-o", str(tmp_path / "odir")]


def _output_not_utf8(tmp_path: Path) -> list[str]:
    (tmp_path / "out.jsonl").write_bytes(b'{"id": "a"}\n\xff\xfe not ours\n')
    return []


def _rejections_not_utf8(tmp_path: Path) -> list[str]:
    (tmp_path / "out.jsonl.rejected.jsonl").write_bytes(b"\xff\n")
    return []


def _seeds_not_utf8(tmp_path: Path) -> list[str]:
    (tmp_path / "seeds.jsonl").write_bytes(b"\xff\xfe\x00\x01")
    return ["--seeds", str(tmp_path / "seeds.jsonl")]


def _snippets_not_utf8(tmp_path: Path) -> list[str]:
    (tmp_path / "files.jsonl").write_bytes(b'{"path": "a.py", "code": "x = 1"}\n\xff\n')
    return ["--seeds", str(tmp_path / "files.jsonl")]


def _cache_a_directory(tmp_path: Path) -> list[str]:
    return ["--cache", str(tmp_path)]


def _flags(*flags: str) -> Args:
    return lambda tmp_path: list(flags)


# (id, method, arguments, what the message says ({tmp}: tmp_path))
CASES = [
    ("output-a-directory", "self-instruct", _output_a_directory,
     "-o {tmp}/odir: {tmp}/odir is a directory, expected a file path"),
    ("output-not-utf8", "self-instruct", _output_not_utf8,
     "{tmp}/out.jsonl:2: not a codesynth record; refusing to append to it"),
    ("rejections-not-utf8", "self-instruct", _rejections_not_utf8,
     "{tmp}/out.jsonl.rejected.jsonl:1: not a codesynth record"),
    ("seeds-not-utf8", "self-instruct", _seeds_not_utf8,
     "--seeds: {tmp}/seeds.jsonl:1: not UTF-8 text"),
    ("snippets-not-utf8", "oss-instruct", _snippets_not_utf8,
     "--seeds: {tmp}/files.jsonl: not UTF-8 text"),
    ("cache-a-directory", "self-instruct", _cache_a_directory,
     "cache: {tmp} is a directory"),  # said by LLMConfig or by generate
    ("budget-requests-negative", "self-instruct", _flags("--budget-requests", "-1"),
     "--budget-requests: expected an integer >= 0"),
    ("budget-tokens-negative", "self-instruct", _flags("--budget-tokens", "-1"),
     "--budget-tokens: expected an integer >= 0"),
    ("concurrency-huge", "self-instruct", _flags("--concurrency", str(10**30)),
     "--concurrency: expected an integer >= 1 <= 1024"),
    ("max-tokens-negative", "self-instruct", _flags("--max-tokens", "-1"),
     "--max-tokens: expected an integer >= 1 <= 1000000"),
    ("seed-huge", "self-instruct", _flags("--seed", str(10**47)),
     "--seed: expected an integer >= 0 <= 9223372036854775807"),
    ("n-zero", "self-instruct", _flags("--n", "0"), "--n: expected an integer >= 1"),
]


@pytest.mark.parametrize(("method", "args", "message"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_the_testers_arguments_are_exit_2_before_any_request(
        run: Run, tmp_path: Path, method: str, args: Args, message: str) -> None:
    extra = args(tmp_path)
    with ScriptedServer(scripted) as server:
        code, _, err = run("generate", method, "--seeds", SEEDS, "--n", "1", "-o",
                           tmp_path / "out.jsonl", "--base-url", server.base_url, "--cache",
                           tmp_path / "cache.sqlite", *extra)
        assert server.count == 0
    assert code == 2, err
    assert "Traceback" not in err
    assert squash(message.replace("{tmp}", str(tmp_path))) in squash(err), err


@pytest.mark.parametrize("interval", ["1e308", "1e-300", "0.05", "-1", "nan"])
def test_a_progress_interval_out_of_range_is_exit_2(run: Run, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    interval: str) -> None:
    monkeypatch.setenv("CODESYNTH_PROGRESS_INTERVAL", interval)
    with ScriptedServer(scripted) as server:
        code, _, err = run("generate", "self-instruct", "--seeds", SEEDS, "--n", "1", "-o",
                           tmp_path / "out.jsonl", "--base-url", server.base_url)
        assert server.count == 0
    assert code == 2 and "Traceback" not in err
    assert squash(f"CODESYNTH_PROGRESS_INTERVAL='{interval}': expected a number of seconds "
                  "from 0.1 to 86400") in squash(err)
