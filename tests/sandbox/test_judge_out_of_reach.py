"""The judge never shares a process with the judged: attacks from the program, by class.

Every attack below runs in a program whose tests fail (or whose stdio answer is wrong): it
must end not passed, and whatever it looks for -- the evidence key, the tests, the expected
values, another job's data -- it must not find. Programs print what they found; the tests
check it was nothing.
"""

from __future__ import annotations

import pytest

from codesynth.records import Status
from codesynth.sandbox.protocol import Sandbox
from tests.conftest import job
from tests.sandbox.helpers import code

SECRET = "expected-7f3a91c2"  # an expected value: only in the tests, never in the program
# Programs look for it in two halves, never forming the whole string themselves.
FIND = code("""
    HEAD, TAIL = "expected-7f3a", "91c2"
    def has_secret(data):
        empty = data[:0]
        head = HEAD.encode() if isinstance(data, bytes) else HEAD
        tail = TAIL.encode() if isinstance(data, bytes) else TAIL
        at = data.find(head)
        while at >= 0:
            if data[at + len(head):at + len(head) + len(tail)] == tail:
                return True
            at = data.find(head, at + 1)
        return empty == 1
""")
FAILING = f'assert answer() == "{SECRET}"\n'


def not_passed(sandbox: Sandbox, program: str, tests: str = FAILING, style: str = "assert"):
    e = sandbox.run(job(code(program), tests, style))
    assert e.status is not Status.PASSED, (e.reason, e.stdout, e.stderr)
    assert "FOUND" not in e.stdout, e.stdout
    return e


# -- monkeypatching the harness from the program ----------------------------------------------

PATCHES = {
    "builtins.exec": """
        import builtins
        builtins.exec = lambda *a, **k: None
        builtins.eval = lambda *a, **k: True
    """,
    "builtins.AssertionError and print": """
        import builtins
        class Never(Exception):
            pass
        builtins.AssertionError = Never
        builtins.print = lambda *a, **k: None
        builtins.BaseException = Never
    """,
    "sys.modules: the harness replaced": """
        import sys, types
        for name in list(sys.modules):
            if name.startswith("codesynth"):
                fake = types.ModuleType(name)
                fake.__getattr__ = lambda attr: (lambda *a, **k: None)
                sys.modules[name] = fake
    """,
    "the harness's own functions patched": """
        import sys
        for name, module in list(sys.modules.items()):
            if name.startswith("codesynth") and module is not None:
                for attr in dir(module):
                    if callable(getattr(module, attr, None)) and not attr.startswith("__"):
                        try:
                            setattr(module, attr, lambda *a, **k: None)
                        except Exception:
                            pass
    """,
    "settrace rewriting locals": """
        import sys, threading
        def tracer(frame, event, arg):
            for key in ("exc", "failure", "first_failure", "outcome"):
                if key in frame.f_locals:
                    frame.f_locals[key] = None
            return tracer
        sys.settrace(tracer)
        threading.settrace(tracer)
    """,
    "setprofile hook": """
        import sys
        def profiler(frame, event, arg):
            if event == "return" and frame.f_code.co_name in ("answer", "_run_item"):
                frame.f_locals["status"] = "passed"
        sys.setprofile(profiler)
    """,
}


@pytest.mark.parametrize("patch", list(PATCHES.values()), ids=list(PATCHES))
def test_monkeypatching_the_harness_changes_nothing(sandbox: Sandbox, patch: str) -> None:
    # The judged process is the program's: patching it can break how it answers (then the
    # job is an error), never what the judge concludes.
    e = not_passed(sandbox, code(patch) + "def answer():\n    return 'wrong'\n")
    assert e.status in (Status.FAILED, Status.ERROR), e.reason


PYTEST_PATCHES = {
    "Function.runtest": """
        import _pytest.python
        _pytest.python.Function.runtest = lambda self: None
    """,
    "TestReport outcome": """
        import _pytest.reports
        _pytest.reports.TestReport.outcome = "passed"
        _pytest.reports.TestReport.passed = property(lambda self: True)
        _pytest.reports.TestReport.failed = property(lambda self: False)
    """,
    "pytest hooks and main": """
        import pytest, _pytest.main, _pytest.runner
        pytest.main = lambda *a, **k: 0
        _pytest.runner.call_and_report = lambda *a, **k: None
        _pytest.main.wrap_session = lambda *a, **k: 0
    """,
}


@pytest.mark.parametrize("patch", list(PYTEST_PATCHES.values()), ids=list(PYTEST_PATCHES))
def test_patching_pytest_from_the_program_changes_nothing(sandbox: Sandbox, patch: str
                                                          ) -> None:
    tests = f'from solution import answer\n\n\ndef test_it():\n    {FAILING}'
    e = not_passed(sandbox, code(patch) + "def answer():\n    return 'wrong'\n", tests,
                   "pytest")
    assert e.status is Status.FAILED, e.reason


# -- introspection: there is nothing to find in the program's process ---------------------------

SEARCHES = {
    "gc.get_objects": """
        import gc
        def look():
            for o in gc.get_objects():
                try:
                    text = repr(o)
                except Exception:
                    continue
                if has_secret(text) or type(o).__name__ in ("Evidence", "Session"):
                    print("FOUND", type(o).__name__)
    """,
    "frames of every thread": """
        import sys, threading
        def look():
            for frame in sys._current_frames().values():
                while frame is not None:
                    names = set(frame.f_locals) | set(frame.f_globals)
                    if names & {"evidence", "key", "tests", "session", "expected"}:
                        print("FOUND", frame.f_code.co_name)
                    frame = frame.f_back
            for thread in threading.enumerate():
                if thread is not threading.current_thread():
                    print("FOUND thread", thread.name)
    """,
    "signal handlers, atexit and finalizers": """
        import atexit, gc, signal
        def look():
            for number in range(1, signal.NSIG):
                try:
                    handler = signal.getsignal(number)
                except (ValueError, OSError):
                    continue
                for cell in getattr(handler, "__closure__", None) or ():
                    print("FOUND handler closure", number)
            for callback in gc.callbacks:
                print("FOUND gc callback")
            print("atexit", atexit._ncallbacks())
    """,
    "an exception's __str__ walking the stack": """
        import sys
        class Sneaky(Exception):
            def __str__(self):
                frame = sys._getframe()
                while frame is not None:
                    if {"evidence", "session", "expected"} & set(frame.f_locals):
                        return "FOUND"
                    frame = frame.f_back
                return "nothing"
        def look():
            raise Sneaky()
    """,
    "ctypes reads of its own memory": """
        import ctypes, re
        def look():
            with open("/proc/self/maps") as maps:
                regions = [line.split() for line in maps]
            for fields in regions:
                start, end = (int(x, 16) for x in fields[0].split("-"))
                if "r" not in fields[1] or end - start > 1 << 28 or len(fields) > 5 \\
                        and fields[5].startswith("[v"):
                    continue
                try:
                    data = ctypes.string_at(start, end - start)
                except Exception:
                    continue
                if has_secret(data):
                    print("FOUND in memory")
    """,
}


@pytest.mark.parametrize("search", list(SEARCHES.values()), ids=list(SEARCHES))
def test_introspection_finds_no_key_test_or_expected_value(sandbox: Sandbox, search: str
                                                           ) -> None:
    program = f"{FIND}{code(search)}\ndef answer():\n" \
              "    try:\n        look()\n    finally:\n        pass\n    return 'wrong'\n"
    e = sandbox.run(job(program, FAILING))
    assert e.status is Status.FAILED, (e.reason, e.stderr)
    assert "FOUND" not in e.stdout, e.stdout
    assert all("FOUND" not in (t.message or "") for t in e.tests)


# -- the judge is out of reach --------------------------------------------------------------

REACH = {
    "kill the judge (pid 1, parent, -1)": """
        import os, signal
        for target in (1, os.getppid(), -1):
            for number in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGSTOP):
                try:
                    os.kill(target, number)
                except OSError:
                    pass
    """,
    "ptrace and process_vm_readv": """
        import ctypes, os
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.ptrace(16, 1, 0, 0) == 0:  # PTRACE_ATTACH
            print("FOUND ptrace")
        buf = ctypes.create_string_buffer(64)
        class IoVec(ctypes.Structure):
            _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
        local = IoVec(ctypes.addressof(buf), 64)
        remote = IoVec(0x400000, 64)
        if libc.process_vm_readv(1, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0) > 0:
            print("FOUND process_vm_readv")
    """,
    "the judge's /proc files and descriptors": """
        import os
        for pid in ("1", str(os.getppid())):
            for name in ("mem", "environ", "fd/3", "fd/4", "fd/5", "cwd/test_solution.py"):
                try:
                    with open(f"/proc/{pid}/{name}", "rb") as handle:
                        handle.read(16)
                    print("FOUND", pid, name)
                except OSError:
                    pass
            try:
                os.listdir(f"/proc/{pid}/fd")
                print("FOUND fd listing", pid)
            except OSError:
                pass
    """,
    "the judge's private files": """
        import glob, itertools, os, sys
        # (the interpreter's own tree may live under /tmp, a venv there: it is public)
        runtime = tuple({sys.prefix, sys.base_prefix, sys.exec_prefix})
        for path in itertools.chain(glob.iglob("/tmp/**", recursive=True),
                                    glob.iglob("/sandbox/**", recursive=True)):
            if path.startswith(runtime) or not os.path.isfile(path):
                continue
            try:
                with open(path, errors="replace") as handle:
                    while chunk := handle.read(1 << 20):
                        if has_secret(chunk):
                            print("FOUND", path)
            except OSError:
                pass
    """,
}


@pytest.mark.parametrize("style", ["assert", "pytest"])
@pytest.mark.parametrize("attack", list(REACH.values()), ids=list(REACH))
def test_the_judge_is_out_of_reach(sandbox: Sandbox, attack: str, style: str) -> None:
    program = FIND + code(attack) + "\ndef answer():\n    return 'wrong'\n"
    tests = FAILING if style == "assert" else \
        f"from solution import answer\n\n\ndef test_it():\n    {FAILING}"
    e = sandbox.run(job(program, tests, style))
    assert e.status is Status.FAILED, (e.reason, e.stderr)
    assert "FOUND" not in e.stdout, e.stdout
    # and the same attack in a correct program does not stop it from passing
    right = FIND + code(attack) + f"\ndef answer():\n    return '{SECRET}'\n"
    ok = sandbox.run(job(right, tests, style))
    assert ok.status is Status.PASSED, (ok.reason, ok.stderr)
    assert "FOUND" not in ok.stdout, ok.stdout


# -- stdio: the expected outputs never enter the program's processes ------------------------------

STDIO_THEFT = {
    "frames": """
        import sys
        frame = sys._getframe()
        while frame is not None:
            for value in list(frame.f_locals.values()):
                text = repr(value)
                if "91c" in text and text[text.find("91c") - 7:text.find("91c")] == "answer-":
                    print("FOUND", text[:80])
            frame = frame.f_back
        print("nothing")
    """,
    "gc": """
        import gc
        for o in gc.get_objects():
            if isinstance(o, (dict, list, str)):
                text = repr(o)[:100000]
                at = text.find("answer-")
                if at >= 0 and text[at + 7:at + 10] == "91c":
                    print("FOUND")
        print("nothing")
    """,
    "ctypes memory scan": """
        import ctypes
        with open("/proc/self/maps") as maps:
            for line in maps:
                fields = line.split()
                start, end = (int(x, 16) for x in fields[0].split("-"))
                if "r" not in fields[1] or end - start > 1 << 28 or \\
                        len(fields) > 5 and fields[5].startswith("[v"):
                    continue
                try:
                    data = ctypes.string_at(start, end - start)
                except Exception:
                    continue
                at = data.find(b"answer-")
                while at >= 0:
                    if data[at + 7:at + 10] == bytes([57, 49, 99]):
                        print("FOUND")
                        break
                    at = data.find(b"answer-", at + 1)
        print("nothing")
    """,
    "the parent's memory and files": """
        import os
        for path in (f"/proc/{os.getppid()}/mem", "/proc/1/mem", "/proc/1/environ",
                     f"/proc/{os.getppid()}/fd/3"):
            try:
                with open(path, "rb") as handle:
                    handle.read(16)
                print("FOUND", path)
            except OSError:
                pass
        print("nothing")
    """,
}


@pytest.mark.parametrize("attack", list(STDIO_THEFT.values()), ids=list(STDIO_THEFT))
def test_stdio_expected_outputs_cannot_be_stolen(sandbox: Sandbox, attack: str) -> None:
    cases = [{"input": "1\n", "output": "answer-91c2\n"},
             {"input": "2\n", "output": "answer-91c3\n"}]
    e = sandbox.run(job(code(attack), cases, "stdio"))
    assert e.status is Status.FAILED, e.reason
    for test in e.tests:
        assert "FOUND" not in (test.message or ""), test.message
    assert "FOUND" not in e.stdout


# -- other jobs' data: nothing of the previous or the next job is in the program's memory -------

SCAN = code("""
    import ctypes
    def scan(needles):
        found = []
        with open("/proc/self/maps") as maps:
            for line in maps:
                fields = line.split()
                start, end = (int(x, 16) for x in fields[0].split("-"))
                if "r" not in fields[1] or end - start > 1 << 28 or \\
                        len(fields) > 5 and fields[5].startswith("[v"):
                    continue
                try:
                    data = ctypes.string_at(start, end - start)
                except Exception:
                    continue
                for head, tail in needles:
                    at = data.find(head.encode())
                    while at >= 0:
                        end = at + len(head)
                        if data[end:end + len(tail)] == tail.encode():
                            found.append(head + "|" + tail)
                            break
                        at = data.find(head.encode(), at + 1)
        return found
    def answer():
        # halves: the whole strings are never formed here
        return scan([("secret-of-j", "ob-one"), ("hidden-an", "swer-one"),
                     ("secret-of-j", "ob-three"), ("hidden-an", "swer-three")])
""")


def test_no_other_jobs_tests_answers_or_requests_in_memory(sandbox: Sandbox) -> None:
    jobs = [
        job("def f():\n    return 'hidden-answer-one'\n",
            "x = 'secret-of-job-one'\nassert f() == 'hidden-answer-one'", job_id="one"),
        job(SCAN, "found = answer()\nassert found == []", job_id="two"),
        job("def f():\n    return 'hidden-answer-three'\n",
            "x = 'secret-of-job-three'\nassert f() == 'hidden-answer-three'", job_id="three"),
        job("print(input())\n", [{"input": "x", "output": "secret-of-job-one"}], "stdio",
            job_id="four"),
        job(SCAN, "found = answer()\nassert found == []", job_id="five"),
    ]
    for _ in range(3):  # several rounds: both workers see the others' jobs before a scan
        results = list(sandbox.run_many(jobs))
        assert results[0].status is Status.PASSED and results[2].status is Status.PASSED
        for scanned in (results[1], results[4]):
            assert scanned.status is Status.PASSED, (scanned.reason, scanned.tests)


# -- reward hacks are visible -----------------------------------------------------------------

HACKS = {
    "__eq__ always true": "class A:\n    def __eq__(self, o):\n        return True\n"
                          "    __hash__ = object.__hash__\n",
    "str subclass": "class A(str):\n    def __eq__(self, o):\n        return True\n"
                    "    __hash__ = str.__hash__\n",
    "int subclass with __ne__": "class A(int):\n    def __eq__(self, o):\n        return True\n"
                                "    def __ne__(self, o):\n        return False\n"
                                "    __hash__ = int.__hash__\n",
}


@pytest.mark.parametrize("hack", list(HACKS.values()), ids=list(HACKS))
def test_an_eq_hack_is_recorded_and_fails_in_strict_mode(sandbox: Sandbox, hack: str) -> None:
    import dataclasses

    from tests.conftest import FAST

    program = hack + "def answer():\n    return A('x') if A is not object else A()\n"
    program = program.replace("A('x') if A is not object else A()",
                              "A() if A.__bases__ == (object,) else A(1 if A.__bases__ "
                              "== (int,) else 'x')")
    tests = f'assert answer() == "{SECRET}"\nassert answer() == 3\n'
    loose = sandbox.run(job(program, tests))
    assert loose.status is Status.PASSED, loose.reason  # legal Python ...
    assert loose.suspicious, loose  # ... and on the record
    assert {s["test"] for s in loose.suspicious} == {"tests.py:1", "tests.py:2"}
    strict = sandbox.run(job(program, tests), dataclasses.replace(FAST, strict=True))
    assert strict.status is Status.FAILED, strict.reason
    assert strict.tests[0].message is not None and "strict" in strict.tests[0].message


# -- found by attacking the design (see the README's verdict section) ---------------------------

def test_a_program_cannot_make_the_judge_build_an_always_equal_stdlib_object(
        sandbox: Sandbox) -> None:
    # unittest.mock.ANY's class is in the standard library: were it sent by name, the judge
    # would build its own instance, equal to anything, and no comparison would be recorded.
    program = "from unittest import mock\nanswer = type(mock.ANY)\n"
    e = sandbox.run(job(program, FAILING))
    assert e.status is Status.PASSED or e.suspicious  # a handle: the program's own object
    assert e.suspicious, e
    strict = sandbox.run(job(program, FAILING), _strict())
    assert strict.status is Status.FAILED, strict.reason


def _strict():  # type: ignore[no-untyped-def]
    import dataclasses

    from tests.conftest import FAST

    return dataclasses.replace(FAST, strict=True)


def test_a_conftest_planted_in_tmp_does_not_reach_the_judges_pytest(sandbox: Sandbox) -> None:
    plant = code("""
        import os
        evil = "import pytest\\n" \\
               "@pytest.hookimpl(hookwrapper=True)\\n" \\
               "def pytest_runtest_makereport(item, call):\\n" \\
               "    outcome = yield\\n" \\
               "    outcome.get_result().outcome = 'passed'\\n"
        for name in ("/tmp/conftest.py", "/tmp/pytest.ini", "/sandbox/conftest.py"):
            with open(name, "w") as handle:
                handle.write(evil if name.endswith(".py") else
                             "[pytest]\\naddopts = -p no:python\\n")
        def answer():
            return "wrong"
    """)
    tests = f"from solution import answer\n\n\ndef test_it():\n    {FAILING}"
    e = sandbox.run(job(plant, tests, "pytest"))
    assert e.status is Status.FAILED, (e.reason, e.tests)


def test_stop_iteration_out_of_a_call_is_recorded(sandbox: Sandbox) -> None:
    # map() stops at the StopIteration and all() sees nothing false: legal Python (in one
    # process too), and on the record.
    program = "def f(x):\n    raise StopIteration\n"
    tests = "assert all(map(lambda c: f(c[0]) == c[1], [(1, 2), (2, 3)]))\n"
    e = sandbox.run(job(program, tests))
    assert any("StopIteration" in s["what"] for s in e.suspicious), e


def test_the_pytest_tests_are_nowhere_the_program_can_read(sandbox: Sandbox) -> None:
    # A thread started while loading looks for the test file as the judge writes it.
    program = code("""
        import glob, os, threading, time
        seen = []
        def watch():
            end = time.time() + 1.5
            while time.time() < end and not seen:
                for root in ("/tmp", "/sandbox", "/dev/shm", "/"):
                    for path in glob.glob(root + "/**/test_solution.py", recursive=True):
                        try:
                            seen.append(open(path).read())
                        except OSError:
                            seen.append("unreadable " + path)
                time.sleep(0.01)
        threading.Thread(target=watch, daemon=True).start()
        def answer():
            time.sleep(0.5)
            return seen
    """)
    tests = "from solution import answer\n\n\ndef test_it():\n    assert answer() == ['x']\n"
    e = sandbox.run(job(program, tests, "pytest"))
    assert e.status is Status.FAILED, e.reason
    assert "assert [] == ['x']" in (e.tests[0].message or ""), e.tests[0].message


def test_a_program_shadowing_builtins_is_recorded(sandbox: Sandbox) -> None:
    program = "def len(x):\n    return 3\nclass AssertionError(Exception):\n    pass\n" \
              "def answer():\n    return [1]\n"
    e = sandbox.run(job(program, "assert len(answer()) == 3\nassert answer() == [2]\n"))
    assert e.status is Status.FAILED, e.reason  # the assert statement's own AssertionError
    assert e.tests[1].message is not None and e.tests[1].message.startswith("AssertionError")
    assert any("shadowing" in s["what"] for s in e.suspicious), e.suspicious


def test_a_program_cannot_have_the_judge_eval_what_it_made(sandbox: Sandbox) -> None:
    # decode(encode(x)) == x is a common test. With decode = eval sent by name, the judge
    # would run the program's string: here, one that signs a 'passed' with the judge's writer.
    program = code("""
        decode = eval
        def encode(text):
            return ("[w.final('passed', phase='tests', reason='forged') for w in "
                    "__import__('gc').get_objects() if type(w).__name__ == 'Evidence'] "
                    "and __import__('os')._exit(0)")
    """)
    e = sandbox.run(job(program, "assert decode(encode('abc')) == 'abc'\n"))
    assert e.status is not Status.PASSED, e.reason


def test_a_program_module_name_cannot_smuggle_pickle_into_the_judge(sandbox: Sandbox) -> None:
    # Tests may use a module the program imported (assert style runs in its namespace).
    # `import pickle as json`, sent by name, made the judge unpickle the program's bytes.
    program = code("""
        import pickle as json
        class Forge:
            def __reduce__(self):
                return (eval, ("[w.final('passed', phase='tests', reason='forged') for w in "
                               "__import__('gc').get_objects() if type(w).__name__ == "
                               "'Evidence'] and __import__('os')._exit(0)",))
        def f(x):
            return json.dumps(Forge())
    """)
    e = sandbox.run(job(program, "assert json.loads(f(1)) == 2\n"))
    assert e.status is not Status.PASSED, e.reason
