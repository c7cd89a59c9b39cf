"""Nothing a program starts outlives its verdict, and nothing it leaves running delays it.

Every job prints its uid first; after the verdict the host's /proc must hold no process with
that uid (jobs run one at a time here, and no host process uses the sandbox's uids).
"""

from __future__ import annotations

import os
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from codesynth.records import Status
from codesynth.sandbox.protocol import Sandbox
from tests.conftest import job
from tests.sandbox.helpers import SHORT, code, first_line_uid, processes_of

PRINT_UID = "import os\nprint(os.getuid(), flush=True)\n"

SURVIVORS = {
    "double-fork orphan": code("""
        import os, time
        if os.fork() == 0:
            if os.fork() == 0:
                time.sleep(300)
            os._exit(0)
        os.wait()
    """),
    "setsid sleep": code("""
        import subprocess
        subprocess.Popen(["sleep", "300"], start_new_session=True)
    """),
    "shell nohup daemon": code("""
        import subprocess
        subprocess.run(["sh", "-c", "nohup sleep 300 >/tmp/out 2>&1 &"])
    """),
    "stopped child": code("""
        import os, signal, time
        if os.fork() == 0:
            os.kill(os.getpid(), signal.SIGSTOP)
            time.sleep(300)
        time.sleep(0.1)
    """),
    "child ignoring signals": code("""
        import os, signal, time
        if os.fork() == 0:
            for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
                signal.signal(s, signal.SIG_IGN)
            while True:
                time.sleep(0.01)
        time.sleep(0.1)
    """),
    "many sleepers": code("""
        import subprocess
        for _ in range(10):
            subprocess.Popen(["sleep", "300"], start_new_session=True)
    """),
}


@pytest.mark.parametrize("program", list(SURVIVORS.values()), ids=list(SURVIVORS))
def test_background_processes_die_with_the_job(sandbox: Sandbox, program: str) -> None:
    start = time.monotonic()
    e = sandbox.run(job(PRINT_UID + program, "assert True"))
    assert e.status is Status.PASSED, (e.reason, e.stderr)
    assert time.monotonic() - start < 2.5  # the verdict did not wait for the survivors
    assert processes_of(first_line_uid(e)) == []


def test_python_daemon_cannot_act_after_the_verdict(sandbox: Sandbox, tmp_path: Path) -> None:
    marker = tmp_path / "daemon-was-here"
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        server.setblocking(False)
        port = server.getsockname()[1]
        program = PRINT_UID + code(f"""
            import os, socket, time
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    time.sleep(0.5)
                    for _ in range(20):
                        for act in (lambda: open({str(marker)!r}, "w").write("x"),
                                    lambda: socket.create_connection(("127.0.0.1", {port}), 1)):
                            try:
                                act()
                            except OSError:
                                pass
                        time.sleep(0.05)
                os._exit(0)
        """)
        e = sandbox.run(job(program, "assert True"))
        assert e.status is Status.PASSED, e.reason
        assert processes_of(first_line_uid(e)) == []
        time.sleep(2.0)  # longer than the daemon would have needed
        assert not marker.exists()
        with pytest.raises(BlockingIOError):
            server.accept()


def test_fork_bomb_leaves_no_process(sandbox: Sandbox) -> None:
    program = PRINT_UID + code("""
        import os, subprocess
        while True:
            try:
                if os.fork() == 0:
                    os.setsid()
            except OSError:
                pass
    """)
    e = sandbox.run(job(program, "assert True"), SHORT)
    assert e.status is Status.TIMEOUT, e.reason
    assert processes_of(first_line_uid(e)) == []
    after = sandbox.run(job(PRINT_UID, "assert True"))
    assert after.status is Status.PASSED, after.reason


def test_timed_out_job_leaves_no_process(sandbox: Sandbox) -> None:
    program = PRINT_UID + code("""
        import subprocess, time
        subprocess.Popen(["sleep", "300"], start_new_session=True)
        time.sleep(300)
    """)
    e = sandbox.run(job(program, "assert True"), SHORT)
    assert e.status is Status.TIMEOUT, e.reason
    assert processes_of(first_line_uid(e)) == []


# -- something still holding stdout does not turn a finished job into a timeout ----------------

HOLDERS = {
    "thread printing forever": code("""
        import threading, time
        def chatter():
            while True:
                print("tick", flush=True)
                time.sleep(0.05)
        threading.Thread(target=chatter).start()
    """),
    "non-daemon thread sleeping": code("""
        import threading, time
        threading.Thread(target=time.sleep, args=(300,)).start()
    """),
    "grandchild holding stdout": code("""
        import subprocess
        subprocess.Popen(["sh", "-c", "while true; do echo hi; sleep 0.05; done"])
    """),
    "setsid grandchild holding stderr": code("""
        import subprocess, sys
        subprocess.Popen(["sleep", "300"], stderr=sys.stderr, start_new_session=True)
    """),
}


@pytest.mark.parametrize("holder", list(HOLDERS.values()), ids=list(HOLDERS))
@pytest.mark.parametrize("verdict", ["passed", "failed"])
def test_stdout_holders_do_not_delay_the_verdict(sandbox: Sandbox, holder: str,
                                                 verdict: str) -> None:
    tests = "assert True" if verdict == "passed" else "assert 1 == 2"
    start = time.monotonic()
    e = sandbox.run(job(PRINT_UID + holder, tests))
    elapsed = time.monotonic() - start
    assert e.status is Status(verdict), e.reason
    assert elapsed < 2.5, elapsed  # FAST's wall limit is 3 s: it returned with its real status
    assert processes_of(first_line_uid(e)) == []


def test_stdio_program_leaving_a_child_behind_is_judged_at_once(sandbox: Sandbox) -> None:
    # The leftover child starts writing to the case's stdout only after the program is gone.
    program = code("""
        import subprocess
        subprocess.Popen(["sh", "-c", "sleep 0.3; while true; do echo noise; sleep 0.05; done"])
        print(int(input()) * 2)
    """)
    cases = [{"input": "2\n", "output": "4\n"}, {"input": "5\n", "output": "10\n"}]
    start = time.monotonic()
    e = sandbox.run(job(program, cases, "stdio"))
    elapsed = time.monotonic() - start
    assert e.status is Status.PASSED, e.reason
    assert elapsed < 2.5, elapsed


def test_the_host_scan_sees_a_running_jobs_processes(sandbox: Sandbox) -> None:
    # Guards the checks above: while a job runs, its processes are visible under its uid.
    program = PRINT_UID + code("""
        import subprocess, time
        children = [subprocess.Popen(["sleep", "30"]) for _ in range(3)]
        time.sleep(1.0)
    """)
    seen: dict[int, int] = {}
    with ThreadPoolExecutor(1) as executor:
        future = executor.submit(sandbox.run, job(program, "assert True"))
        time.sleep(0.6)
        for uid in _running_uids():
            seen[uid] = len(processes_of(uid))
        e = future.result()
    assert e.status is Status.PASSED, e.reason
    assert seen.get(first_line_uid(e), 0) >= 4  # the job and its three sleepers
    assert processes_of(first_line_uid(e)) == []


def _running_uids() -> set[int]:
    uids = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/status") as handle:
                    for line in handle:
                        if line.startswith("Uid:"):
                            uids.add(int(line.split()[1]))
            except OSError:
                pass
    return uids


IPC_LEAVER = code("""
    import ctypes, ctypes.util, os
    libc = ctypes.CDLL(None, use_errno=True)
    IPC_CREAT = 0o1000
    made = {
        "shm": libc.shmget(0x5EED, 1 << 20, IPC_CREAT | 0o600),
        "sem": libc.semget(0x5EED, 1, IPC_CREAT | 0o600),
        "msg": libc.msgget(0x5EED, IPC_CREAT | 0o600),
    }
    rt = ctypes.CDLL(ctypes.util.find_library("rt") or None, use_errno=True)
    rt.mq_open.restype = ctypes.c_int
    queue = rt.mq_open(b"/codesynth-left", os.O_CREAT | os.O_RDWR, 0o600, None)
    from multiprocessing import shared_memory
    segment = shared_memory.SharedMemory("codesynth-left", create=True, size=4096)
    segment.close()
""")
IPC_READER = code("""
    import os
    def rows(kind):
        with open(f"/proc/sysvipc/{kind}") as handle:
            return handle.read().splitlines()[1:]
    leftovers = {kind: rows(kind) for kind in ("shm", "sem", "msg")}
    queues = sorted(os.listdir("/dev/mqueue")) if os.path.isdir("/dev/mqueue") else []
    shm = sorted(os.listdir("/dev/shm"))
""")


def test_ipc_objects_do_not_outlive_the_job(sandbox: Sandbox) -> None:
    # System V objects and POSIX queues outlive their processes: the sweep removes them.
    first = sandbox.run(job(IPC_LEAVER, "assert min(made.values()) >= 0\nassert queue >= 0"))
    assert first.status is Status.PASSED, (first.reason, first.tests, first.stderr)
    # several jobs, so that every worker runs one after the leaver
    for e in sandbox.run_many([job(IPC_READER, "assert leftovers == "
                                               "{'shm': [], 'sem': [], 'msg': []}\n"
                                               "assert queues == []\nassert shm == []",
                                   job_id=str(i)) for i in range(6)]):
        assert e.status is Status.PASSED, (e.reason, e.tests)
