"""The seed-snippet extractor on the seed corpus and on made-up files: real parsing, no mocks."""

from __future__ import annotations

import hashlib
import json
import random
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tree_sitter_language_pack import get_parser

from codesynth.generators.snippets import (
    LANGUAGES,
    Snippet,
    extract,
    iter_snippets,
    language_of,
    split_lines,
)

CORPUS = Path(__file__).resolve().parent.parent / "seeds" / "snippets"
FILES = sorted(p for p in CORPUS.rglob("*") if p.is_file())

# A definition each corpus file must yield: (file, kind, text its first line contains).
EXPECTED = [
    ("python/lru_cache.py", "class", "class LRUCache(Generic[K, V]):"),
    ("python/lru_cache.py", "function", "def put(self, key: K, value: V)"),
    ("python/lru_cache.py", "class", "@dataclass"),  # decorated: starts at the decorator
    ("python/tokenizer.py", "function", "def to_postfix("),
    ("javascript/rate_limiter.js", "class", "class TokenBucket {"),
    ("javascript/rate_limiter.js", "function", "tryTake(cost = 1) {"),
    ("javascript/rate_limiter.js", "function", "function middleware("),
    ("typescript/trie.ts", "class", "export class Trie {"),
    ("typescript/trie.ts", "function", "withPrefix(prefix: string"),
    ("java/RingBuffer.java", "class", "public final class RingBuffer<T>"),
    ("java/RingBuffer.java", "function", "public RingBuffer(int capacity) {"),
    ("java/RingBuffer.java", "function", "public List<T> toList() {"),
    ("go/csv.go", "function", "func Parse(text string, opts Options)"),
    ("go/csv.go", "class", "type Options struct {"),
    ("rust/matrix.rs", "class", "impl Matrix {"),
    ("rust/matrix.rs", "function", "pub fn determinant(&self)"),
    ("c/strutil.c", "function", "char *str_replace("),
    ("c/hash_table.h", "class", "struct hash_table {"),
    ("c/hash_table.h", "function", "static int ht_set("),
    ("cpp/intervals.cpp", "class", "class IntervalSet {"),
    ("cpp/intervals.cpp", "function", "void insert(Interval item) {"),
    ("ruby/retry.rb", "class", "module Retry"),
    ("ruby/retry.rb", "function", "def self.with_retries("),
    ("bash/rotate_backups.sh", "function", "prune_archives() {"),
]


def rel(path: Path) -> str:
    return path.relative_to(CORPUS).as_posix()


def snippets_of(name: str, seed: int = 0, **options: int) -> list[Snippet]:
    path = CORPUS / name
    return extract(name, path.read_text(encoding="utf-8"), LANGUAGES[path.suffix],
                   random.Random(seed), **options)


def check_slice(snippet: Snippet, source: str) -> None:
    lines = source.split("\n")
    lines = [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
    assert 1 <= snippet.start_line <= snippet.end_line <= len(lines)
    assert snippet.code == "".join(lines[snippet.start_line - 1:snippet.end_line])
    key = f"{snippet.path}:{snippet.start_line}:{snippet.end_line}:{snippet.kind}"
    assert snippet.id == hashlib.sha256(key.encode()).hexdigest()[:16]


def test_corpus_has_enough_files_and_languages() -> None:
    assert len(FILES) >= 12
    assert all(30 <= len(p.read_text().splitlines()) <= 120 for p in FILES)
    languages = {language_of(p) for p in FILES}
    assert None not in languages and len(languages) >= 6


@pytest.mark.parametrize("path", FILES, ids=rel)
def test_corpus_file_parses_cleanly(path: Path) -> None:
    language = LANGUAGES[path.suffix]
    tree = get_parser(language).parse(path.read_bytes())  # type: ignore[arg-type]
    assert not tree.root_node.has_error


@pytest.mark.parametrize("path", FILES, ids=rel)
def test_corpus_snippets_are_exact_line_ranges(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    found = snippets_of(rel(path))
    assert found and any(s.kind != "lines" for s in found)
    assert len({s.id for s in found}) == len(found)
    for snippet in found:
        assert snippet.path == rel(path) and snippet.language == LANGUAGES[path.suffix]
        assert snippet.kind in ("function", "class", "lines")
        assert 3 <= snippet.end_line - snippet.start_line + 1 <= 40
        check_slice(snippet, source)


@pytest.mark.parametrize(("name", "kind", "first_line"), EXPECTED)
def test_definitions_found(name: str, kind: str, first_line: str) -> None:
    starts = [s.code.splitlines()[0] for s in snippets_of(name) if s.kind == kind]
    assert any(first_line in line for line in starts), starts


def test_long_definition_is_cut_to_max_lines() -> None:
    source = (CORPUS / "python/lru_cache.py").read_text()
    [cls] = [s for s in snippets_of("python/lru_cache.py") if s.code.startswith("class LRU")]
    assert cls.end_line - cls.start_line + 1 == 40
    [short] = [s for s in snippets_of("python/lru_cache.py", max_lines=5, min_lines=1)
               if s.code.startswith("class LRU")]
    assert short.end_line == short.start_line + 4
    check_slice(short, source)


def test_same_seed_same_snippets_other_seed_other_lines() -> None:
    names = [rel(p) for p in FILES]
    first = [snippets_of(n, seed=1) for n in names]
    assert first == [snippets_of(n, seed=1) for n in names]
    other = [snippets_of(n, seed=2) for n in names]
    assert first != other
    defs = [[s for s in found if s.kind != "lines"] for found in first]
    assert defs == [[s for s in found if s.kind != "lines"] for found in other]
    assert list(iter_snippets(CORPUS, seed=5)) == list(iter_snippets(CORPUS, seed=5))
    assert list(iter_snippets(CORPUS, seed=5)) != list(iter_snippets(CORPUS, seed=6))


def test_syntax_error_still_gives_lines_and_clean_definitions() -> None:
    source = ("def broken(:\n    return )\n\n\n"
              "def fine(a, b):\n    total = a + b\n    return total\n")
    found = extract("bad.py", source, "python", random.Random(0))
    assert any(s.kind == "lines" for s in found)
    assert [s.code for s in found if s.kind == "function"] == \
        ["def fine(a, b):\n    total = a + b\n    return total\n"]
    for snippet in found:
        check_slice(snippet, source)
    garbage = "}{ fn fn ( ((\n" * 10
    found = extract("bad.rs", garbage, "rust", random.Random(0))
    assert found and {s.kind for s in found} == {"lines"}


def test_unknown_language_and_tiny_sources() -> None:
    source = "".join(f"line {i}\n" for i in range(50))
    found = extract("notes.txt", source, "klingon", random.Random(3), runs=4)
    assert len(found) >= 2 and {s.kind for s in found} == {"lines"}
    assert extract("empty.py", "", "python", random.Random(0)) == []
    assert extract("blank.py", "\n  \n\n", "python", random.Random(0)) == []
    [one] = extract("one.py", "x = 1", "python", random.Random(0), runs=1)
    assert (one.kind, one.start_line, one.end_line, one.code) == ("lines", 1, 1, "x = 1")
    with pytest.raises(ValueError):
        extract("a.py", source, "python", random.Random(0), min_lines=5, max_lines=4)


def test_to_dict_round_trips() -> None:
    snippet = snippets_of("go/csv.go")[0]
    data = snippet.to_dict()
    assert set(data) == {"id", "language", "path", "kind", "start_line", "end_line", "code"}
    assert Snippet(**json.loads(json.dumps(data))) == snippet


def test_iter_snippets_walks_sorted_and_skips_what_it_cannot_use(tmp_path: Path) -> None:
    body = "".join(f"def f{i}(x):\n    y = x + {i}\n    return y\n\n" for i in range(6))
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "two.py").write_text(body)
    (tmp_path / "a.py").write_text(body)
    (tmp_path / "notes.txt").write_text(body)  # unknown extension
    (tmp_path / "Makefile").write_text(body)  # no extension
    (tmp_path / "blob.py").write_bytes(b"def f():\n\x00\x01\x02 binary\n" * 20)
    (tmp_path / "latin1.py").write_bytes(("# caf\xe9\n" + body).encode("latin-1"))
    (tmp_path / "huge.py").write_text(body * 100)
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "c.py").write_text(body)
    found = list(iter_snippets(tmp_path, seed=0, per_file=2, max_bytes=len(body) * 10))
    assert [s.path for s in found] == ["a.py", "a.py", "b/two.py", "b/two.py"]
    for snippet in found:
        check_slice(snippet, body)
    everything = {s.path for s in iter_snippets(tmp_path, seed=0, per_file=100)}
    assert everything == {"a.py", "b/two.py", "huge.py"}  # within the default 1 MB
    assert [s.path for s in iter_snippets(tmp_path / "a.py", seed=0)] == ["a.py"] * 3
    assert list(iter_snippets(tmp_path / "notes.txt", seed=0)) == []
    assert list(iter_snippets(tmp_path / "missing", seed=0)) == []


def test_iter_snippets_reads_jsonl(tmp_path: Path) -> None:
    code = "fn main() {\n    let x = 1;\n    println!(\"{}\", x);\n}\n"
    python = "def g():\n    a = 1\n    return a\n"
    records = [{"path": "src/main.rs", "code": code},
               {"path": "x.weird", "language": "python", "code": python},
               {"path": "unknown.zzz", "code": code}]
    source = tmp_path / "files.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in records) + "\n")
    found = list(iter_snippets(source, seed=0, per_file=5))
    assert {(s.path, s.language) for s in found} == {("src/main.rs", "rust"), ("x.weird", "python")}
    assert any(s.kind == "function" and s.path == "src/main.rs" for s in found)


FRAGMENTS = ["def f(x):", "    return x", "class A:", "    pass", "@decorator", "async def g():",
             "    y = [1,", "2]", "", "  ", "\r", "\t# comment", "if x:", '"""', "x = (", "\x0c"]
python_text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=20)),
                       max_size=40).map("\n".join)


@settings(max_examples=300, deadline=None, database=None)
@given(source=python_text, seed=st.integers(0, 2**32), min_lines=st.integers(1, 3),
       extra=st.integers(0, 10))
def test_snippets_are_contiguous_slices(source: str, seed: int, min_lines: int,
                                        extra: int) -> None:
    lines = split_lines(source)
    assert "".join(lines) == source
    max_lines = min_lines + extra
    found = extract("h.py", source, "python", random.Random(seed), max_lines=max_lines,
                    min_lines=min_lines)
    for snippet in found:
        check_slice(snippet, source)
        assert snippet.end_line - snippet.start_line + 1 <= max_lines
        assert snippet.code.strip()
        if snippet.kind == "function":
            assert re.match(r"\s*(@|async\b|def\b)", snippet.code), snippet
        elif snippet.kind == "class":
            assert re.match(r"\s*(@|class\b)", snippet.code), snippet
