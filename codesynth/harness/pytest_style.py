"""The ``pytest`` test style: a test module importing the program from ``solution.py``.

pytest runs in the judge (imported once in the zygote, so a job pays no import), in a
directory of its own the program cannot read; ``solution`` is a module of proxies to the
program, which runs in the judged process. A plugin records one outcome per test item;
collection errors make the verdict ``error``.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from codesynth.harness._trace import exception_info
from codesynth.harness.evidence import Evidence

TEST_FILE = "test_solution.py"
_MAX_MESSAGE = 4000


class _Collector:
    def __init__(self, evidence: Evidence, session: Any = None) -> None:
        self.evidence = evidence
        self.session = session
        self.counts = {"passed": 0, "failed": 0, "skipped": 0, "error": 0}
        self.collect_errors: list[str] = []
        self.first_failure: dict[str, Any] | None = None
        self.collected = 0
        self.finished: set[str] = set()

    def pytest_collectreport(self, report: Any) -> None:
        if report.failed:
            self.collect_errors.append(str(report.longrepr)[-_MAX_MESSAGE:])

    def pytest_collection_finish(self, session: Any) -> None:
        self.collected = len(session.items)

    def pytest_runtest_logreport(self, report: Any) -> None:
        if self.session is not None:
            self.session.test = report.nodeid
            if self.session.gone is not None:
                return  # the program is gone: the runner says how it ended
        if report.when == "call" or report.outcome != "passed":
            if report.when != "call" and report.outcome == "failed":
                outcome = "error"  # setup/teardown failure
            else:
                outcome = report.outcome
            if report.when == "teardown" and outcome == "passed":
                return
            if report.when != "teardown":
                self.finished.add(report.nodeid)
            message = None if report.passed else str(report.longrepr)[-_MAX_MESSAGE:]
            if outcome == "skipped" and _raised_by_program(report):
                outcome = "failed"  # a skip or xfail the tests did not ask for
                message = f"the program under test skipped the test: {message}"
            line = None
            crash = getattr(report.longrepr, "reprcrash", None)
            if crash is not None and os.path.basename(str(crash.path)) == TEST_FILE:
                line = crash.lineno
            self.counts[outcome] = self.counts.get(outcome, 0) + 1
            self.evidence.test(name=report.nodeid, outcome=outcome, message=message, line=line,
                               duration=report.duration)
            if outcome in ("failed", "error") and self.first_failure is None:
                summary = crash.message if crash is not None else (message or "")
                self.first_failure = {"type": "TestFailure", "message": summary[:_MAX_MESSAGE],
                                      "traceback": message or "", "line": line}


def _raised_by_program(report: Any) -> bool:
    """Was this skip/xfail raised from the program (``solution.py``), not by the tests?"""
    location = report.longrepr
    path = location[0] if isinstance(location, tuple) and location else None
    if path is None:
        crash = getattr(location, "reprcrash", None)
        path = getattr(crash, "path", None)
    return path is not None and os.path.basename(str(path)) == "solution.py"


# The judge's own directory (the program cannot read it): the tests are written there.
PRIVATE_DIR: str | None = None


def _arguments(rootdir: str | None = None) -> list[str]:
    root = rootdir or os.getcwd()
    args = ["-q", "-p", "no:cacheprovider", "-p", "no:legacypath", "--rootdir", root,
            "--confcutdir", root, *(["-c", os.path.join(root, "pytest.ini")] if rootdir else []),
            "-o", "python_files=test_*.py", "--no-header", "-rN"]
    try:  # plugin auto-discovery is off (it scans every installed distribution): opt in
        import _hypothesis_pytestplugin  # noqa: F401

        args += ["-p", "_hypothesis_pytestplugin"]
    except ImportError:
        pass
    return args


def warm_up(workdir: str) -> None:
    """Run one throwaway session in the runner so that forked jobs inherit a pytest that has
    imported everything it imports lazily (the first session costs ~1 s, later ones ~30 ms)."""
    import io

    import pytest

    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    with open(os.path.join(workdir, "solution.py"), "w") as handle:
        handle.write("def f():\n    return 1\n")
    with open(os.path.join(workdir, TEST_FILE), "w") as handle:
        handle.write("import pytest\nfrom solution import f\n\n"
                     "@pytest.mark.parametrize('x', [1])\ndef test_f(x):\n    assert f() == x\n")
    cwd, stdout, path = os.getcwd(), sys.stdout, list(sys.path)
    try:
        os.chdir(workdir)
        sys.stdout = io.StringIO()
        pytest.main([*_arguments(), "--capture=no", TEST_FILE], plugins=[])
    finally:
        os.chdir(cwd)
        sys.stdout = stdout
        sys.path[:] = path
        sys.modules.pop("solution", None)
        sys.modules.pop("test_solution", None)


def run_pytest(job: dict[str, Any], evidence: Evidence, session: Any) -> None:
    import pytest

    from codesynth.harness.inprocess import report_suspicious
    from codesynth.harness.remote import ProgramGone, RemoteModule

    evidence.phase("code")
    try:
        names = session.load(job["code"])
    except ProgramGone:
        return
    except BaseException as exc:  # noqa: BLE001 - the program failed to load
        info = exception_info(exc, "solution.py")
        evidence.final("error", phase="code", exception={
            **info, "type": "CollectionError",
            "message": f"{info['type']}: {info['message']}"},
            reason="the test module or the solution failed to import")
        return
    sys.modules["solution"] = RemoteModule(session, names)
    private = PRIVATE_DIR or os.getcwd()
    path = os.path.join(private, TEST_FILE)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(job["tests"])
    # Its own configuration, and no conftest.py from above: /tmp is the program's too.
    with open(os.path.join(private, "pytest.ini"), "w", encoding="utf-8") as handle:
        handle.write("[pytest]\n")
    os.chdir(private)
    collector = _Collector(evidence, session)
    evidence.phase("tests")
    args = [*_arguments(private), path]
    try:
        code = int(pytest.main(args, plugins=[collector]))
    except BaseException as exc:  # noqa: BLE001
        if session.gone is not None:
            return
        evidence.final("error", phase="tests", exception=exception_info(exc),
                       reason=f"pytest raised {type(exc).__name__}")
        return
    if session.gone is not None:
        return
    report_suspicious(evidence, session)
    counts = collector.counts
    if session.broken is not None:
        evidence.final("failed", phase="tests", reason=session.broken)
    elif collector.collect_errors:
        evidence.final("error", phase="code",
                       exception={"type": "CollectionError",
                                  "message": collector.collect_errors[0], "traceback": "",
                                  "line": None},
                       reason="the test module or the solution failed to import")
    elif len(collector.finished) < collector.collected:
        evidence.final("failed", phase="tests", exception=collector.first_failure,
                       reason=f"the session ended after {len(collector.finished)} of "
                              f"{collector.collected} tests (pytest exit {code})")
    elif code == 5 or sum(counts.values()) == 0:
        evidence.final("error", phase="tests", reason="pytest collected no tests")
    elif counts["failed"] or counts["error"] or code != 0:
        evidence.final("failed", phase="tests", exception=collector.first_failure,
                       reason=f"{counts['failed'] + counts['error']} of "
                              f"{sum(counts.values())} test(s) failed (pytest exit {code})")
    elif counts["passed"] == 0:
        evidence.final("failed", phase="tests", reason="every test was skipped")
    else:
        evidence.final("passed", phase="tests", reason=f"{counts['passed']} test(s) passed")
