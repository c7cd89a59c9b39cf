"""What a Java program's file must be named and which class to run, read from its source.

javac requires a file to be named after its top-level ``public`` class, and ``java`` runs a
class by its binary name (with its package). Both are found here on the source with comments,
string, character and text-block literals blanked out, at brace depth 0 only (so a comment
that mentions ``public class Foo`` or a nested ``public class`` does not count).
"""

from __future__ import annotations

import re

_TYPE = re.compile(r"\b(?:class|interface|enum|record)\s+([A-Za-z_$][\w$]*)")
_PACKAGE = re.compile(r"^\s*(?:@[\w.]+\s*)*package\s+([\w$.]+)\s*;")
_MAIN = re.compile(r"\bvoid\s+main\s*\(")


def blanked(code: str) -> str:
    """``code`` with comments and literals replaced by spaces (newlines kept)."""
    out: list[str] = []
    i, n = 0, len(code)
    while i < n:
        if code.startswith("//", i):
            end = code.find("\n", i)
            end = n if end < 0 else end
        elif code.startswith("/*", i):
            end = code.find("*/", i + 2)
            end = n if end < 0 else end + 2
        elif code.startswith('"""', i):
            end = code.find('"""', i + 3)
            while end > 0 and code[end - 1] == "\\":
                end = code.find('"""', end + 1)
            end = n if end < 0 else end + 3
        elif code[i] in "\"'":
            end = i + 1
            while end < n and code[end] != code[i] and code[end] != "\n":
                end += 2 if code[end] == "\\" else 1
            end = min(end + 1, n)
        else:
            out.append(code[i])
            i += 1
            continue
        out.append("".join(ch if ch == "\n" else " " for ch in code[i:end]))
        i = end
    return "".join(out)


def _top_level(clean: str) -> list[tuple[str, str, str]]:
    """(name, modifiers, body) of every type declared at depth 0."""
    depth_at = []
    depth = 0
    for ch in clean:
        depth_at.append(depth)
        depth += (ch == "{") - (ch == "}")
    found = []
    for match in _TYPE.finditer(clean):
        if depth_at[match.start()] != 0:
            continue
        head_start = max(clean.rfind(";", 0, match.start()), clean.rfind("}", 0, match.start()))
        modifiers = clean[head_start + 1:match.start()]
        open_at = clean.find("{", match.end())
        if open_at < 0:
            continue
        level, close_at = 0, len(clean)
        for index in range(open_at, len(clean)):
            level += (clean[index] == "{") - (clean[index] == "}")
            if level == 0:
                close_at = index
                break
        found.append((match.group(1), modifiers, clean[open_at + 1:close_at]))
    return found


def _has_main(body: str) -> bool:
    depth = 0
    depth_at = []
    for ch in body:
        depth_at.append(depth)
        depth += (ch == "{") - (ch == "}")
    for match in _MAIN.finditer(body):
        if depth_at[match.start()] != 0:
            continue
        head_start = max(body.rfind(";", 0, match.start()), body.rfind("}", 0, match.start()),
                         body.rfind("{", 0, match.start()))
        if re.search(r"\bstatic\b", body[head_start + 1:match.start()]):
            return True
    return False


def public_class(code: str) -> str | None:
    """The top-level public type's name (the file's required stem), or None."""
    for name, modifiers, _ in _top_level(blanked(code)):
        if re.search(r"\bpublic\b", modifiers):
            return name
    return None


def main_class(code: str) -> str | None:
    """The binary name of the top-level type that declares ``static void main`` (the public
    one first), with the file's package, or None."""
    clean = blanked(code)
    types = _top_level(clean)
    ordered = sorted(types, key=lambda item: not re.search(r"\bpublic\b", item[1]))
    for name, _, body in ordered:
        if _has_main(body):
            package = _PACKAGE.match(clean)
            return f"{package.group(1)}.{name}" if package else name
    return None
