"""Seed snippets cut from source files (Magicoder's OSS-Instruct): functions and classes found
with tree-sitter, and runs of consecutive lines chosen at random.

Lines are split at ``"\\n"`` only, as tree-sitter counts rows; line numbers are 1-based and
inclusive, and a snippet's ``code`` is exactly the text of its lines, line ends included.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import random
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from tree_sitter import Node, Parser
from tree_sitter_language_pack import get_parser

from codesynth.jsonl import read_objects

if TYPE_CHECKING:
    from tree_sitter_language_pack import SupportedLanguage

LANGUAGES: dict[str, str] = {
    ".py": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".ts": "typescript",
    ".java": "java",
    ".c": "c",
    ".h": "c",
    ".cpp": "cpp",
    ".cc": "cpp",
    ".hpp": "cpp",
    ".go": "go",
    ".rs": "rust",
    ".rb": "ruby",
    ".sh": "bash",
}
"""File extension -> language name (a tree-sitter-language-pack grammar)."""

_FUNCTION, _CLASS = "function", "class"
_JS_FUNCTIONS = {"function_declaration", "generator_function_declaration", "method_definition"}
DEFINITIONS: dict[str, dict[str, str]] = {
    "python": {"function_definition": _FUNCTION, "class_definition": _CLASS},
    "javascript": {**dict.fromkeys(_JS_FUNCTIONS, _FUNCTION), "class_declaration": _CLASS},
    "typescript": {
        **dict.fromkeys(_JS_FUNCTIONS, _FUNCTION),
        **dict.fromkeys(["class_declaration", "abstract_class_declaration",
                         "interface_declaration"], _CLASS),
    },
    "java": {
        **dict.fromkeys(["method_declaration", "constructor_declaration"], _FUNCTION),
        **dict.fromkeys(["class_declaration", "interface_declaration", "enum_declaration",
                         "record_declaration"], _CLASS),
    },
    "c": {"function_definition": _FUNCTION, "struct_specifier": _CLASS},
    "cpp": {"function_definition": _FUNCTION, "class_specifier": _CLASS,
            "struct_specifier": _CLASS},
    "go": {"function_declaration": _FUNCTION, "method_declaration": _FUNCTION,
           "type_declaration": _CLASS},
    "rust": {
        "function_item": _FUNCTION,
        **dict.fromkeys(["impl_item", "struct_item", "enum_item", "trait_item"], _CLASS),
    },
    "ruby": {"method": _FUNCTION, "singleton_method": _FUNCTION, "class": _CLASS,
             "module": _CLASS},
    "bash": {"function_definition": _FUNCTION},
}
"""Language -> tree-sitter node type -> snippet kind."""

_NEED_BODY = {"struct_specifier", "class_specifier"}  # not a mere `struct name *p;`
MAX_BYTES = 1_000_000
_LINE_END = re.compile(r"(?<=\n)")


@dataclasses.dataclass(frozen=True)
class Snippet:
    """A contiguous piece of one source file."""

    id: str
    language: str
    path: str
    kind: str  # "function" | "class" | "lines"
    start_line: int  # 1-based
    end_line: int  # 1-based, inclusive
    code: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def split_lines(source: str) -> list[str]:
    """The lines of ``source``, each with its ``"\\n"`` (the last one may have none)."""
    return [line for line in _LINE_END.split(source) if line]


def snippet_id(path: str, start: int, end: int, kind: str) -> str:
    return hashlib.sha256(f"{path}:{start}:{end}:{kind}".encode()).hexdigest()[:16]


@cache
def _parser(language: str) -> Parser | None:
    if language not in DEFINITIONS:
        return None
    return get_parser(cast("SupportedLanguage", language))


def definitions(source: str, language: str) -> list[tuple[str, int, int]]:
    """``(kind, start_line, end_line)`` of each error-free definition, in source order.

    Nothing for an unknown language or a source tree-sitter cannot parse at all.
    """
    parser = _parser(language)
    if parser is None:
        return []
    try:
        tree = parser.parse(source.encode("utf-8", "surrogatepass"))
    except (ValueError, RuntimeError):
        return []
    kinds = DEFINITIONS[language]
    found: list[tuple[str, int, int]] = []
    stack: list[Node] = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_error:  # whatever lies inside an ERROR node is a guess
            continue
        kind = kinds.get(node.type) if node.is_named else None
        if node.type in _NEED_BODY and node.child_by_field_name("body") is None:
            kind = None
        if kind is not None and not node.has_error:
            outer = node.parent if node.parent and node.parent.type == "decorated_definition" \
                else node
            start, (end, column) = outer.start_point.row, node.end_point
            if column == 0 and end > start:  # the node ends just after a line end
                end -= 1
            found.append((kind, start + 1, end + 1))
        stack.extend(reversed(node.children))
    return sorted(set(found), key=lambda d: (d[1], d[2], d[0]))


def extract(path: str, source: str, language: str, rng: random.Random, *,
            max_lines: int = 40, min_lines: int = 3, runs: int = 2) -> list[Snippet]:
    """Definitions of ``min_lines`` lines or more (cut to their first ``max_lines``), then
    ``runs`` random runs of ``min_lines`` to ``max_lines`` consecutive lines, drawn with
    ``rng``. Blank pieces and repeats are left out."""
    if not 1 <= min_lines <= max_lines:
        raise ValueError(f"need 1 <= min_lines <= max_lines, got {min_lines}, {max_lines}")
    lines = split_lines(source)
    total = len(lines)
    spans: list[tuple[str, int, int]] = []
    for kind, start, end in definitions(source, language):
        end = min(end, total, start + max_lines - 1)
        if start <= end and end - start + 1 >= min_lines:
            spans.append((kind, start, end))
    for _ in range(runs if total else 0):
        length = min(rng.randint(min_lines, max_lines), total)
        start = rng.randint(1, total - length + 1)
        spans.append(("lines", start, start + length - 1))
    snippets: list[Snippet] = []
    seen: set[str] = set()
    for kind, start, end in spans:
        code = "".join(lines[start - 1:end])
        sid = snippet_id(path, start, end, kind)
        if code.strip() and sid not in seen:
            seen.add(sid)
            snippets.append(Snippet(sid, language, path, kind, start, end, code))
    return snippets


def language_of(path: str | Path) -> str | None:
    """The language of a file, from its extension; None if unknown."""
    return LANGUAGES.get(Path(path).suffix.lower())


def read_source(path: Path, max_bytes: int = MAX_BYTES) -> str | None:
    """The text of a UTF-8 source file; None if it is too large, binary or not UTF-8."""
    try:
        if path.stat().st_size > max_bytes:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _files(root: Path) -> Iterator[tuple[str, Path]]:
    """``(relative posix path, path)`` of the files under ``root``, sorted, hidden ones left
    out; a file ``root`` gives itself."""
    if root.is_file():
        yield root.name, root
        return
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        for name in sorted(names):
            if not name.startswith("."):
                path = Path(folder, name)
                yield path.relative_to(root).as_posix(), path


def _sources(root: Path, max_bytes: int) -> Iterator[tuple[str, str, str]]:
    """``(path, language, source)`` of each known-language file under ``root``, or of each
    record of a ``.jsonl`` file ``root`` (fields ``path``, ``code``, optional ``language``)."""
    if root.is_file() and root.suffix == ".jsonl":
        for number, record in read_objects(root):  # a bad line: InputError (file, line)
            path = str(record.get("path") or f"{root.name}:{number}")
            language = record.get("language") or language_of(path)
            code = record.get("code")
            if language and isinstance(code, str) and len(code) <= max_bytes:
                yield path, str(language), code
        return
    for relative, file in _files(root):
        language = language_of(file)
        if language is not None and (source := read_source(file, max_bytes)) is not None:
            yield relative, language, source


def iter_snippets(root: str | Path, seed: int, per_file: int = 3, *, max_lines: int = 40,
                  min_lines: int = 3, max_bytes: int = MAX_BYTES) -> Iterator[Snippet]:
    """Up to ``per_file`` snippets of each source file under ``root`` (a folder, one file or a
    ``.jsonl`` of files), in path order, drawn with ``random.Random(f"{seed}:{path}")``."""
    for path, language, source in _sources(Path(root), max_bytes):
        rng = random.Random(f"{seed}:{path}")
        found = extract(path, source, language, rng, max_lines=max_lines, min_lines=min_lines)
        yield from rng.sample(found, min(per_file, len(found)))
