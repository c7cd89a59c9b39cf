"""JSON Lines in (errors name file and line) and out (never half-written under the final name)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codesynth.errors import InputError, UserError
from codesynth.jsonl import AtomicJSONLWriter, ResumableJSONLWriter, read_objects

json_objects = st.dictionaries(
    st.text(max_size=10),
    st.recursive(
        st.none() | st.booleans() | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
        lambda children: st.lists(children, max_size=3)
        | st.dictionaries(st.text(max_size=5), children, max_size=3),
        max_leaves=8),
    max_size=5)


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------------------------------------
# read_objects


def test_blank_lines_are_skipped_and_line_numbers_are_physical(tmp_path: Path) -> None:
    path = write_bytes(tmp_path / "a.jsonl",
                       b'{"a": 1}\n\n   \n\t\n{"b": 2}\n{"c": "\xc3\xa9"}\n\n')
    assert list(read_objects(path)) == [(1, {"a": 1}), (5, {"b": 2}), (6, {"c": "é"})]


def test_crlf_and_missing_final_newline(tmp_path: Path) -> None:
    path = write_bytes(tmp_path / "a.jsonl", b'{"a": 1}\r\n\r\n{"b": "x\\r\\ny"}')
    assert list(read_objects(path)) == [(1, {"a": 1}), (3, {"b": "x\r\ny"})]


def test_accepts_str_and_pathlike(tmp_path: Path) -> None:
    path = write_bytes(tmp_path / "a.jsonl", b'{"a": 1}\n')
    assert list(read_objects(str(path))) == list(read_objects(path)) == [(1, {"a": 1})]


def test_gzip_input(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write('{"task_id": "T/0", "s": "ü"}\n\n{"task_id": "T/1"}\n')
    assert list(read_objects(path)) == [(1, {"task_id": "T/0", "s": "ü"}),
                                        (3, {"task_id": "T/1"})]


def test_gzip_errors_have_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write('{"a": 1}\n{"a": \n')
    with pytest.raises(InputError) as info:
        list(read_objects(path))
    assert (info.value.path, info.value.line) == (str(path), 2)


def test_invalid_json_names_file_and_line(tmp_path: Path) -> None:
    path = write_bytes(tmp_path / "bad.jsonl", b'{"a": 1}\n\n{"a": 2,}\n{"a": 3}\n')
    reader = read_objects(path)
    assert next(reader) == (1, {"a": 1})  # records before the bad line come out first
    with pytest.raises(InputError) as info:
        next(reader)
    error = info.value
    assert (error.path, error.line, error.field) == (str(path), 3, None)
    assert str(error).startswith(f"{path}:3: invalid JSON")
    assert error.exit_code == 2
    assert isinstance(error, UserError)


@pytest.mark.parametrize(("line", "kind"), [
    ("[1, 2]", "list"), ('"text"', "str"), ("42", "int"), ("null", "NoneType"),
    ("true", "bool"), ("1.5", "float"),
])
def test_non_objects_are_rejected(tmp_path: Path, line: str, kind: str) -> None:
    path = write_bytes(tmp_path / "a.jsonl", f'{{"ok": 1}}\n{line}\n'.encode())
    with pytest.raises(InputError, match=rf":2: expected a JSON object, got {kind}$"):
        list(read_objects(path))


@pytest.mark.parametrize("name", ["a.jsonl", "a.jsonl.gz"])
def test_non_utf8_is_an_input_error(tmp_path: Path, name: str) -> None:
    data = b'{"a": 1}\n{"a": "caf\xe9"}\n'  # latin-1
    path = tmp_path / name
    if name.endswith(".gz"):
        with gzip.open(path, "wb") as handle:
            handle.write(data)
    else:
        path.write_bytes(data)
    with pytest.raises(InputError) as info:
        list(read_objects(path))
    assert info.value.path == str(path)
    assert "not UTF-8" in str(info.value)
    assert str(path) in str(info.value)


def test_missing_file_and_directory_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such file") as info:
        list(read_objects(tmp_path / "nope.jsonl"))
    assert str(tmp_path / "nope.jsonl") in str(info.value)
    with pytest.raises(UserError, match="is a directory"):
        list(read_objects(tmp_path))


@pytest.mark.parametrize("data", [b"this is not gzip\n", gzip.compress(b'{"a": 1}\n' * 50)[:-12]])
def test_corrupt_gzip_is_a_user_error(tmp_path: Path, data: bytes) -> None:
    path = write_bytes(tmp_path / "a.jsonl.gz", data)
    with pytest.raises(UserError, match="cannot read"):
        list(read_objects(path))


def test_json_extensions_python_accepts(tmp_path: Path) -> None:
    """Documents what json.loads lets through: NaN/Infinity constants."""
    path = write_bytes(tmp_path / "a.jsonl", b'{"x": NaN, "y": Infinity}\n')
    [(line, value)] = list(read_objects(path))
    assert line == 1 and value["y"] == float("inf") and value["x"] != value["x"]


# ---------------------------------------------------------------------------------------------
# AtomicJSONLWriter


def read_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_success_renames_partial(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    writer = AtomicJSONLWriter(out)
    assert writer.partial == tmp_path / "out.jsonl.partial"
    with writer:
        writer.write({"id": 1, "text": "héllo ✓"})
        assert writer.partial.exists() and not out.exists()
        writer.write({"id": 2})
    assert writer.count == 2
    assert out.exists() and not writer.partial.exists()
    assert out.read_text(encoding="utf-8") == '{"id": 1, "text": "héllo ✓"}\n{"id": 2}\n'


def test_empty_success_writes_an_empty_file(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with AtomicJSONLWriter(out):
        pass
    assert out.read_bytes() == b""
    assert not (tmp_path / "out.jsonl.partial").exists()


class Boom(Exception):
    pass


def test_exception_leaves_only_partial(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with pytest.raises(Boom), AtomicJSONLWriter(out) as writer:
        writer.write({"id": 1})
        writer.write({"id": 2})
        raise Boom
    assert not out.exists()
    partial = tmp_path / "out.jsonl.partial"
    assert partial.exists()
    assert read_lines(partial) == [{"id": 1}, {"id": 2}]  # flushed, inspectable


def test_exception_keeps_a_previous_output(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text('{"old": true}\n')
    with pytest.raises(KeyboardInterrupt), AtomicJSONLWriter(out) as writer:
        writer.write({"new": True})
        raise KeyboardInterrupt
    assert out.read_text() == '{"old": true}\n'
    assert (tmp_path / "out.jsonl.partial").exists()


def test_success_replaces_a_previous_output_and_stale_partial(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text('{"old": true}\n')
    (tmp_path / "out.jsonl.partial").write_text("stale garbage")
    with AtomicJSONLWriter(out) as writer:
        writer.write({"new": True})
    assert read_lines(out) == [{"new": True}]
    assert not (tmp_path / "out.jsonl.partial").exists()


def test_missing_directory_is_a_user_error_before_anything_is_written(tmp_path: Path) -> None:
    out = tmp_path / "no" / "such" / "out.jsonl"
    with pytest.raises(UserError, match="does not exist") as info:
        AtomicJSONLWriter(out)
    assert str(out.parent) in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_relative_path_in_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with AtomicJSONLWriter("rel.jsonl") as writer:
        writer.write({"a": 1})
    assert read_lines(tmp_path / "rel.jsonl") == [{"a": 1}]


def test_many_records(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with AtomicJSONLWriter(out) as writer:
        for i in range(1000):
            writer.write({"i": i})
    assert [v for _, v in read_objects(out)] == [{"i": i} for i in range(1000)]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=50,
          deadline=None)
@given(st.lists(json_objects, max_size=8))
def test_writer_output_reads_back(tmp_path: Path, records: list[dict[str, Any]]) -> None:
    out = tmp_path / "rt.jsonl"
    with AtomicJSONLWriter(out) as writer:
        for record in records:
            writer.write(record)
    assert [v for _, v in read_objects(out)] == records
    assert [n for n, _ in read_objects(out)] == list(range(1, len(records) + 1))


def test_whatever_read_objects_reads_the_writer_can_write(tmp_path: Path) -> None:
    source = write_bytes(tmp_path / "in.jsonl", b'{"code": "x = \'\\ud800\'"}\n')
    [(_, record)] = list(read_objects(source))
    out = tmp_path / "out.jsonl"
    with AtomicJSONLWriter(out) as writer:
        writer.write(record)
    assert [v for _, v in read_objects(out)] == [record]


# ---------------------------------------------------------------------------------------------
# ResumableJSONLWriter


FINGERPRINT = {"command": "test", "input": {"size": 3}, "options": {"timeout": 1.0}}


def write_all(out: Path, records: list[dict[str, Any]], kept: int = 0) -> None:
    writer = ResumableJSONLWriter(out)
    inputs = list(enumerate(records, start=1))
    if writer.open_partial(FINGERPRINT):
        assert [r for r in writer.kept(inputs, ("out",))] == [
            {**r, "out": i} for i, r in enumerate(records[:kept])]
    with writer:
        for index, record in enumerate(records[kept:], start=kept):
            writer.write({**record, "out": index})


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60,
          deadline=None)
@given(st.lists(json_objects, min_size=1, max_size=8), st.floats(0, 1), st.booleans())
def test_any_cut_of_the_partial_resumes_to_the_same_file(
        tmp_path: Path, records: list[dict[str, Any]], cut: float, big: bool) -> None:
    if big:  # lines longer than the backward scan's 64 KiB chunks
        records = [{**r, "pad": "x" * 70_000} for r in records]
    records = [{k: v for k, v in r.items() if k != "out"} for r in records]
    out = tmp_path / "resume.jsonl"
    write_all(out, records)
    whole = out.read_bytes()
    prefix = whole[:int(cut * len(whole))]
    out.with_name("resume.jsonl.partial").write_bytes(prefix)
    out.with_name("resume.jsonl.partial.meta").write_text(json.dumps(FINGERPRINT))
    write_all(out, records, kept=prefix.count(b"\n"))
    assert out.read_bytes() == whole
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("resume")) == [
        "resume.jsonl"]


def test_resumable_writer_without_a_partial_starts_fresh_and_cleans_up(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    writer = ResumableJSONLWriter(out)
    assert writer.open_partial(FINGERPRINT) is False
    with writer:
        writer.write({"a": 1})
        meta = json.loads((tmp_path / "out.jsonl.partial.meta").read_text())
        assert meta == FINGERPRINT  # written before the first record
    assert read_lines(out) == [{"a": 1}]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]


def test_a_different_fingerprint_is_refused_and_restart_discards(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    (tmp_path / "out.jsonl.partial").write_bytes(b'{"a": 1}\n{"a"')
    (tmp_path / "out.jsonl.partial.meta").write_text(json.dumps(
        {**FINGERPRINT, "options": {"timeout": 2.0}}))
    with pytest.raises(UserError, match=r"different run \(changed: options.timeout 2.0 -> "
                                        r"1.0\).*--restart"):
        ResumableJSONLWriter(out).open_partial(FINGERPRINT)
    assert (tmp_path / "out.jsonl.partial").read_bytes() == b'{"a": 1}\n{"a"'  # untouched
    writer = ResumableJSONLWriter(out, restart=True)
    assert writer.open_partial(FINGERPRINT) is False
    with writer:
        writer.write({"b": 2})
    assert read_lines(out) == [{"b": 2}]


def test_kept_records_must_hold_their_input(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    (tmp_path / "out.jsonl.partial").write_bytes(b'{"id": 1, "r": 0}\n{"id": 3, "r": 0}\n')
    (tmp_path / "out.jsonl.partial.meta").write_text(json.dumps(FINGERPRINT))
    writer = ResumableJSONLWriter(out)
    assert writer.open_partial(FINGERPRINT)
    inputs = [(1, {"id": 1, "r": "input's own r"}), (4, {"id": 2})]
    rows = writer.kept(inputs, ("r",))
    assert next(rows) == {"id": 1, "r": 0}  # a field the command writes may differ
    with pytest.raises(UserError, match="partial:2: is not the result of input line 4"):
        next(rows)
    assert list(ResumableJSONLWriter(out).kept([], ())) == []  # not opened: nothing kept
    writer = ResumableJSONLWriter(out)
    writer.open_partial(FINGERPRINT)
    with pytest.raises(UserError, match="more records than the input"):
        list(writer.kept(inputs[:1], ("r",)))


# ---------------------------------------------------------------------------------------------
# InputError messages


@pytest.mark.parametrize(("line", "field", "expected"), [
    (3, "code", "in.jsonl:3: field 'code' is missing"),
    (3, None, "in.jsonl:3: is missing"),
    (None, None, "in.jsonl: is missing"),
    (None, "tests", "in.jsonl: field 'tests' is missing"),
])
def test_input_error_format(line: int | None, field: str | None, expected: str) -> None:
    error = InputError("in.jsonl", line, "is missing", field)
    assert str(error) == expected
    assert (error.path, error.line, error.field) == ("in.jsonl", line, field)
    assert error.exit_code == 2


def test_input_error_quotes_user_values_verbatim() -> None:
    error = InputError("in.jsonl", 2, "unknown test style 'a:  b'", "test_style")
    assert str(error) == "in.jsonl:2: field 'test_style' unknown test style 'a:  b'"
