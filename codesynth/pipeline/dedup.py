"""Duplicates: exact (after normalization) and near (MinHash LSH, datasketch), per field."""

from __future__ import annotations

import collections
import io
import re
import tokenize
from collections.abc import Sequence
from typing import Any


def normalize_text(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def code_tokens(code: str) -> list[str]:
    """Python tokens without comments, docstring-free whitespace; words as a fallback."""
    try:
        tokens = [t.string for t in tokenize.generate_tokens(io.StringIO(code).readline)
                  if t.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE,
                                    tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER)]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        tokens = re.findall(r"\w+|[^\w\s]", code)
    return tokens


def _shingles(field: str, value: str) -> set[bytes]:
    words = code_tokens(value) if field == "code" else normalize_text(value).split()
    size = 5 if field == "code" else 3
    if len(words) <= size:
        return {" ".join(words).encode()}
    return {" ".join(words[i:i + size]).encode() for i in range(len(words) - size + 1)}


class Deduplicator:
    """``check(record)`` says why a record duplicates an earlier one, or adds it and says
    None. Exact: normalized text (code: its tokens without comments). Near: Jaccard over
    shingles estimated by MinHash, above ``threshold``."""

    def __init__(self, fields: Sequence[str] = ("instruction", "code"), exact: bool = True,
                 near: bool = True, threshold: float = 0.8, num_perm: int = 128) -> None:
        from datasketch import MinHashLSH

        self.fields, self.exact, self.near = tuple(fields), exact, near
        self.num_perm = num_perm
        # One index per language: a task solved in Python and in C++ is two records.
        self._seen: dict[tuple[str, str], set[str]] = collections.defaultdict(set)
        self._lsh: dict[tuple[str, str], MinHashLSH] = collections.defaultdict(
            lambda: MinHashLSH(threshold=threshold, num_perm=num_perm))

    def _key(self, field: str, value: str) -> str:
        return " ".join(code_tokens(value)) if field == "code" else normalize_text(value)

    def check(self, record: dict[str, Any]) -> str | None:
        from datasketch import MinHash

        hashes = {}
        language = str(record.get("language") or "python")
        for field in self.fields:
            value = record.get(field)
            if not isinstance(value, str) or not value.strip():
                continue
            if self.exact and self._key(field, value) in self._seen[language, field]:
                return f"exact_duplicate_{field}"
            if self.near:
                minhash = MinHash(num_perm=self.num_perm, seed=1)
                minhash.update_batch(sorted(_shingles(field, value)))
                if self._lsh[language, field].query(minhash):
                    return f"near_duplicate_{field}"
                hashes[field] = minhash
        for field in self.fields:
            value = record.get(field)
            if isinstance(value, str) and value.strip():
                self._seen[language, field].add(self._key(field, value))
                if field in hashes:
                    self._lsh[language, field].insert(f"{record['id']}:{field}",
                                                      hashes[field])
        return None
