"""``java_source.unescaped``: javac's unicode-escape translation (JLS 3.3), in linear time."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from codesynth.java_source import block_main_class, unescaped

_OLD = re.compile(r"\\+u+([0-9A-Fa-f]{4})")


def by_regex(code: str) -> str:
    """The rule as one regular expression (what this module did before: right, but
    quadratic on runs of backslashes and ``u`` with no digits after them)."""
    def one(match: re.Match[str]) -> str:
        run = match.group(0)
        slashes = len(run) - len(run.lstrip("\\"))
        return run if slashes % 2 == 0 else run[:slashes - 1] + chr(int(match.group(1), 16))

    return _OLD.sub(one, code)


@settings(max_examples=500)
@given(st.text(alphabet="\\uU0aF9gx/*\n", max_size=40))
def test_the_same_translation_as_the_rule(code: str) -> None:
    assert unescaped(code) == by_regex(code)


def test_examples() -> None:
    assert unescaped("\\u0041") == "A" and unescaped("\\\\u0041") == "\\\\u0041"
    assert unescaped("\\\\\\uuu0041") == "\\\\A"  # odd run: the last backslash escapes
    assert unescaped("\\u005cu0041") == "\\u0041"  # a translated backslash starts nothing
    assert unescaped("/* \\u002a/ x") == "/* */ x"


def test_a_hostile_source_is_read_in_one_pass() -> None:
    # runs of backslashes and u's with no digits: the regex took ~k^2 steps (k = 40000:
    # tens of seconds in the runner, before the job's clock); one pass here
    k = 40_000
    hostile = "/*" + "\\" * k + "u" * k + "*/" + ("\\" + "u" * k) * 3
    assert unescaped(hostile) == hostile
    source = "public class Main { public static void main(String[] a) {} }\n"
    assert block_main_class(hostile, source) == "Main"


def test_hostile_declarations_are_read_in_one_pass() -> None:
    # thousands of type keywords (or `void main(`) before one brace: each used to rescan
    # the rest of the source (~11 s of the runner's CPU for 64 KB, before the job's clock)
    from codesynth.java_source import main_class, public_class

    body = "public static void main(String[] a) {} }\n"
    hostile = "class A " * 40_000 + "{" + " x" * 100_000 + "}\n" + \
        "public class Main {\n" + "void main( " * 40_000 + ";\n" + body
    assert public_class(hostile) == "Main"
    assert main_class(hostile) == "Main"


def by_scanning(clean: str) -> list[tuple[str, str, str]]:
    """The per-keyword scan this module did before (quadratic), keeping for each opening
    brace the last keyword before it."""
    from codesynth.java_source import _TYPE

    depth_at, depth = [], 0
    for char in clean:
        depth_at.append(depth)
        depth += (char == "{") - (char == "}")
    chosen: dict[int, tuple[str, str, str]] = {}
    for match in _TYPE.finditer(clean):
        open_at = clean.find("{", match.end())
        if depth_at[match.start()] != 0 or open_at < 0:
            continue
        head = max(clean.rfind(";", 0, match.start()), clean.rfind("}", 0, match.start()))
        level, close_at = 0, len(clean)
        for index in range(open_at, len(clean)):
            level += (clean[index] == "{") - (clean[index] == "}")
            if level == 0:
                close_at = index
                break
        chosen[open_at] = (match.group(1), clean[head + 1:match.start()],
                           clean[open_at + 1:close_at])
    return [chosen[key] for key in sorted(chosen)]


@settings(max_examples=300)
@given(st.lists(st.sampled_from(["class A", "public class B", "enum C", "{", "}", ";",
                                 "static void main(String[] a)", "void main(", " x "]),
                max_size=25))
def test_the_declarations_read_as_by_scanning(parts: list[str]) -> None:
    from codesynth.java_source import _top_level

    text = " ".join(parts)
    assert _top_level(text) == by_scanning(text)
