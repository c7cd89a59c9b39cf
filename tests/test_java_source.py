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
