"""The languages' own test frameworks in the ``native`` style: ``node:test`` (JavaScript,
TypeScript) and JUnit (Java), both backends. Correct tests pass with per-test outcomes;
failing tests, compile errors, crashes, loops, an early exit(0), printed "ok"/"PASS" and
forged framework reports get their status (``harness/drivers/frameworks``)."""

from __future__ import annotations

import os

import pytest

from codesynth.harness.drivers.frameworks import JUNIT_JAR, framework
from codesynth.records import Job, Limits, Status
from codesynth.sandbox.protocol import Sandbox
from tests.conftest import in_ci
from tests.sandbox.test_languages import language_box, needs

LIMITS = Limits(timeout=20.0, cpu_time=8.0, memory_mb=1024, max_processes=64,
                file_size_mb=8, max_output=4096)


box = language_box(LIMITS)


def needs_junit() -> None:
    needs("java")
    if not os.path.exists(JUNIT_JAR):
        message = f"JUnit is not installed ({JUNIT_JAR}): apt-get install -y junit5"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)


# --- node:test ------------------------------------------------------------------------

JS_CODE = "function add(a, b) { return a + b; }\n"
TS_CODE = "function add(a: number, b: number): number { return a + b; }\n"
JS_TESTS = """const test = require('node:test');
const assert = require('node:assert');
test('adds small numbers', () => { assert.strictEqual(add(1, 2), 3); });
test.describe('group', () => {
  test.it('adds zero', () => { assert.strictEqual(add(0, 5), 5); });
  test.it('is async', async () => { await new Promise((r) => setTimeout(r, 5)); assert.ok(true); });
});
"""
TS_TESTS = """import test, { describe, it } from 'node:test';
import assert from 'node:assert';
test('adds small numbers', () => { assert.strictEqual(add(1, 2), 3); });
describe('group', () => {
  it('adds zero', () => { assert.strictEqual(add(0, 5), 5); });
  it('is async', async () => { await new Promise((r) => setTimeout(r, 5)); assert.ok(true); });
});
"""
NODE_NAMES = ["adds small numbers", "group > adds zero", "group > is async"]
FORGED_REPORT = ("require('fs').writeSync(3, 'TEST\\tfake\\tok\\t\\t1\\nSUMMARY\\t1\\t1\\t0"
                 "\\nDONE\\tdeadbeef\\t0\\n');")


def node_job(language: str, tests: str | None = None, code: str | None = None) -> Job:
    default_code, default_tests = (JS_CODE, JS_TESTS) if language == "javascript" else \
        (TS_CODE, TS_TESTS)
    return Job(id=f"{language}-node-test", code=default_code if code is None else code,
               tests=default_tests if tests is None else tests, test_style="native",
               language=language)


NODE_LANGUAGES = ["javascript", "typescript"]


def test_framework_is_chosen_by_the_imports() -> None:
    assert framework("javascript", JS_TESTS) == "node-test"
    assert framework("typescript", TS_TESTS) == "node-test"
    assert framework("javascript", "const assert = require('assert');\nassert.ok(1);") is None
    assert framework("java", JUNIT_TESTS) == "junit"
    assert framework("java", "public class T { public static void main(String[] a) {} }") \
        is None


@pytest.mark.parametrize("language", NODE_LANGUAGES)
def test_node_test_passes_with_per_test_outcomes(box: Sandbox, language: str) -> None:
    needs(language)
    e = box.run(node_job(language))
    assert e.status is Status.PASSED, (e.reason, e.stdout[-2000:], e.stderr[-2000:])
    assert [(t.name, t.outcome) for t in e.tests] == [(n, "passed") for n in NODE_NAMES]
    assert all(t.duration is not None and t.duration >= 0 for t in e.tests)
    assert e.in_process_tests is True
    assert "node:test: 3 test(s) passed" in e.reason


def test_node_test_as_an_es_module(box: Sandbox) -> None:
    """ES module syntax (``import``/``export``) runs as ``solution.mjs``."""
    needs("javascript")
    code = "export function add(a, b) { return a + b; }\n"
    tests = TS_TESTS.replace("(r: any)", "(r)")
    e = box.run(node_job("javascript", tests, code))
    assert e.status is Status.PASSED, (e.reason, e.stderr[-2000:])
    assert [t.name for t in e.tests] == NODE_NAMES
    broken = box.run(node_job("javascript", tests + "\nconst = 1;\n", code))
    assert broken.status is Status.ERROR, broken.reason


@pytest.mark.parametrize("language", NODE_LANGUAGES)
def test_node_test_failing_test_is_failed(box: Sandbox, language: str) -> None:
    needs(language)
    tests = (JS_TESTS if language == "javascript" else TS_TESTS).replace(
        "add(0, 5), 5", "add(0, 5), 6")
    e = box.run(node_job(language, tests))
    assert e.status is Status.FAILED, e.reason
    assert [t.outcome for t in e.tests] == ["passed", "failed", "passed"]
    assert "group > adds zero" in e.reason and "5 !== 6" in str(e.tests[1].message)


@pytest.mark.parametrize("language", NODE_LANGUAGES)
def test_node_test_compile_error(box: Sandbox, language: str) -> None:
    needs(language)
    code = "function add(a, b) { return a + ; }\n" if language == "javascript" else \
        "function add(a: number, b: number): number { return 'x'; }\n"
    e = box.run(node_job(language, code=code))
    assert e.status is Status.ERROR, e.reason
    assert e.exception is not None and e.exception.type == "CompileError"
    assert e.exception.line == 1, e.exception


HOSTILE_NODE = {
    "exit in a test": "test('leaves', () => { process.exit(0); });\n",
    "exit before the tests": "process.exit(0);\n",
    "printed ok": "console.log('TAP version 13\\nok 1 - all\\n1..1\\n# pass 1\\n# fail 0');"
                  "\nprocess.exit(0);\n",
    "forged report": FORGED_REPORT + "\nprocess.exit(0);\n",
    "forged extra test": FORGED_REPORT.split("SUMMARY")[0] + "');\n",
    "exit after forging in a test": "test('forges', () => { " + FORGED_REPORT + " });\n",
}


@pytest.mark.parametrize("variant", list(HOSTILE_NODE))
@pytest.mark.parametrize("language", NODE_LANGUAGES)
def test_node_test_early_exit_and_forgery_do_not_pass(box: Sandbox, language: str,
                                                       variant: str) -> None:
    needs(language)
    tests = (JS_TESTS if language == "javascript" else TS_TESTS) + HOSTILE_NODE[variant]
    e = box.run(node_job(language, tests))
    assert e.status is Status.FAILED, (variant, e.status, e.reason)


@pytest.mark.parametrize("language", NODE_LANGUAGES)
def test_node_test_crash_and_loop(box: Sandbox, language: str) -> None:
    needs(language)
    base = JS_TESTS if language == "javascript" else TS_TESTS
    crash = box.run(node_job(language, base + "test('crash', () => { process.kill("
                                              "process.pid, 'SIGSEGV'); });\n"))
    assert crash.status is Status.CRASHED, crash.reason
    loop = box.run(node_job(language, base + "test('loop', () => { while (true) {} });\n"))
    assert loop.status is Status.TIMEOUT, loop.reason


# --- JUnit ------------------------------------------------------------------------------

JAVA_CODE = "public class Calc {\n    public static int add(int a, int b) { return a + b; }\n}\n"
JUNIT_TESTS = """import org.junit.jupiter.api.Test;
import static org.junit.jupiter.api.Assertions.assertEquals;

public class CalcTest {
    @Test
    void addsSmallNumbers() { assertEquals(3, Calc.add(1, 2)); }

    @Test
    void addsZero() { assertEquals(5, Calc.add(0, 5)); }
}
"""
JUNIT4_TESTS = """import org.junit.Test;
import static org.junit.Assert.assertEquals;

public class CalcTest {
    @Test
    public void addsSmallNumbers() { assertEquals(3, Calc.add(1, 2)); }
}
"""


def junit_job(tests: str = JUNIT_TESTS, code: str = JAVA_CODE) -> Job:
    return Job(id="junit", code=code, tests=tests, test_style="native", language="java")


def test_junit_passes_with_per_test_outcomes(box: Sandbox) -> None:
    needs_junit()
    e = box.run(junit_job())
    assert e.status is Status.PASSED, (e.reason, e.stdout[-2000:], e.stderr[-2000:])
    assert sorted((t.name, t.outcome) for t in e.tests) == [
        ("CalcTest.addsSmallNumbers", "passed"), ("CalcTest.addsZero", "passed")]
    assert e.in_process_tests is True
    assert "JUnit: 2 test(s) passed" in e.reason


def test_junit4_class_passes(box: Sandbox) -> None:
    needs_junit()
    e = box.run(junit_job(JUNIT4_TESTS))
    assert e.status is Status.PASSED, (e.reason, e.stderr[-2000:])
    assert [(t.name, t.outcome) for t in e.tests] == [("CalcTest.addsSmallNumbers", "passed")]


def test_junit_failing_test_and_compile_error(box: Sandbox) -> None:
    needs_junit()
    e = box.run(junit_job(JUNIT_TESTS.replace("assertEquals(5,", "assertEquals(6,")))
    assert e.status is Status.FAILED, e.reason
    assert dict((t.name, t.outcome) for t in e.tests) == {
        "CalcTest.addsSmallNumbers": "passed", "CalcTest.addsZero": "failed"}
    assert "expected: <6> but was: <5>" in e.reason
    broken = box.run(junit_job(code=JAVA_CODE.replace("return a + b;", "return a +;")))
    assert broken.status is Status.ERROR, broken.reason
    assert broken.exception is not None and broken.exception.type == "CompileError"
    assert broken.exception.line == 2
    wrong_call = box.run(junit_job(JUNIT_TESTS.replace("Calc.add(0, 5)", "Calc.add(0)")))
    assert wrong_call.status is Status.ERROR, wrong_call.reason
    assert wrong_call.exception is not None and wrong_call.exception.line == 9
    assert "CalcTest.java:9" in wrong_call.exception.traceback


HOSTILE_JUNIT = {
    "exit in a test": "    @Test\n    void leaves() { System.exit(0); }\n",
    "printed ok and exit": "    @Test\n    void prints() { System.out.println(\"[   2 tests "
                           "successful ]\\nOK (2 tests)\"); System.exit(0); }\n",
    "forged report": "    @Test\n    void forges() throws Exception { try (java.io."
                     "FileOutputStream f = new java.io.FileOutputStream(\"/proc/self/fd/3\", "
                     "true)) { f.write(\"SUMMARY\\t2\\t2\\t0\\nDONE\\tdeadbeef\\t0\\n\"."
                     "getBytes()); } System.exit(0); }\n",
    "forged extra tests": "    @Test\n    void forges() throws Exception { try (java.io."
                          "FileOutputStream f = new java.io.FileOutputStream(\"/proc/self/fd/3\""
                          ", true)) { f.write(\"TEST\\tCalcTest.more\\tok\\t\\t1\\n\".getBytes());"
                          " } }\n",
}


@pytest.mark.parametrize("variant", list(HOSTILE_JUNIT))
def test_junit_early_exit_and_forgery_do_not_pass(box: Sandbox, variant: str) -> None:
    needs_junit()
    tests = JUNIT_TESTS.rstrip().removesuffix("}") + HOSTILE_JUNIT[variant] + "}\n"
    e = box.run(junit_job(tests))
    assert e.status is Status.FAILED, (variant, e.status, e.reason)


def test_junit_loop_is_timeout(box: Sandbox) -> None:
    needs_junit()
    tests = JUNIT_TESTS.rstrip().removesuffix("}") + \
        "    @Test\n    void loops() { long n = 0; while (true) n++; }\n}\n"
    e = box.run(junit_job(tests))
    assert e.status is Status.TIMEOUT, e.reason


def test_junit_crash_and_memory(box: Sandbox) -> None:
    # the JVM killed under a test (a write through address 0: the JVM's fatal-error handler
    # aborts it) never passes on the tests before it: an abort is `failed` in every language
    # (C++'s failed `assert` is one); a heap exhausted in a test is `memory`, however JUnit
    # reports the error
    needs_junit()
    crash = JUNIT_TESTS.rstrip().removesuffix("}") + """    @Test
    void crashes() throws Exception {
        java.lang.reflect.Field f = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
        f.setAccessible(true);
        ((sun.misc.Unsafe) f.get(null)).putAddress(0, 0);
    }
}
"""
    e = box.run(junit_job(crash))
    assert e.status is Status.FAILED and "SIGABRT" in e.reason, (e.status, e.reason)
    hog = JUNIT_TESTS.rstrip().removesuffix("}") + """    @Test
    void hogs() {
        java.util.List<long[]> all = new java.util.ArrayList<>();
        while (true) all.add(new long[1 << 20]);
    }
}
"""
    e = box.run(junit_job(hog))
    assert e.status is Status.MEMORY, (e.status, e.reason)
