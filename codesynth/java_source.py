"""What a Java program's file must be named and which class to run, read from its source.

javac requires a file to be named after its top-level ``public`` class, and ``java`` runs a
class by its binary name (with its package). Both are found here on the source with comments,
string, character and text-block literals blanked out, at brace depth 0 only (so a comment
that mentions ``public class Foo`` or a nested ``public class`` does not count), after the
unicode escapes are expanded as javac expands them before lexing (JLS 3.3: ``/* \\u002a/``
is a closed comment to javac, so it is one here too).
"""

from __future__ import annotations

import bisect
import re

_TYPE = re.compile(r"\b(?:class|interface|enum|record)\s+([A-Za-z_$][\w$]*)")
_PACKAGE = re.compile(r"^\s*(?:@[\w.]+\s*)*package\s+([\w$.]+)\s*;")
_MAIN = re.compile(r"\bvoid\s+main\s*\(")


_HEX = frozenset("0123456789abcdefABCDEF")


def unescaped(code: str) -> str:
    """``code`` with its unicode escapes translated as javac does first (JLS 3.3): a ``\\``
    followed by one or more ``u`` and four hex digits, when the backslash is preceded by an
    even number of contiguous backslashes (raw ones: a translated ``\\`` starts nothing).
    One pass, each character looked at a bounded number of times: a hostile source (runs of
    backslashes and ``u`` with no digits) costs linear time, which the runner relies on (it
    reads programs before their jobs' clocks start)."""
    if "\\" not in code:
        return code
    out: list[str] = []
    last = index = 0
    size = len(code)
    while (start := code.find("\\", index)) >= 0:
        end = start
        while end < size and code[end] == "\\":
            end += 1
        # only the run's last backslash can meet a ``u``: it is eligible when the run is odd
        if (end - start) % 2 == 1 and end < size and code[end] == "u":
            after = end
            while after < size and code[after] == "u":
                after += 1
            digits = code[after:after + 4]
            if len(digits) == 4 and all(char in _HEX for char in digits):
                out += [code[last:end - 1], chr(int(digits, 16))]
                last = index = after + 4
                continue
            end = after
        index = end
    out.append(code[last:])
    return "".join(out)


def blanked(code: str) -> str:
    """``code`` (unicode escapes expanded) with comments and literals replaced by spaces
    (newlines kept)."""
    return _blank(unescaped(code))


def _blank(code: str) -> str:
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


def _depths(text: str) -> tuple[list[int], dict[int, int]]:
    """The brace depth before each character, and where each ``{`` closes (its matching
    ``}``; an unclosed one is absent). One pass."""
    depth_at, close_of, stack, depth = [], {}, [], 0
    for index, char in enumerate(text):
        depth_at.append(depth)
        if char == "{":
            stack.append(index)
            depth += 1
        elif char == "}":
            depth -= 1
            if stack:
                close_of[stack.pop()] = index
    return depth_at, close_of


def _before(positions: list[int], index: int) -> int:
    """The last of the sorted ``positions`` before ``index``, or -1."""
    at = bisect.bisect_left(positions, index) - 1
    return positions[at] if at >= 0 else -1


def _top_level(clean: str) -> list[tuple[str, str, str]]:
    """(name, modifiers, body) of every type declared at depth 0: for each ``{`` at depth 0,
    the last type keyword before it. Linear in the source (a hostile one, thousands of type
    keywords before one brace, is read by the runner before its job's clock runs)."""
    depth_at, close_of = _depths(clean)
    opens = [index for index, char in enumerate(clean) if char == "{"]
    separators = [index for index, char in enumerate(clean) if char in ";}"]
    chosen: dict[int, re.Match[str]] = {}
    for match in _TYPE.finditer(clean):
        if depth_at[match.start()] != 0:
            continue
        at = bisect.bisect_left(opens, match.end())
        if at < len(opens):
            chosen[opens[at]] = match  # the last keyword before this brace declares it
    found = []
    for open_at, match in sorted(chosen.items()):
        modifiers = clean[_before(separators, match.start()) + 1:match.start()]
        close_at = close_of.get(open_at, len(clean))
        found.append((match.group(1), modifiers, clean[open_at + 1:close_at]))
    return found


def _has_main(body: str) -> bool:
    depth_at, _ = _depths(body)
    separators = [index for index, char in enumerate(body) if char in ";{}"]
    previous = -1  # (the heads are disjoint: linear however many ``void main(`` there are)
    for match in _MAIN.finditer(body):
        head_start = max(_before(separators, match.start()), previous)
        previous = match.end() - 1
        if depth_at[match.start()] == 0 and re.search(r"\bstatic\b",
                                                      body[head_start + 1:match.start()]):
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


_OPENER = re.compile(r"\b(?:class|interface|enum|record)\s+([A-Za-z_$][\w$]*)[^;{}()=]*"
                     r"(?:\([^;{}]*\)[^;{}()=]*)?\{$")


def block_main_class(code: str, tests: str) -> str | None:
    """The binary name of the class whose ``static void main`` the TEST BLOCK declares, in the
    program ``code + "\\n" + tests`` as javac reads it: the block's first ``main`` at the
    depth of a class body, and the chain of named types around it (``Outer$Inner``), with the
    file's package. None when the block declares no such ``main`` (or it sits in a method,
    an anonymous or a local class). The program's own text cannot choose another class:
    only a declaration inside the block's text counts (MultiPL-E's block closes the
    program's class and adds ``main`` to it; HumanEval-X's is a ``public class Main``)."""
    program, block = unescaped(code), unescaped(tests)
    clean = _blank(program + "\n" + block)
    start = len(program) + 1
    for match in _MAIN.finditer(clean, start):
        head = max(clean.rfind(";", 0, match.start()), clean.rfind("}", 0, match.start()),
                   clean.rfind("{", 0, match.start()))
        if not re.search(r"\bstatic\b", clean[head + 1:match.start()]):
            continue
        chain: list[str | None] = []
        for index, char in enumerate(clean[:match.start()]):
            if char == "{":
                opener = _OPENER.search(clean, max(0, index - 400), index + 1)
                chain.append(opener.group(1) if opener else None)
            elif char == "}" and chain:
                chain.pop()
        if not chain or None in chain:
            return None
        names = [name for name in chain if name is not None]
        package = _PACKAGE.match(clean)
        binary = "$".join(names)
        return f"{package.group(1)}.{binary}" if package else binary
    return None


def test_classes(tests: str) -> list[str]:
    """The binary names of the top-level types a test file declares (with its package):
    what a JUnit run selects (their nested classes come with them)."""
    clean = blanked(tests)
    package = _PACKAGE.match(clean)
    prefix = f"{package.group(1)}." if package else ""
    return [prefix + name for name, _, _ in _top_level(clean)]
