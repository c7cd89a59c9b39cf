"""Resource limits: wall time, CPU time, memory of the whole tree, processes, files, output."""

from __future__ import annotations

import pytest

from codesynth.records import Limits, Status
from codesynth.sandbox.protocol import Sandbox
from tests.conftest import job
from tests.sandbox.helpers import SHORT, code, first_line_uid, limits, processes_of

MB = 1024 * 1024

TOUCH = code("""
    def touch(megabytes):
        block = bytearray(megabytes * 1024 * 1024)
        for i in range(0, len(block), 4096):
            block[i] = 1
        return block
""")


def test_wall_time_limit(sandbox: Sandbox) -> None:
    e = sandbox.run(job("import time\ntime.sleep(30)\n", "assert True"), SHORT)
    assert e.status is Status.TIMEOUT, e.reason
    assert "wall" in e.reason
    assert SHORT.timeout <= e.duration < SHORT.timeout + 1.5
    assert e.cpu_time < 0.5  # it slept


def test_wall_time_limit_during_the_tests(sandbox: Sandbox) -> None:
    program = "import time\ndef f():\n    time.sleep(30)\n"
    e = sandbox.run(job(program, "assert True\nf()"), SHORT)
    assert e.status is Status.TIMEOUT, e.reason
    assert [t.outcome for t in e.tests] == ["passed"]  # what finished before is kept


def test_cpu_time_limit(sandbox: Sandbox) -> None:
    e = sandbox.run(job("while True:\n    pass\n", "assert True"),
                    Limits(timeout=5, cpu_time=1, memory_mb=256, max_processes=32,
                           file_size_mb=8, max_output=4096))
    assert e.status is Status.TIMEOUT, e.reason
    assert "CPU" in e.reason
    assert e.duration < 4.5  # stopped by the CPU limit, before the 5 s wall limit
    assert e.cpu_time >= 0.75  # the precise time, less what a loaded VM steals (_verdict)


def test_memory_limit_one_process(sandbox: Sandbox) -> None:
    e = sandbox.run(job(TOUCH + "data = touch(400)\n", "assert len(data) > 0"),
                    limits(memory_mb=128, timeout=10))
    assert e.status is Status.MEMORY, e.reason
    assert e.memory_peak_mb is None or e.memory_peak_mb <= 128 + 8


def test_memory_limit_during_the_tests(sandbox: Sandbox) -> None:
    e = sandbox.run(job(TOUCH, "assert True\nassert len(touch(400)) > 0"),
                    limits(memory_mb=128, timeout=10))
    assert e.status is Status.MEMORY, e.reason


def test_memory_limit_covers_the_whole_process_tree(sandbox: Sandbox) -> None:
    # 4 children x 60 MB: each is under the limit, together they are not.
    program = TOUCH + code("""
        import os, time
        children = []
        for _ in range(4):
            pid = os.fork()
            if pid == 0:
                data = touch(60)
                time.sleep(1)
                os._exit(0)
            children.append(pid)
        codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children]
    """)
    e = sandbox.run(job(program, "assert codes == [0, 0, 0, 0]"),
                    limits(memory_mb=128, timeout=10))
    assert e.status is Status.MEMORY, (e.reason, e.tests)


def test_memory_error_in_a_test_is_a_memory_verdict(sandbox: Sandbox) -> None:
    program = "def f():\n    return bytearray(1 << 46)\n"
    e = sandbox.run(job(program, "assert True\nassert len(f()) > 0"))
    assert e.status is Status.MEMORY, e.reason
    assert e.exception is not None and e.exception.type == "MemoryError"
    assert [t.outcome for t in e.tests] == ["passed", "failed"]


def test_memory_error_while_loading_is_a_memory_verdict(sandbox: Sandbox) -> None:
    e = sandbox.run(job("table = bytearray(1 << 46)\n", "assert True"))
    assert e.status is Status.MEMORY, e.reason


def test_process_limit_stops_fork(sandbox: Sandbox) -> None:
    program = code("""
        import os, time
        made, refused = 0, None
        children = []
        for _ in range(200):
            try:
                pid = os.fork()
            except OSError as exc:
                refused = type(exc).__name__
                break
            if pid == 0:
                time.sleep(10)
                os._exit(0)
            children.append(pid)
        made = len(children)
    """)
    e = sandbox.run(job(program, "assert refused == 'BlockingIOError'\nassert made < 32"),
                    limits(max_processes=32))
    assert e.status is Status.PASSED, (e.reason, e.tests)


def test_fork_bomb_is_stopped_and_leaves_nothing(sandbox: Sandbox) -> None:
    program = code("""
        import os
        print(os.getuid(), flush=True)
        while True:
            try:
                os.fork()
            except OSError:
                pass
    """)
    e = sandbox.run(job(program, "assert True"), SHORT)
    assert e.status is Status.TIMEOUT, e.reason
    assert processes_of(first_line_uid(e)) == []
    after = sandbox.run(job("x = 1\n", "assert x == 1"))
    assert after.status is Status.PASSED, after.reason


def test_file_size_limit(sandbox: Sandbox) -> None:
    program = code("""
        import os
        def write(megabytes):
            try:
                with open("big.bin", "wb") as handle:
                    for _ in range(megabytes):
                        handle.write(b"x" * (1024 * 1024))
                return "written"
            except OSError as exc:
                return exc.strerror
    """)
    tests = code(f"""
        assert write(4) == "written"
        assert write(20) == "File too large"
        assert os.path.getsize("big.bin") <= {8 * MB}
        assert write(20) == "written"
    """)
    e = sandbox.run(job(program, tests), limits(file_size_mb=8))
    assert e.status is Status.FAILED, e.reason
    assert [t.outcome for t in e.tests] == ["passed", "passed", "passed", "failed"]


@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_captured_output_is_truncated_and_flagged(sandbox: Sandbox, stream: str) -> None:
    program = f"import sys\nsys.{stream}.write('a' * 99_990 + 'THE-END\\n')\n"
    e = sandbox.run(job(program, "assert True"), limits(max_output=4096))
    assert e.status is Status.PASSED, e.reason
    text = getattr(e, stream)
    assert getattr(e, f"{stream}_truncated") is True
    assert getattr(e, f"{stream}_bytes") == 99_998
    assert 0 < len(text.encode()) <= 4096
    assert text.endswith("THE-END\n")  # the tail is kept: that is where the error usually is
    other = "stderr" if stream == "stdout" else "stdout"
    assert getattr(e, f"{other}_truncated") is False


def test_small_output_is_not_truncated(sandbox: Sandbox) -> None:
    e = sandbox.run(job("print('x' * 4000)\n", "assert True"), limits(max_output=4096))
    assert e.status is Status.PASSED, e.reason
    assert e.stdout == "x" * 4000 + "\n"
    assert e.stdout_truncated is False
    assert e.stdout_bytes == 4001


@pytest.mark.parametrize("writer", [
    "import sys\nwhile True:\n    sys.stdout.write('z' * 65536)\n",
    "import os\nwhile True:\n    os.write(1, b'z' * 65536)\n",
    "import os\nwhile True:\n    os.write(2, b'z' * 65536)\n",
    "import subprocess\nsubprocess.run(['sh', '-c', 'while true; do echo zzzzzzzzzzzzzz; done'])\n",
])
def test_huge_output_is_an_output_limit(sandbox: Sandbox, writer: str) -> None:
    e = sandbox.run(job(writer, "assert True"), limits(file_size_mb=8, timeout=10))
    assert e.status is Status.OUTPUT_LIMIT, e.reason
    assert max(e.stdout_bytes, e.stderr_bytes) >= 8 * MB
    assert len(e.stdout) <= 4096 and len(e.stderr) <= 4096


SUM_STDIN = "import sys\nprint(sum(map(int, sys.stdin.buffer.read().split())))\n"


def test_stdio_input_under_the_file_size_limit_is_delivered_whole(sandbox: Sandbox) -> None:
    lines = 400_000  # 800 KB
    e = sandbox.run(job(SUM_STDIN, [{"input": "1\n" * lines, "output": str(lines)}], "stdio"),
                    limits(file_size_mb=1, timeout=10))
    assert e.status is Status.PASSED, e.reason


def test_stdio_input_over_the_file_size_limit_is_delivered_whole(sandbox: Sandbox) -> None:
    lines = 786_432  # 1.5 MB, the limit is 1 MB: the harness's input, not the program's output
    e = sandbox.run(job(SUM_STDIN, [{"input": "1\n" * lines, "output": str(lines)}], "stdio"),
                    limits(file_size_mb=1, timeout=10))
    assert e.status is Status.PASSED, e.reason


def test_stdio_output_over_the_file_size_limit_is_an_output_limit(sandbox: Sandbox) -> None:
    program = "import sys\nsys.stdout.write('x' * (2 * 1024 * 1024))\n"
    e = sandbox.run(job(program, [{"input": "", "output": "x" * (2 * 1024 * 1024)}], "stdio"),
                    limits(file_size_mb=1, timeout=10))
    assert e.status is Status.OUTPUT_LIMIT, e.reason
