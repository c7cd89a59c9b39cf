"""Correct programs that the fixes for tests/sandbox/test_attack_round_langs.py could wrongly
reject (``native`` style, both backends), each beside the wrong twin that must not pass:
JUnit's statically disabled tests, Rust's ``#[should_panic]`` and ``#[ignore]``, Go tests
with parallel subtests, async JavaScript blocks, Java programs with several classes and
unicode escapes, C++ programs with macros of their own."""

from __future__ import annotations

import pytest

from codesynth.java_source import block_main_class, main_class, unescaped
from codesynth.records import Job, Limits, Status
from codesynth.sandbox.protocol import Sandbox
from tests.sandbox.test_language_frameworks import needs_junit
from tests.sandbox.test_languages import language_box, needs

LIMITS = Limits(timeout=30.0, cpu_time=10.0, memory_mb=1024, max_processes=64,
                file_size_mb=8, max_output=4096)


box = language_box(LIMITS)


def native(code: str, tests: str, language: str) -> Job:
    return Job(id="legit", code=code, tests=tests, test_style="native", language=language)


JUNIT_CODE = "public class Solution {\n" \
    "    public static int add(int a, int b) { return a + b; }\n}\n" \
    "class Helper { static int twice(int x) { return 2 * x; } }\n"
JUNIT5_TESTS = """import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import static org.junit.jupiter.api.Assertions.assertEquals;
public class SolutionTest {
    @Test void small() { assertEquals(3, Solution.add(1, 2)); }
    @Test @Disabled("not yet") void later() { assertEquals(0, Solution.add(1, 2)); }
    @Nested class More { @Test void twice() { assertEquals(4, Helper.twice(2)); } }
}
"""
JUNIT4_TESTS = """import org.junit.Ignore;
import org.junit.Test;
import static org.junit.Assert.assertEquals;
public class SolutionTest {
    @Test public void small() { assertEquals(3, Solution.add(1, 2)); }
    @Ignore @Test public void later() { assertEquals(0, Solution.add(1, 2)); }
}
"""


@pytest.mark.parametrize("tests", [JUNIT5_TESTS, JUNIT4_TESTS], ids=["junit5", "junit4"])
def test_junit_statically_disabled_tests_stay_skipped(box: Sandbox, tests: str) -> None:
    needs_junit()
    e = box.run(native(JUNIT_CODE, tests, "java"))
    assert e.status is Status.PASSED, e.reason
    outcomes = sorted(t.outcome for t in e.tests)
    assert outcomes.count("skipped") == 1 and "failed" not in outcomes, outcomes
    wrong = box.run(native(JUNIT_CODE.replace("a + b", "a - b"), tests, "java"))
    assert wrong.status is Status.FAILED, wrong.reason


def test_junit_assumption_of_the_test_author_is_not_a_pass(box: Sandbox) -> None:
    # the rule is simple: any test aborted at run time fails the run (documented)
    needs_junit()
    tests = JUNIT5_TESTS.replace('@Test @Disabled("not yet") void later() {',
                                 "@Test void later() { org.junit.jupiter.api.Assumptions."
                                 "assumeTrue(false);")
    e = box.run(native(JUNIT_CODE, tests, "java"))
    assert e.status is Status.FAILED, e.reason


RUST_CODE = "fn checked_div(a: i32, b: i32) -> i32 { if b == 0 { panic!(\"division by zero\"); } " \
    "a / b }\n"
RUST_TESTS = """#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn divides() { assert_eq!(checked_div(6, 3), 2); }
    #[test]
    #[should_panic]
    fn zero_panics() { checked_div(1, 0); }
    #[should_panic(expected = "by zero")]
    #[test]
    fn zero_says_why() { checked_div(1, 0); }
    #[test]
    #[ignore]
    fn slow() { loop {} }
}
"""


def test_rust_should_panic_passes_when_it_panics(box: Sandbox) -> None:
    needs("rust")
    e = box.run(native(RUST_CODE, RUST_TESTS, "rust"))
    assert e.status is Status.PASSED, e.reason
    assert sorted((t.name, t.outcome) for t in e.tests) == [
        ("tests::divides", "passed"), ("tests::slow", "skipped"),
        ("tests::zero_panics", "passed"), ("tests::zero_says_why", "passed")]
    # a panic with another message fails the test that expects "by zero" (libtest's rule)
    other = box.run(native(RUST_CODE.replace("division by zero", "oops"), RUST_TESTS, "rust"))
    assert other.status is Status.FAILED, other.reason
    assert [t.name for t in other.tests if t.outcome == "failed"] == ["tests::zero_says_why"]


GO_CODE = "package main\n\nimport \"testing\"\n\nvar _ = testing.Short\n\n" \
    "func Add(a, b int) int { return a + b }\n"
GO_TESTS = """func TestAdd(t *testing.T) {
	if Add(1, 2) != 3 {
		t.Fatal("1 + 2")
	}
}

func TestParallel(t *testing.T) {
	for _, c := range []int{1, 2, 3} {
		c := c
		t.Run("case", func(t *testing.T) {
			t.Parallel()
			if Add(c, c) != 2*c {
				t.Errorf("%d + %d", c, c)
			}
		})
	}
}
"""


def test_go_tests_with_parallel_subtests(box: Sandbox) -> None:
    needs("go")
    e = box.run(native(GO_CODE, GO_TESTS, "go"))
    assert e.status is Status.PASSED, e.reason
    assert [(t.name, t.outcome) for t in e.tests] == [("TestAdd", "passed"),
                                                      ("TestParallel", "passed")]
    # a parallel subtest fails after its parent's function returned: still that test's failure
    wrong = box.run(native(GO_CODE.replace("a + b", "a * b"), GO_TESTS, "go"))
    assert wrong.status is Status.FAILED, wrong.reason
    assert [(t.name, t.outcome) for t in wrong.tests] == [("TestAdd", "failed"),
                                                          ("TestParallel", "failed")]


def test_go_outcomes_and_durations_are_the_records_not_the_printout(box: Sandbox) -> None:
    # the program prints go test's report lines for a fake test and for a real one with a
    # forged duration and message: the trace keeps the wrapper's names, outcomes and times
    needs("go")
    code = GO_CODE.replace('import "testing"', 'import (\n\t"fmt"\n\t"testing"\n)').replace(
        "func Add(a, b int) int { return a + b }", 'func Add(a, b int) int {\n'
                           '\tfmt.Println("--- PASS: TestFake (1.00s)")\n'
                           '\tfmt.Println("--- FAIL: TestAdd (99.00s)")\n'
                           '\tfmt.Println("    forged message")\n'
                           '\treturn a * b\n}')
    e = box.run(native(code, GO_TESTS, "go"))
    assert e.status is Status.FAILED, e.reason
    assert [(t.name, t.outcome) for t in e.tests] == [("TestAdd", "failed"),
                                                      ("TestParallel", "failed")]
    assert all(t.duration is not None and t.duration < 30 for t in e.tests), e.tests
    # failure messages are go test's printout (detail, as the README says): the program's
    # lines may hide the real one, never put theirs in its place
    assert "forged" not in (e.tests[0].message or ""), e.tests[0]
    right = box.run(native(GO_CODE.replace("a + b", "a * b"), GO_TESTS, "go"))
    assert "1 + 2" in (right.tests[0].message or ""), right.tests[0]


JS_ASYNC_CODE = "async function add(a, b) { await new Promise((r) => setTimeout(r, 5)); " \
    "return a + b; }\n"
JS_ASYNC_TESTS = """const assert = require('assert');
(async () => {
  assert.deepEqual(await add(1, 2), 3);
  await Promise.all([add(1, 1), add(2, 2)]).then(([x, y]) => assert.deepEqual(x + y, 6));
  console.assert(await add(0, 0) === 0);
})();
"""


@pytest.mark.parametrize(("code", "passes"), [
    (JS_ASYNC_CODE, True),
    (JS_ASYNC_CODE.replace("a + b", "a - b"), False),
    # a function whose promise never settles: the block's assertions never ran
    ("function add(a, b) { return new Promise(() => {}); }\n", False),
    # an early exit, before the async assertions ran
    (JS_ASYNC_CODE + "setTimeout(() => process.exit(0), 1);\n", False),
], ids=["correct", "wrong", "never-settles", "early-exit"])
def test_async_js_blocks(box: Sandbox, code: str, passes: bool) -> None:
    needs("javascript")
    e = box.run(native(code, JS_ASYNC_TESTS, "javascript"))
    assert (e.status is Status.PASSED) is passes, e.reason
    if not passes:
        assert e.status is Status.FAILED, e.reason


def test_console_assert_blocks_pass_when_right(box: Sandbox) -> None:
    needs("javascript")
    code = "const hasCloseElements = (numbers, threshold) => numbers.some((a, i) => " \
        "numbers.some((b, j) => i !== j && Math.abs(a - b) < threshold));\n"
    tests = "const t = () => {\n" \
        "  console.assert(hasCloseElements([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3) === true)\n" \
        "  console.assert(hasCloseElements([1.0, 2.0, 5.9, 4.0], 0.5) === false)\n}\nt()\n"
    e = box.run(native(code, tests, "javascript"))
    assert e.status is Status.PASSED, e.reason


JAVA_CODE = r"""import java.util.*;
class Helper { static long plus(long a, long b) { return a + b; } }
interface Shape { long size(); }
class Problem {
    static final String ARROW = "\u2192 not a comment: /* ";
    // javac ends this comment at the escaped line break: \u000a static final int ONE = 1;
    static class Inner { public static void main(String[] args) { } }
    public static long addTwo(long a, long b) {
        return Helper.plus(a, b);
"""
JAVA_TESTS = """    }
    public static void main(String[] args) {
    assert(addTwo((1l), (2l)) == (3l));
    }

}
"""


def test_java_program_with_several_classes_runs_the_blocks_main(box: Sandbox) -> None:
    needs("java")
    assert block_main_class(JAVA_CODE, JAVA_TESTS) == "Problem"
    e = box.run(native(JAVA_CODE, JAVA_TESTS, "java"))
    assert e.status is Status.PASSED, e.reason
    wrong = box.run(native(JAVA_CODE.replace("a, b", "a, -b"), JAVA_TESTS, "java"))
    assert wrong.status is Status.FAILED, wrong.reason


def test_java_unicode_escapes_as_javac_reads_them() -> None:
    # JLS 3.3: an escape starts at a backslash preceded by an even number of backslashes
    assert unescaped(r"/* \u002a/") == "/* */"
    assert unescaped(r"\\u0041") == r"\\u0041"
    assert unescaped(r"\\\u0041") == "\\\\A"
    assert unescaped(r"\uuu0041") == "A"
    assert unescaped(r"\u005cu0041") == r"\u0041"  # a translated backslash starts nothing
    hidden = "class A { public static void main(String[] a) { } }\n/* \\u002a/\n" \
        "public class Main { public static void main(String[] a) { } }\n"
    assert main_class(hidden) == "Main"
    assert block_main_class("package p;\nclass S {}", "public class Main { static class T {\n"
                            "  public static void main(String[] a) { } } }") == "p.Main$T"
    assert block_main_class("class S {}", "class T { void f() { } }") is None


CPP_CODE = """#include <bits/stdc++.h>
#define SQUARE(x) ((x) * (x))
#define main_helper helper
int main_helper(int x) { return SQUARE(x); }
int add(int a, int b) { return a + b; }
"""
CPP_TESTS = "#undef NDEBUG\n#include <assert.h>\nint main(int argc, char** argv) {\n" \
    "  assert(add(1, 2) == 3);\n  assert(helper(3) == 9);\n}\n"


def test_cpp_program_with_its_own_macros(box: Sandbox) -> None:
    needs("cpp")
    e = box.run(native(CPP_CODE, CPP_TESTS, "cpp"))
    assert e.status is Status.PASSED, e.reason
    wrong = box.run(native(CPP_CODE.replace("a + b", "a - b"), CPP_TESTS, "cpp"))
    assert wrong.status is Status.FAILED, wrong.reason


GO_FLAGS_CODE = """package main

import (
	"flag"
	"os"
	"testing"
)

func init() {
	testing.Init()
	_ = flag.Set("test.run", "^$")
	_ = flag.Set("test.list", ".*")
	flag.CommandLine = flag.NewFlagSet(os.Args[0], flag.ContinueOnError)
}

func Add(a, b int) int { return a - b }
"""


def test_go_program_that_hides_the_test_flags_still_fails(box: Sandbox) -> None:
    # a variant of the deselection attack our flag reset does not reach (the testing
    # package's flags moved out of flag.CommandLine): every block test must have run
    needs("go")
    e = box.run(native(GO_FLAGS_CODE, GO_TESTS, "go"))
    assert e.status is Status.FAILED, e.reason
    assert {t.outcome for t in e.tests} == {"failed"}
