"""Generator parameters: declared once, checked before any request, listed by ``--help``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from codesynth.errors import UserError
from codesynth.generators.base import Context, Param, check_params
from codesynth.generators.evol_instruct import ROUNDS
from codesynth.registry import generators
from tests.conftest import Run, squash
from tests.openai_server import ScriptedServer
from tests.test_generate import SEEDS, scripted

WHERE = "seeds/pipeline.toml: [generate #2]"


def message(method: str, params: dict[str, object]) -> str:
    with pytest.raises(UserError) as caught:
        check_params(method, params, WHERE)
    assert str(caught.value).startswith(WHERE)
    return str(caught.value)


def test_check_params_normalizes_strings_and_keeps_typed_values() -> None:
    assert check_params("self-align", {"samples": "4", "keep": "all", "per_file": 2},
                        WHERE) == {"samples": 4, "keep": "all", "per_file": 2}
    assert check_params("self-instruct", {"similarity": "0.5", "max_requests": 7},
                        WHERE) == {"similarity": 0.5, "max_requests": 7}
    assert check_params("evol-instruct", {"similarity": 1}, WHERE) == {"similarity": 1.0}
    assert check_params("seed-tasks", {}, WHERE) == {}


def test_check_params_names_the_step_the_key_and_what_was_expected() -> None:
    assert message("evol-instruct", {"rounds": "x"}) == \
        f"{WHERE} params.rounds: expected an integer, got 'x'"
    assert message("self-align", {"samples": "four"}).endswith(
        "params.samples: expected an integer, got 'four'")
    assert "params.samples: expected an integer, got 4.5" in message("self-align",
                                                                      {"samples": 4.5})
    assert "params.rounds: expected an integer, got True" in message("evol-instruct",
                                                                     {"rounds": True})
    assert "params.keep: expected one of one, all, got 'some'" in message(
        "self-align", {"keep": "some"})
    assert "params.similarity: must be at most 1, got 1.5" in message(
        "self-instruct", {"similarity": 1.5})
    assert "params.rounds: must be at least 1, got 0" in message("evol-instruct",
                                                                  {"rounds": 0})
    assert "expected a number, got 'nan'" in message("self-instruct", {"similarity": "nan"})


def test_a_misspelt_key_is_never_accepted() -> None:
    text = message("evol-instruct", {"round": 2})
    assert text == (f"{WHERE} params.round: unknown parameter "
                    "(known: rounds, similarity, max_requests, language, languages)")
    assert "params.anything: unknown parameter (known: none)" in message(
        "seed-tasks", {"anything": 1})


def test_an_unknown_method_lists_the_known_ones() -> None:
    text = message("self-instrut", {})
    assert text.startswith(f"{WHERE} method: unknown generator 'self-instrut' (known: ")
    assert "self-instruct" in text and "evol-instruct" in text


def test_bool_parameters_read_true_and_false() -> None:
    flag = Param("flag", bool, False, "a switch")
    assert flag.normalize("true", "w") is True and flag.normalize("False", "w") is False
    assert flag.normalize(True, "w") is True
    with pytest.raises(UserError, match="w: expected true or false, got 'maybe'"):
        flag.normalize("maybe", "w")
    with pytest.raises(UserError, match="expected true or false, got 1"):
        flag.normalize(1, "w")


def test_every_builtin_generator_declares_its_parameters() -> None:
    for name in generators.builtin_names():
        params = generators.get(name).params
        assert all(isinstance(p, Param) and p.help for p in params), name
        assert len({p.name for p in params}) == len(params), name
        for p in params:  # a declared default passes its own checks
            if p.default is not None:
                assert p.normalize(p.default, name) == p.default


def test_context_param_reads_through_the_declaration(tmp_path: Path) -> None:
    ctx = Context(llm=None, seeds=tmp_path, n=1, params={"rounds": "2"})  # type: ignore[arg-type]
    assert ctx.param(ROUNDS) == 2
    assert Context(llm=None, seeds=tmp_path, n=1).param(ROUNDS) == 3  # type: ignore[arg-type]
    bad = Context(llm=None, seeds=tmp_path, n=1, params={"rounds": 2.5})  # type: ignore[arg-type]
    with pytest.raises(UserError, match="params.rounds: expected an integer, got 2.5"):
        bad.param(ROUNDS)


def _generate(run: Run, server: ScriptedServer, tmp_path: Path, method: str,
              *params: str) -> tuple[int, str]:
    code, _, err = run("generate", method, "--seeds", SEEDS, "--n", "2", "-o",
                       tmp_path / "out.jsonl", "--base-url", server.base_url, "--cache",
                       tmp_path / "cache.sqlite", *(f"--param={p}" for p in params))
    return code, squash(err)


@pytest.mark.parametrize(("method", "param", "expected"), [
    ("evol-instruct", "round=2", "generateevol-instruct:params.round:unknownparameter"
                                 "(known:rounds,similarity,max_requests,language,languages)"),
    ("evol-instruct", "rounds=x", "generateevol-instruct:params.rounds:expectedaninteger,"
                                  "got'x'"),
    ("self-align", "keep=some", "params.keep:expectedoneofone,all,got'some'"),
    ("self-instruct", "similarity=2", "params.similarity:mustbeatmost1,got'2'"),
    ("oss-instruct", "per_file", "--param'per_file':expectedKEY=VALUE"),
])
def test_bad_params_exit_2_before_any_request(run: Run, tmp_path: Path, method: str,
                                              param: str, expected: str) -> None:
    with ScriptedServer(scripted) as server:
        code, err = _generate(run, server, tmp_path, method, param)
        assert server.count == 0
    assert code == 2
    assert expected in err
    assert not (tmp_path / "out.jsonl").exists()


def test_a_good_param_reaches_the_generator(run: Run, tmp_path: Path) -> None:
    with ScriptedServer(lambda r: "[Problem Description]\nNothing.") as server:
        code, err = _generate(run, server, tmp_path, "oss-instruct", "max_requests=3",
                              "per_file=1")
        assert server.count == 3  # max_requests, as an integer, bounded the run
    assert code == 1 and "0recordskept" in err


def test_help_lists_every_method_and_its_parameters(run: Run,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        run("generate", "--help")
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "--allow-empty" in out and "methods and their parameters" in out
    methods = out.split("methods and their parameters")[1]
    for name in generators.builtin_names():
        section = re.split(r"\n  (?=\S)", methods.split(f"\n  {name}\n")[1])[0]
        for p in generators.get(name).params:
            assert squash(p.describe()) in squash(section)
    assert squash("keep (one|all, default 'one'): one: the first response") in squash(out)
    assert squash("max_requests (int, default computed, >= 1 and <= 1e+09): requests to try "
                  "before giving "
                  "up (default: 20 × n)") in squash(out)
    assert squash("rounds (int, default 3, >= 1): rounds of evolution") in squash(out)
    assert "    (no parameters)" in methods.split("\n  seed-tasks\n")[1]
