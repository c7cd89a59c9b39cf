"""Precompiled headers for the standard headers a C++ program starts with.

A program whose source begins (after blank lines and comments) with ``#include <...>`` lines
is compiled with ``-include SET.h`` when a prepared *header set* is a prefix of those lines:
``SET.h`` holds exactly the same lines, and beside it ``SET.h.gch`` is that header
precompiled once per machine with the same flags (``prepare``, in ``language_caches``; in
the languages image, by its Dockerfile). The compile is then the plain compile's: the same
headers in the same order before any of the program's text, nothing else made visible (the
program's own include lines then hit the headers' include guards; ``<assert.h>``, which has
none, is read again exactly as in the plain compile). g++ reads ``SET.h`` as text when the
``.gch`` does not match its flags or version, so a stale or missing PCH only costs time.

The sets are fixed lists of standard headers, made by us outside any job: no program text
goes into a PCH. Anything else before the includes (a macro, a ``using``, code, a quoted
include) means no set applies.
"""

from __future__ import annotations

import hashlib
import os
import re

from codesynth.languages import PCH_ROOT

# HumanEval-X's own harness puts these lines before every C++ program (its IMPORT_HELPER;
# ``benchmarks/humaneval_x.CPP_HEADERS``, which a test keeps equal to this).
HUMANEVAL_X = ("stdlib.h", "algorithm", "math.h", "stdio.h", "vector", "string", "climits",
               "cstring", "iostream")
# MultiPL-E's C++ prompts start with these two (``bits/stdc++.h``: ~1 s of g++ per sample
# parsed as text, ~0.2 s from its PCH).
MULTIPL_E = ("assert.h", "bits/stdc++.h")
SETS: dict[str, tuple[str, ...]] = {"humaneval-x": HUMANEVAL_X, "multipl-e": MULTIPL_E}
# The flag sets a PCH is made for (``-std`` and ``-O`` must match the compile's), per set:
# codesynth's C++17 for both; HumanEval-X's harness compiles at C++11 (``Job.standard``).
PREPARED: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("humaneval-x", ("-std=c++17", "-O0")), ("multipl-e", ("-std=c++17", "-O0")),
    ("humaneval-x", ("-std=c++11", "-O0")))

_INCLUDE = re.compile(r"[ \t]*#[ \t]*include[ \t]*<([A-Za-z0-9_./+-]+)>[ \t]*(?://.*)?")
_MAX_SCAN = 64 << 10  # characters of the source looked at


def leading_includes(source: str) -> list[str]:
    """The headers of the ``#include <...>`` lines the source starts with, in order (blank
    lines and comments skipped; the first other line ends the list)."""
    names: list[str] = []
    text, index = source[:_MAX_SCAN], 0
    while index < len(text):
        end = text.find("\n", index)
        end = len(text) if end < 0 else end
        line = text[index:end]
        stripped = line.strip()
        if stripped.endswith("\\") or "??" in line:
            # a line spliced onto the next (a backslash, or the trigraph ``??/`` that C++11
            # and C++14 read as one): what follows is not read as its own line, so stop here
            return names
        if not stripped or stripped.startswith("//"):
            index = end + 1
            continue
        if stripped.startswith("/*"):
            close = text.find("*/", index + line.index("/*") + 2)
            if close < 0 or text[close + 2:text.find("\n", close) if "\n" in text[close:]
                                  else len(text)].strip() or "\\" in text[index:close] or \
                    "??" in text[index:close]:
                return names  # unclosed, text after it on its line, or a splice inside it
            index = text.find("\n", close)
            index = len(text) if index < 0 else index + 1
            continue
        found = _INCLUDE.fullmatch(line)
        if found is None or "/*" in line:
            return names
        names.append(found.group(1))
        index = end + 1
    return names


def flag_key(flags: tuple[str, ...]) -> str:
    """The directory name of the PCHs made for ``flags`` (``-std`` and ``-O``)."""
    return hashlib.sha256("\0".join(flags).encode()).hexdigest()[:16]


def set_header(name: str, flags: tuple[str, ...], root: str = PCH_ROOT) -> str:
    return os.path.join(root, "cpp-sets", flag_key(flags), f"{name}.h")


def header_text(name: str) -> str:
    return "".join(f"#include <{header}>\n" for header in SETS[name])


def _std_and_opt(argv: list[str]) -> tuple[str, ...]:
    std = next((part for part in argv if part.startswith("-std=")), "")
    opt = [part for part in argv if re.fullmatch(r"-O[0-3sgz]?|-Ofast", part)]
    return (std, opt[-1] if opt else "-O0")


def with_pch(argv: list[str], source: str, root: str = PCH_ROOT) -> list[str]:
    """``argv`` (a g++ command) with ``-include SET.h`` after the compiler when a prepared
    set for its flags is a prefix of the source's leading includes; else ``argv``."""
    if not argv or os.path.basename(argv[0]) not in ("g++", "c++") or "-include" in argv:
        return argv
    leading = leading_includes(source)
    flags = _std_and_opt(argv)
    for name, headers in SETS.items():
        if tuple(leading[:len(headers)]) != headers:
            continue
        header = set_header(name, flags, root)
        try:  # the header must say exactly this set (never another version's)
            with open(header, encoding="utf-8") as handle:
                if handle.read() != header_text(name) or not os.path.isfile(header + ".gch"):
                    continue
        except OSError:
            continue
        return [argv[0], "-include", header, *argv[1:]]
    return argv
