# ruff: noqa: E501 - templates in other languages keep their own line lengths
"""The languages' own test frameworks, in the ``native`` style: ``node --test``'s
``node:test`` (JavaScript, TypeScript) and JUnit (Java; JUnit 5's platform from Debian's
``junit5``, which also runs JUnit 4 classes through its vintage engine). Chosen by what the
test block imports (``framework``); Go's ``testing`` and Rust's ``#[test]`` are
``drivers/native``'s.

The framework runs in the program's process and reports through code of ours loaded into
it: a ``node:test`` reporter module, a JUnit ``TestExecutionListener``. It writes to fd 3
one ``TEST\\t<name>\\t<ok|fail|skip>\\t<message>\\t<ms>`` line per test, then, once the
framework's run is over, ``SUMMARY\\t<tests>\\t<passed>\\t<failed>\\t<skipped>`` (the
framework's own counts: node's ``tests/pass/fail+cancelled/skipped+todo`` diagnostics plus
the failed suites, which node does not count; JUnit's ``TestExecutionSummary``, aborted
tests and containers counted as failed),
and only then reads the per-job nonce on stdin and writes ``DONE\\t<nonce>\\t<failed>``. An
``exit(0)`` in a test, or before the tests ran, never gets there; what the program prints is
never read for the verdict (``framework_verdict``, in the judge).
"""

from __future__ import annotations

import re
from typing import Any

from codesynth.harness.drivers import Form, Unrenderable
from codesynth.languages import _JVM_FLAGS, JAVAC_FLAGS, TYPESCRIPT

JUNIT_JAR = "/usr/share/java/junit-platform-console-standalone.jar"  # Debian's junit5
REPORTER = "codesynth-reporter.mjs"

_NODE_TEST = re.compile(r"""(?:require\s*\(|from|import)\s*['"](?:node:)?test['"]""")
_JUNIT = re.compile(r"^\s*import\s+(?:static\s+)?org\.junit\.", re.MULTILINE)
_ESM = re.compile(r"^\s*(?:import\s[^(]|export\s)", re.MULTILINE)


def framework(language: str, tests: str) -> str | None:
    """``"node-test"`` or ``"junit"`` when the test block is written for that framework."""
    if language in ("javascript", "typescript") and _NODE_TEST.search(tests):
        return "node-test"
    if language == "java" and _JUNIT.search(tests):
        return "junit"
    return None


_REPORTER = r"""import fs from "node:fs";
export default async function* codesynthReporter(source) {
  const out = (text) => fs.writeSync(3, text);
  const clean = (s) => String(s ?? "").replace(/[\t\n\r]/g, " ").slice(0, 2000);
  const names = [];
  const summary = {};
  let suitesFailed = 0;
  for await (const event of source) {
    const data = event.data || {};
    if (event.type === "test:start") names[data.nesting] = data.name;
    else if (event.type === "test:pass" || event.type === "test:fail") {
      names[data.nesting] = data.name;
      const details = data.details || {};
      const name = names.slice(0, data.nesting + 1).join(" > ");
      if (details.type === "suite") {  // node counts no failed suite in its summary: we do
        // (a suite that failed only because a test of it failed is that test's failure)
        const why = details.error && details.error.failureType;
        if (event.type === "test:fail" && why !== "subtestsFailed") {
          suitesFailed += 1;
          let error = details.error ? (details.error.cause ?? details.error) : "";
          out(`TEST\t${clean(name)}\tfail\t${clean(error && (error.message ?? error))}\t${details.duration_ms ?? ""}\n`);
        }
        continue;
      }
      const outcome = data.skip || data.todo ? "skip" : event.type === "test:pass" ? "ok" : "fail";
      let error = details.error ? (details.error.cause ?? details.error) : "";
      error = error && (error.message ?? error);
      out(`TEST\t${clean(name)}\t${outcome}\t${clean(error)}\t${details.duration_ms ?? ""}\n`);
    } else if (event.type === "test:diagnostic") {
      const found = /^(tests|pass|fail|cancelled|skipped|todo) (\d+)$/.exec(String(data.message));
      if (found && data.nesting === 0) summary[found[1]] = Number(found[2]);
    }
  }
  const failed = (summary.fail ?? 0) + (summary.cancelled ?? 0) + suitesFailed;
  const skipped = (summary.skipped ?? 0) + (summary.todo ?? 0);
  out(`SUMMARY\t${summary.tests ?? -1}\t${summary.pass ?? -1}\t${failed}\t${skipped}\n`);
  const nonce = fs.readFileSync(0, "utf8").trim();
  out(`DONE\t${nonce}\t${failed}\n`);
}
"""

# Ambient modules for TypeScript test files (Debian has no @types/node); with
# --esModuleInterop, `import test, { describe } from "node:test"` works on node's CommonJS.
_TS_TEST_MODULE = """{
  function test(...args: any[]): any;
  namespace test { const test: any, describe: any, it: any, suite: any, before: any, after: any,
    beforeEach: any, afterEach: any, mock: any, skip: any, todo: any, only: any, run: any; }
  export = test;
}"""
_TS_MODULES = f'declare module "node:test" {_TS_TEST_MODULE}\n' \
    f'declare module "test" {_TS_TEST_MODULE}\n' + """declare module "node:assert" { const assert: any; export = assert; }
declare module "assert" { const assert: any; export = assert; }
declare module "node:assert/strict" { const assert: any; export = assert; }
declare module "assert/strict" { const assert: any; export = assert; }
"""


def node_test_form(language: str, code: str, tests: str) -> Form:
    text = code + "\n" + tests
    run_reporter = [f"--test-reporter=./{REPORTER}"]
    files = {REPORTER: _REPORTER}
    if language == "typescript":
        assert TYPESCRIPT.compile is not None
        files["codesynth-node-test.d.ts"] = _TS_MODULES
        return Form(source=text, files=files,
                    compile=[*TYPESCRIPT.compile, "codesynth-node-test.d.ts", "--esModuleInterop"],
                    run=["node", *run_reporter, "solution.js"])
    if _ESM.search(text):  # ES module syntax: node runs it as a module
        files["solution.mjs"] = text
        return Form(source="", files=files, compile=["node", "--check", "solution.mjs"],
                    run=["node", *run_reporter, "solution.mjs"])
    return Form(source=text, files=files, run=["node", *run_reporter, "solution.js"])


_JUNIT_RUNNER = r"""import java.io.*;
import java.util.*;
import org.junit.platform.engine.DiscoverySelector;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.TestSource;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.launcher.*;
import org.junit.platform.launcher.core.*;
import org.junit.platform.launcher.listeners.*;

public class CodesynthJUnit {
    static FileOutputStream out;

    static void line(String text) {
        try { out.write((text + "\n").getBytes("UTF-8")); out.flush(); } catch (IOException e) { throw new UncheckedIOException(e); }
    }

    static String clean(String text) {
        text = text == null ? "" : text.replace('\t', ' ').replace('\n', ' ').replace('\r', ' ');
        return text.length() > 2000 ? text.substring(0, 2000) : text;
    }

    static String name(TestIdentifier id) {
        TestSource source = id.getSource().orElse(null);
        if (source instanceof MethodSource) {
            MethodSource method = (MethodSource) source;
            String shown = id.getDisplayName();
            String base = method.getClassName() + "." + method.getMethodName();
            return shown.equals(method.getMethodName() + "()") || shown.equals(method.getMethodName())
                ? base : base + " " + shown;
        }
        if (source instanceof ClassSource) return ((ClassSource) source).getClassName();
        return id.getDisplayName();
    }

    public static void main(String[] argv) throws Exception {
        out = new FileOutputStream("/proc/self/fd/3", true);
        final Map<String, Long> started = new HashMap<>();
        TestExecutionListener report = new TestExecutionListener() {
            @Override public void executionStarted(TestIdentifier id) { started.put(id.getUniqueId(), System.nanoTime()); }
            @Override public void executionSkipped(TestIdentifier id, String reason) {
                if (id.isTest()) line("TEST\t" + clean(name(id)) + "\tskip\t" + clean(reason) + "\t");
            }
            @Override public void executionFinished(TestIdentifier id, TestExecutionResult result) {
                TestExecutionResult.Status status = result.getStatus();
                if (!id.isTest() && status == TestExecutionResult.Status.SUCCESSFUL) return;
                String outcome = status == TestExecutionResult.Status.SUCCESSFUL ? "ok"
                    : status == TestExecutionResult.Status.ABORTED ? "abort" : "fail";
                String why = outcome.equals("ok") ? "" : result.getThrowable().map(Throwable::toString).orElse(status.toString());
                Long start = started.get(id.getUniqueId());
                String ms = start == null ? "" : String.valueOf((System.nanoTime() - start) / 1e6);
                line("TEST\t" + clean(name(id)) + "\t" + outcome + "\t" + clean(why) + "\t" + ms);
            }
        };
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        List<DiscoverySelector> classes = new ArrayList<>();
        for (String name : argv) classes.add(DiscoverySelectors.selectClass(name));
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
            .selectors(classes).build();
        LauncherFactory.create().execute(request, report, summary);
        TestExecutionSummary counts = summary.getSummary();
        long failed = counts.getTestsFailedCount() + counts.getContainersFailedCount()
            + counts.getTestsAbortedCount() + counts.getContainersAbortedCount();
        line("SUMMARY\t" + counts.getTestsFoundCount() + "\t" + counts.getTestsSucceededCount() + "\t" + failed
             + "\t" + counts.getTestsSkippedCount());
        String nonce = new BufferedReader(new InputStreamReader(System.in)).readLine();
        if (nonce != null) line("DONE\t" + nonce.trim() + "\t" + failed);
        System.exit(failed == 0 ? 0 : 1);
    }
}
"""


def junit_form(code: str, tests: str) -> Form:
    from codesynth.java_source import public_class, test_classes

    test_file = f"{public_class(tests) or 'CodesynthTests'}.java"
    if test_file == f"{public_class(code) or 'Main'}.java" or test_file == "CodesynthJUnit.java":
        test_file = "CodesynthTests.java"  # only a public class needs its own file name
    classes = test_classes(tests)  # only the block's classes run (never the program's)
    if not classes:
        raise Unrenderable("the JUnit test block declares no class")
    return Form(source=code, files={test_file: tests, "CodesynthJUnit.java": _JUNIT_RUNNER},
                compile=["javac", *JAVAC_FLAGS, "-nowarn", "-cp", JUNIT_JAR, "-d", ".",
                         "{source}", test_file, "CodesynthJUnit.java"],
                run=["java", *_JVM_FLAGS, "-cp", f".:{JUNIT_JAR}", "CodesynthJUnit",
                     *(name.replace("{", "{{").replace("}", "}}") for name in classes)])


def framework_form(language: str, code: str, tests: str) -> tuple[str, Form] | None:
    kind = framework(language, tests)
    if kind == "node-test":
        return kind, node_test_form(language, code, tests)
    if kind == "junit":
        return kind, junit_form(code, tests)
    return None


_OUTCOMES = {"ok": "passed", "fail": "failed", "skip": "skipped", "abort": "failed"}


def framework_verdict(evidence: Any, run: dict[str, Any], nonce: str, kind: str) -> None:
    """A test framework's report (``drivers/frameworks``): one test event per ``TEST`` line;
    passed only when the run exited 0 and fd 3 holds exactly one ``SUMMARY`` (the framework's
    counts: at least one test, none failed, as many passed as ``ok`` lines and as tests
    found minus those skipped without running) followed by
    exactly one ``DONE`` with this job's nonce. Printed text is never read for it."""
    from codesynth.harness.compiled_tests import _ending, _seconds, unfinished

    lines = [line.split("\t") for line in run["results"].splitlines()]
    tests = [parts for parts in lines if parts[0] == "TEST" and len(parts) >= 3]
    for parts in tests:
        duration = _seconds(parts[4]) if len(parts) > 4 else None
        duration = None if duration is None else duration / 1000
        evidence.test(name=parts[1][:200] or "(unnamed)",
                      outcome=_OUTCOMES.get(parts[2], "error"),
                      message=(parts[3][:2000] if len(parts) > 3 and parts[3] else None),
                      duration=duration)
    summaries = [parts for parts in lines if parts[0] == "SUMMARY"]
    done = [parts for parts in lines if parts[0] == "DONE"]
    counts = [int(x) if re.fullmatch(r"-?\d+", x) else -1 for x in summaries[0][1:5]] \
        if len(summaries) == 1 and len(summaries[0]) == 5 else None
    passed = sum(1 for parts in tests if parts[2] == "ok")
    failed = [parts for parts in tests if parts[2] not in ("ok", "skip")]
    finished = len(done) == 1 and done[0][1:] == [nonce, "0"] and \
        lines and lines[-1] == done[0] and lines[-2:-1] == summaries[:1]
    label = {"node-test": "node:test", "junit": "JUnit"}.get(kind, kind)
    # every test found ran and passed, but those the framework skipped without running them
    # (JUnit's @Disabled/@Ignore, node's skip/todo); a JUnit test aborted at run time (an
    # assumption, TestAbortedException) is a failure, in the counts and in its line
    complete = counts is not None and counts[3] >= 0 and counts[0] - counts[3] == counts[1]
    if finished and counts is not None and counts[2] == 0 and counts[1] == passed >= 1 \
            and complete and not failed and run["exit"] == 0 and run["signal"] is None:
        evidence.final("passed", phase="tests", reason=f"{label}: {passed} test(s) passed "
                       "(the framework's report, in the program's process)")
        return
    if failed:
        reason = f"{len(failed)} test(s) failed; first: {failed[0][1]}: " + \
            (failed[0][3] if len(failed[0]) > 3 else "")
    elif len(summaries) > 1 or len(done) > 1:
        reason = "more than one summary or completion line: forged by the program"
    elif done and done[0][1] != nonce:
        reason = "a completion line with a wrong nonce: forged by the program"
    elif done and counts is not None and counts[1] != passed:
        reason = f"the report's summary says {counts[1]} passed, its tests {passed}: forged"
    elif done and passed == 0:
        reason = f"{label} ran no test"
    elif done and counts is not None and not complete:
        reason = f"the report's summary says {counts[0]} test(s) found, {counts[3]} skipped, " \
            f"{counts[1]} passed: not every test ran"
    elif done and not finished:
        reason = "the report is out of order: forged by the program"
    else:
        reason = f"the tests did not complete ({_ending(run)})"
    unfinished(evidence, run, reason)
