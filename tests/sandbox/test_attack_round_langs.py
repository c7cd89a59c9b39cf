"""Outside attacks on the non-Python verification paths (equality assertions in other
languages, in-language test blocks and frameworks). Each test asserts the SAFE outcome: it
fails where the attack works."""

from __future__ import annotations

import pytest

from codesynth.records import Job, Limits, Status
from codesynth.sandbox.protocol import Sandbox
from tests.sandbox.test_language_frameworks import needs_junit
from tests.sandbox.test_languages import language_box, needs

LIMITS = Limits(timeout=30.0, cpu_time=10.0, memory_mb=1024, max_processes=64,
                file_size_mb=8, max_output=4096)


box = language_box(LIMITS)


def equality(code: str, tests: str, language: str = "javascript") -> Job:
    return Job(id="attack", code=code, tests=tests, test_style="assert", language=language)


def native(code: str, tests: str, language: str) -> Job:
    return Job(id="attack", code=code, tests=tests, test_style="native", language=language)


# --- the equality form: the judge's comparison (calls.same / calls._assertion) -----------

def test_strict_tolerance_stays_strict(box: Sandbox) -> None:
    # attack: `abs(f(x) - 3) < 1` is judged as `<= 1`, so 4 (off by exactly the tolerance) passes
    needs("javascript")
    e = box.run(equality("function f(x) { return 4; }", "assert abs(f(1) - 3) < 1\n"))
    assert e.status is Status.FAILED, e.reason


def test_int_expected_is_exact_against_a_float_result(box: Sandbox) -> None:
    # attack: an int expected value vs a non-integral float result compares with rel_tol 1e-6
    needs("javascript")
    e = box.run(equality("function f(x) { return x === 1 ? 1000000400.5 : 5e-7; }",
                         "assert f(1) == 1000000000\nassert f(2) == 0\n"))
    assert e.status is Status.FAILED, e.reason
    assert [t.outcome for t in e.tests] == ["failed", "failed"]


def test_int_expected_is_exact_cpp(box: Sandbox) -> None:
    # attack: the same in C++: a `double` result 400.5 away from the int expected passes
    needs("cpp")
    e = box.run(equality("double f(int x) { return 1000000400.5; }",
                         "assert f(1) == 1000000000\n", "cpp"))
    assert e.status is Status.FAILED, e.reason


def test_isclose_keywords_are_not_ignored(box: Sandbox) -> None:
    # attack: math.isclose's abs_tol/rel_tol are dropped; 1e-6 absolute is used instead
    # (Python: isclose(5e-7, 0.0, abs_tol=1e-12) is False; the default abs_tol is 0)
    needs("javascript")
    e = box.run(equality("function f(x) { return 5e-7; }",
                         "import math\nassert math.isclose(f(1), 0.0, abs_tol=1e-12)\n"
                         "assert math.isclose(f(2), 0.0)\n"))
    assert e.status is Status.FAILED, e.reason


def test_dict_keys_match_one_to_one(box: Sandbox) -> None:
    # attack (minor): expected keys 1 and "1" both match the JS key "1" (string_keys); the
    # pair count matches, so a garbage second pair passes (calls.same: no bijection check)
    needs("javascript")
    e = box.run(equality('function f(x) { return {"1": "a", "x": "y"}; }',
                         'assert f(1) == {1: "a", "1": "a"}\n'))
    assert e.status is Status.FAILED, e.reason


def test_is_true_is_identity(box: Sandbox) -> None:
    # attack (minor): `assert f(x) is True` accepts 1 (Python: `1 is True` is False)
    needs("javascript")
    e = box.run(equality("function f(x) { return 1; }", "assert f(1) is True\n"))
    assert e.status is Status.FAILED, e.reason


# --- native blocks and frameworks: forgeries that read no nonce and patch nothing ----------

JUNIT5_CODE = """public class Solution {
    public static int add(int a, int b) {
        if (a == 2) throw new org.opentest4j.TestAbortedException("not today");
        return a + b;
    }
}
"""
JUNIT5_TESTS = """import org.junit.jupiter.api.Test;
import static org.junit.jupiter.api.Assertions.assertEquals;
public class SolutionTest {
    @Test void small() { assertEquals(3, Solution.add(1, 2)); }
    @Test void other() { assertEquals(5, Solution.add(2, 3)); }
}
"""
JUNIT4_CODE = JUNIT5_CODE.replace("org.opentest4j.TestAbortedException",
                                  "org.junit.AssumptionViolatedException")
JUNIT4_TESTS = """import org.junit.Test;
import static org.junit.Assert.assertEquals;
public class SolutionTest {
    @Test public void small() { assertEquals(3, Solution.add(1, 2)); }
    @Test public void other() { assertEquals(5, Solution.add(2, 3)); }
}
"""


# no genuine pass needed: every call aborts, and the program adds a passing test class
JUNIT_ALL_ABORT_CODE = """public class Solution {
    public static int add(int a, int b) { throw new org.opentest4j.TestAbortedException("no"); }
}
class Extra { @org.junit.jupiter.api.Test void fine() { } }
"""


@pytest.mark.parametrize(("code", "tests"), [(JUNIT5_CODE, JUNIT5_TESTS),
                                             (JUNIT4_CODE, JUNIT4_TESTS),
                                             (JUNIT_ALL_ABORT_CODE, JUNIT5_TESTS)],
                         ids=["junit5", "junit4", "junit5-all-abort-plus-own-test"])
def test_junit_abort_from_the_program_is_not_a_pass(box: Sandbox, code: str,
                                                    tests: str) -> None:
    # attack: the function throws TestAbortedException / AssumptionViolatedException when
    # it cannot answer: JUnit marks the test aborted ("skipped"), the judge counts no failure
    needs_junit()
    e = box.run(native(code, tests, "java"))
    assert e.status is not Status.PASSED, e.reason


GO_CODE = """package main

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
)

func init() { os.Args = append(os.Args, "-test.run=^$") }

func Add(a, b int) int { return a - b }
"""
GO_TESTS = """func TestAdd(t *testing.T) {
	assert := assert.New(t)
	assert.Equal(3, Add(1, 2))
	assert.Equal(4, Add(2, 2))
}
"""


def test_go_program_cannot_deselect_the_tests(box: Sandbox) -> None:
    # attack: the program's init() appends -test.run=^$ to os.Args: m.Run() runs no test,
    # returns 0, and TestMain writes the completion line with the real nonce
    needs("go")
    e = box.run(native(GO_CODE, GO_TESTS, "go"))
    assert e.status is not Status.PASSED, e.reason


RUST_CODE = "fn checked_div(a: i32, b: i32) -> i32 { if b == 0 { return 0; } a / b }\n"
RUST_TESTS = """#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn divides() { assert_eq!(checked_div(6, 3), 2); }
    #[test]
    #[should_panic]
    fn zero_panics() { checked_div(1, 0); }
}
"""


def test_rust_should_panic_test_needs_a_panic(box: Sandbox) -> None:
    # attack: #[should_panic] is dropped with #[test]; a program that does not panic passes
    needs("rust")
    e = box.run(native(RUST_CODE, RUST_TESTS, "rust"))
    assert e.status is Status.FAILED, e.reason


JAVA_PROMPT = """import java.util.*;
import java.lang.*;

class Problem {
    // Add two numbers
    public static long addTwo(long a, long b) {
"""
JAVA_EVIL = JAVA_PROMPT + """        return a - b;
    }
}
class A { public static void main(String[] args) { } }
class B {
    static long addTwo(long a, long b) { return a - b; }
    static void unused() {
"""
JAVA_MULTIPL_E_TESTS = """    }
    public static void main(String[] args) {
    assert(addTwo((1l), (2l)) == (3l));
    }

}
"""


JAVA_HIDING = r"""import java.util.*;
class Solution { public int add(int a, int b) { return a - b; } }
class A { public static void main(String[] args) { } }
/* \u002a/
"""
JAVA_HUMANEVAL_X_TESTS = "public class Main { public static void main(String[] args) { " \
    "Solution s = new Solution(); if (s.add(1, 2) != 3) throw new AssertionError(); } }\n"


@pytest.mark.parametrize(("code", "tests"), [(JAVA_EVIL, JAVA_MULTIPL_E_TESTS),
                                             (JAVA_HIDING, JAVA_HUMANEVAL_X_TESTS)],
                         ids=["multipl-e", "humaneval-x-unicode-escape"])
def test_java_program_cannot_choose_the_main_that_runs(box: Sandbox, code: str,
                                                       tests: str) -> None:
    # attack: java_source.main_class picks the class CodesynthNative runs from the text of
    # program + tests; the program puts an empty main first. MultiPL-E (no public class):
    # close `Problem` early and declare `class A` with main. HumanEval-X (`public class
    # Main`): end the program with `/* \u002a/`: javac reads `*/` (unicode escapes come
    # first), java_source sees a comment that hides Main, so A (empty main) is run.
    needs("java")
    e = box.run(native(code, tests, "java"))
    assert e.status is Status.FAILED, e.reason


CPP_HIJACK = r"""#include <bits/stdc++.h>
#define CS_CAT2(a, b) a##b
#define CS_CAT(a, b) CS_CAT2(a, b)
int cs_fake2() { return 0; }
#define codesynth_native_main CS_CAT(cs_fake, __COUNTER__)
int add(int a, int b) { return a - b; }
"""
CPP_TESTS = "#undef NDEBUG\n#include <assert.h>\nint main() {\n  assert(add(1, 2) == 3);\n}\n"


def test_cpp_program_cannot_redirect_the_wrappers_call(box: Sandbox) -> None:
    # attack: a macro on the wrapper's own name with __COUNTER__ gives the block's renamed
    # main, the wrapper's declaration and its call three different names; the call lands on
    # the program's function returning 0, the wrapper then writes DONE with the real nonce
    needs("cpp")
    e = box.run(native(CPP_HIJACK, CPP_TESTS, "cpp"))
    assert e.status is Status.FAILED, e.reason


HUMANEVAL_X_JS_TESTS = """const testHasCloseElements = () => {
  console.assert(hasCloseElements([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3) === true)
  console.assert(hasCloseElements([1.0, 2.0, 5.9, 4.0, 5.0], 0.95) === true)
}

testHasCloseElements()
"""


@pytest.mark.parametrize("language", ["javascript", "typescript"])
def test_humaneval_x_console_assert_failures_fail(box: Sandbox, language: str) -> None:
    # attack (none needed): HumanEval-X's JS tests use console.assert, which only prints
    # "Assertion failed" to stderr and never throws; the block "runs to its end", so any
    # program passes (the official harness fails a run with output on stderr)
    needs(language)
    signature = "(numbers, threshold)" if language == "javascript" else \
        "(numbers: number[], threshold: number): boolean"
    code = f"const hasCloseElements = {signature} => {{ return false; }}\n"
    e = box.run(native(code, HUMANEVAL_X_JS_TESTS, language))
    assert e.status is Status.FAILED, e.reason


NODE_SUITE_CODE = """process.on("exit", () => { process.exitCode = 0; });
function add(a, b) { return a === 1 && b === 0 ? 1 : a - b; }
"""
NODE_SUITE_TESTS = """const test = require('node:test');
const assert = require('node:assert');
test('adds zero', () => { assert.strictEqual(add(1, 0), 1); });
test.describe('sums', () => {
  assert.strictEqual(add(1, 2), 3);
  test.it('adds two', () => { assert.strictEqual(add(2, 2), 4); });
});
"""


def test_node_test_failing_suite_is_a_failure(box: Sandbox) -> None:
    # attack: an assertion (or a program call) that throws in a describe() body fails the
    # suite; the reporter skips suite events, node's summary does not count the suite (fail
    # 0, its it()s never registered), only the exit code says 1 -- and the program resets
    # it in an 'exit' listener (process.exitCode = 0)
    needs("javascript")
    e = box.run(native(NODE_SUITE_CODE, NODE_SUITE_TESTS, "javascript"))
    assert e.status is Status.FAILED, e.reason


def test_async_js_block_failure_is_a_failure(box: Sandbox) -> None:
    # attack: the completion suffix runs right after the block's synchronous part; an async
    # block's failing assertion rejects later (exit 1), and the program's 'exit' listener
    # sets process.exitCode = 0: DONE (real nonce) + exit 0
    needs("javascript")
    code = 'process.on("exit", () => { process.exitCode = 0; });\n' \
           "async function add(a, b) { return a - b; }\n"
    tests = "const assert = require('assert');\n" \
            "(async () => { assert.deepEqual(await add(1, 2), 3); })();\n"
    e = box.run(native(code, tests, "javascript"))
    assert e.status is Status.FAILED, e.reason
