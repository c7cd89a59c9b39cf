"""The sandbox object itself: long-lived runners, concurrent callers, several sandboxes, close.

Tests that open sandboxes of their own do it in a child process (helpers.run_script), so that
whatever they break cannot leak into the session's sandbox.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from codesynth.records import Execution, Job, Status
from codesynth.sandbox.protocol import Sandbox
from tests.conftest import job
from tests.sandbox.helpers import code, run_script

# Shared by the scripts below: the live (non-zombie) children of this process.
CHILDREN = """
    import os
    def live_children():
        found = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/status") as handle:
                    fields = dict(line.split(":", 1) for line in handle if ":" in line)
            except OSError:
                continue
            if int(fields["PPid"]) == os.getpid() and not fields["State"].strip().startswith("Z"):
                found.append(int(entry))
        return sorted(found)
"""


def tagged(tag: str, passes: bool) -> Job:
    return job(f"import time\ntime.sleep(0.05)\nprint({tag!r})\n",
               "assert True" if passes else "assert 1 == 2", job_id=tag)


def check(e: Execution, tag: str, passes: bool) -> str | None:
    """None if ``e`` is the execution of ``tagged(tag, passes)``, else what is wrong."""
    expected = Status.PASSED if passes else Status.FAILED
    if e.stdout != f"{tag}\n" or e.status is not expected:
        return f"{tag}: got stdout {e.stdout!r} status {e.status.value}"
    return None


def test_concurrent_run_calls_get_their_own_verdicts(sandbox: Sandbox) -> None:
    tags = [(f"job-{i}", i % 3 != 0) for i in range(18)]
    with ThreadPoolExecutor(6) as executor:
        executions = list(executor.map(lambda t: sandbox.run(tagged(*t)), tags))
    assert [check(e, *t) for e, t in zip(executions, tags, strict=True)] == [None] * len(tags)


def test_runners_outlive_open_and_run_many() -> None:
    # Regression: runners used to get PR_SET_PDEATHSIG from the short-lived thread that spawned
    # them, so none outlived open_sandbox() or a run_many() call.
    result = run_script(code(CHILDREN) + code("""
        import json, time
        from codesynth.records import Job
        from codesynth.sandbox import open_sandbox
        probe = Job(id="ns", code="import os\\nprint(os.readlink('/proc/self/ns/net'))\\n",
                    tests="assert True")
        box = open_sandbox("local", workers=2)
        time.sleep(0.5)
        after_open = live_children()
        first = sorted({e.stdout for e in box.run_many([probe] * 8)})
        time.sleep(0.5)
        after_batch = live_children()
        second = sorted({e.stdout for e in box.run_many([probe] * 8)})
        box.close()
        print(json.dumps({"after_open": after_open, "after_batch": after_batch,
                          "first": first, "second": second}))
    """))
    assert len(result["after_open"]) == 2, result
    assert result["after_batch"] == result["after_open"], result
    # the same runners (same network namespaces) served both batches
    assert set(result["first"]) & set(result["second"]), result


@pytest.mark.parametrize("other", ["run", "run_many"])
def test_run_many_concurrent_with_other_calls_keeps_verdicts_apart(other: str) -> None:
    result = run_script(f"""
        import json, os, threading, time
        from codesynth.records import Job, Status
        from codesynth.sandbox import open_sandbox
        def tagged(tag, passes, delay):
            return Job(id=tag, code=f"import time\\ntime.sleep({{delay}})\\nprint({{tag!r}})\\n",
                       tests="assert True" if passes else "assert 1 == 2")
        def wrong(e, tag, passes):
            status = Status.PASSED if passes else Status.FAILED
            return e.stdout != tag + "\\n" or e.status is not status
        box = open_sandbox("local", workers=2)
        for _ in range(4):  # runners started from this (long-lived) thread
            box.run(tagged("warm", True, 0))
        mixed = []
        def many(prefix, passes):
            specs = [(f"{{prefix}}{{i}}", passes) for i in range(10)]
            for e, spec in zip(box.run_many([tagged(*s, 0.15) for s in specs]), specs):
                mixed.extend([spec[0]] if wrong(e, *spec) else [])
        def single(prefix, passes):
            for i in range(6):
                spec = (f"{{prefix}}{{i}}", passes)
                mixed.extend([spec[0]] if wrong(box.run(tagged(*spec, 0.15)), *spec) else [])
        threads = [threading.Thread(target=many, args=("A", True), daemon=True),
                   threading.Thread(target={other == "run" and "single" or "many"},
                                    args=("B", False), daemon=True)]
        threads[0].start()
        time.sleep(0.3)  # A's pipelines are full when B starts
        threads[1].start()
        deadline = time.monotonic() + 6
        for thread in threads:
            thread.join(max(0.1, deadline - time.monotonic()))
        hung = [t.name for t in threads if t.is_alive()]
        print(json.dumps({{"mixed": mixed, "hung": hung}}), flush=True)
        os._exit(0)
    """)
    assert result == {"mixed": [], "hung": []}


def test_two_sandboxes_in_one_process_do_not_interfere() -> None:
    result = run_script("""
        import json, threading, time
        from codesynth.records import Job, Limits
        from codesynth.sandbox import open_sandbox
        limits = Limits(timeout=5, memory_mb=256, max_processes=32, file_size_mb=8)
        a = open_sandbox("local", workers=1, limits=limits)
        b = open_sandbox("local", workers=1, limits=limits)
        # b's job takes every process its own limit allows, for three seconds
        hog = Job(id="hog", tests="assert len(children) > 8", code=(
            "import subprocess, time\\n"
            "children = []\\n"
            "while len(children) < 64:\\n"
            "    try:\\n"
            "        children.append(subprocess.Popen(['sleep', '10']))\\n"
            "    except OSError:\\n"
            "        break\\n"
            "time.sleep(3)\\n"))
        # a's job needs 5 short-lived processes: within a's own limit
        probe = Job(id="probe", tests="assert codes == [0] * 5", code=(
            "import subprocess\\n"
            "codes = [subprocess.run(['true']).returncode for _ in range(5)]\\n"))
        results = {}
        thread = threading.Thread(target=lambda: results.update(b=b.run(hog)))
        thread.start()
        time.sleep(1.5)
        results["a"] = a.run(probe)
        thread.join()
        a.close()
        b.close()
        print(json.dumps({k: [e.status.value, e.reason] for k, e in results.items()}))
    """)
    assert result["b"][0] == "passed", result
    assert result["a"][0] == "passed", result


def test_close_stops_every_runner_and_refuses_new_jobs() -> None:
    result = run_script(code(CHILDREN) + code("""
        import glob, json
        from codesynth.records import Job
        from codesynth.sandbox import open_sandbox
        box = open_sandbox("local", workers=2)
        jobs = [Job(id=str(i), code="x = 1", tests="assert x == 1") for i in range(4)]
        statuses = [box.run(jobs[0]).status.value]
        statuses += [e.status.value for e in box.run_many(jobs[1:])]
        during = live_children()
        box.close()
        try:
            box.run(Job(id="late", code="x = 1", tests="assert x == 1"))
            refused = None
        except RuntimeError as exc:
            refused = str(exc)
        pattern = f"/sys/fs/cgroup/**/codesynth-{os.getpid()}-*"
        print(json.dumps({"statuses": statuses, "during": during, "children": live_children(),
                          "cgroups": glob.glob(pattern, recursive=True), "refused": refused}))
    """))
    assert result["statuses"] == ["passed"] * 4
    assert len(result["during"]) == 2  # one runner per worker while open
    assert result["children"] == []
    assert result["cgroups"] == []
    assert result["refused"] is not None and "closed" in result["refused"]


def test_closing_under_a_run_many_ends_it_with_a_clear_error() -> None:
    """Ctrl-C in ``verify`` closes the sandbox while ``run_many`` still has jobs in flight:
    its threads end, nothing is left running, and the run says the sandbox was closed (not
    a broken pipe)."""
    result = run_script(code(CHILDREN) + code("""
        import json, threading, time
        from codesynth.records import Job, Limits
        from codesynth.sandbox import open_sandbox
        errors = []
        threading.excepthook = lambda args: errors.append(repr(args.exc_value))
        box = open_sandbox("local", workers=2, limits=Limits(timeout=5))
        jobs = (Job(id=str(i), code="import time\\ntime.sleep(0.2)", tests="assert True")
                for i in range(50))
        results = box.run_many(jobs)
        first = next(results).status.value
        box.close()
        try:
            next(results)
            after = None
        except RuntimeError as exc:
            after = str(exc)
        time.sleep(0.5)
        print(json.dumps({"first": first, "after": after, "errors": errors,
                          "threads": threading.active_count(), "children": live_children()}))
    """))
    assert result["first"] == "passed"
    assert result["after"] is not None and "closed" in result["after"]
    assert result["errors"] == [] and result["threads"] == 1 and result["children"] == []
