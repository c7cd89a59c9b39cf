"""Legitimate programs still pass: isolation must not break ordinary Python."""

from __future__ import annotations

import pytest

from codesynth.records import Limits, Status
from codesynth.sandbox.protocol import Sandbox
from tests.conftest import job
from tests.sandbox.helpers import code, limits


def passes(sandbox: Sandbox, program: str, tests: object, style: str = "assert",
           run_limits: Limits | None = None) -> None:
    e = sandbox.run(job(program, tests, style), run_limits)
    assert e.status is Status.PASSED, (e.reason, e.exception, e.tests, e.stderr[-2000:])


def test_stdio_reads_multi_line_input_to_eof(sandbox: Sandbox) -> None:
    program = code("""
        import sys
        lines = sys.stdin.read().splitlines()
        n = int(lines[0])
        rows = [list(map(int, line.split())) for line in lines[1:1 + n]]
        print(sum(map(sum, rows)))
        print(len(lines))
    """)
    cases = [
        {"input": "2\n1 2 3\n4 5 6\n", "output": "21\n3\n"},
        {"input": "3\n1\n2\n3", "output": "6\n4"},  # no final newline
        {"input": "1\n10 20\n\n\n", "output": "30  \n4\n\n"},  # trailing whitespace ignored
    ]
    passes(sandbox, program, cases, "stdio")


def test_stdio_input_builtin_and_fileinput(sandbox: Sandbox) -> None:
    program = code("""
        n = int(input())
        total = 0
        while True:
            try:
                total += int(input())
            except EOFError:
                break
        print(n, total)
    """)
    passes(sandbox, program, [{"input": "3\n1\n2\n3\n", "output": "3 6"}], "stdio")


def test_files_in_the_working_directory(sandbox: Sandbox) -> None:
    program = code("""
        import json, os, pathlib
        pathlib.Path("data").mkdir()
        with open("data/numbers.json", "w") as handle:
            json.dump(list(range(100)), handle)
        with open("data/numbers.json") as handle:
            numbers = json.load(handle)
        os.rename("data/numbers.json", "data/moved.json")
        listing = sorted(os.listdir("data"))
    """)
    passes(sandbox, program, "assert numbers == list(range(100))\n"
                             "assert listing == ['moved.json']")


def test_allocating_and_touching_200_mb(sandbox: Sandbox) -> None:
    program = code("""
        block = bytearray(200 * 1024 * 1024)
        for i in range(0, len(block), 4096):
            block[i] = 7
        size = len(block)
        total = sum(block[::4096])
    """)
    passes(sandbox, program, "assert size == 200 * 1024 * 1024\nassert total == 7 * 51200",
           run_limits=Limits(timeout=10))


def test_threads(sandbox: Sandbox) -> None:
    program = code("""
        import threading
        from concurrent.futures import ThreadPoolExecutor
        results = []
        lock = threading.Lock()
        def work(i):
            with lock:
                results.append(i * i)
        threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with ThreadPoolExecutor(4) as pool:
            pooled = list(pool.map(lambda x: x + 1, range(10)))
    """)
    passes(sandbox, program, "assert sorted(results) == [i * i for i in range(16)]\n"
                             "assert pooled == list(range(1, 11))")


def test_subprocesses(sandbox: Sandbox) -> None:
    program = code("""
        import subprocess, sys
        python = subprocess.run([sys.executable, "-c", "print(6 * 7)"],
                                capture_output=True, text=True, check=True).stdout
        echo = subprocess.run(["/bin/echo", "hi there"], capture_output=True, text=True).stdout
        shell = subprocess.run("echo $((2 + 3)) | sed s/5/five/", shell=True, capture_output=True,
                               text=True).stdout
        piped = subprocess.run(["cat"], input="round trip", capture_output=True,
                               text=True).stdout
    """)
    passes(sandbox, program, code("""
        assert python == "42\\n"
        assert echo == "hi there\\n"
        assert shell == "five\\n"
        assert piped == "round trip"
    """))


@pytest.mark.parametrize("use", [
    "with open('/dev/null', 'w') as handle:\n    handle.write('x')\nresult = 'ok'\n",
    "import subprocess\nresult = 'ok' if subprocess.run(['/bin/echo', 'x'], "
    "stdout=subprocess.DEVNULL).returncode == 0 else 'bad'\n",
    "with open('/dev/urandom', 'rb') as handle:\n"
    "    result = 'ok' if len(handle.read(16)) == 16 else 'bad'\n",
    "with open('/dev/zero', 'rb') as handle:\n"
    "    result = 'ok' if handle.read(4) == bytes(4) else 'bad'\n",
], ids=["open /dev/null", "subprocess.DEVNULL", "/dev/urandom", "/dev/zero"])
def test_standard_devices_are_usable(sandbox: Sandbox, use: str) -> None:
    passes(sandbox, use, "assert result == 'ok'")


def test_unicode_output_round_trips(sandbox: Sandbox) -> None:
    text = "héllo wörld ✓ 日本語 🎉 \u00e9\u0301 Ω≈ç√"
    e = sandbox.run(job(f"import sys\nprint({text!r})\nprint({text!r}, file=sys.stderr)\n",
                        "assert True"), limits(max_output=65536))
    assert e.status is Status.PASSED, e.reason
    assert e.stdout == text + "\n"
    assert e.stderr == text + "\n"
    assert e.stdout_bytes == len((text + "\n").encode())


def test_unicode_in_stdio_cases(sandbox: Sandbox) -> None:
    program = "print(input()[::-1])\n"
    passes(sandbox, program, [{"input": "日本語✓\n", "output": "✓語本日\n"}], "stdio")


def test_multiprocessing_pool(sandbox: Sandbox) -> None:
    program = code("""
        import multiprocessing
        def square(x):
            return x * x
        with multiprocessing.Pool(2) as pool:
            squares = pool.map(square, range(20))
        queue = multiprocessing.Queue()
        process = multiprocessing.Process(target=queue.put, args=("from a child",))
        process.start()
        message = queue.get(timeout=5)
        process.join()
    """)
    passes(sandbox, program, "assert squares == [x * x for x in range(20)]\n"
                             "assert message == 'from a child'",
           run_limits=limits(timeout=10))


def test_tempfile(sandbox: Sandbox) -> None:
    program = code("""
        import os, tempfile
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "f.txt")
            with open(path, "w") as handle:
                handle.write("inside")
            inside = open(path).read()
        with tempfile.NamedTemporaryFile("w+") as handle:
            handle.write("named")
            handle.seek(0)
            named = handle.read()
        spooled = tempfile.SpooledTemporaryFile(max_size=10)
        spooled.write(b"x" * 100)
        spooled.seek(0)
        size = len(spooled.read())
        gone = not os.path.exists(directory)
    """)
    passes(sandbox, program, "assert inside == 'inside'\nassert named == 'named'\n"
                             "assert size == 100\nassert gone")


def test_the_programs_own_loopback(sandbox: Sandbox) -> None:
    program = code("""
        import socket, threading
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        def serve():
            conn, _ = server.accept()
            with conn:
                conn.sendall(conn.recv(100).upper())
        thread = threading.Thread(target=serve)
        thread.start()
        with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
            client.sendall(b"ping")
            reply = client.recv(100)
        thread.join()
        server.close()
        resolved = socket.gethostbyname("localhost")
    """)
    passes(sandbox, program, "assert reply == b'PING'\nassert resolved == '127.0.0.1'")


def test_common_standard_library(sandbox: Sandbox) -> None:
    program = code("""
        import datetime, decimal, fractions, hashlib, json, random, re, sqlite3, zlib
        db = sqlite3.connect(":memory:")
        db.execute("create table t (x)")
        db.executemany("insert into t values (?)", [(i,) for i in range(10)])
        total = db.execute("select sum(x) from t").fetchone()[0]
        digest = hashlib.sha256(b"abc").hexdigest()[:8]
        packed = zlib.decompress(zlib.compress(b"data" * 100)) == b"data" * 100
        random.seed(1)
        year = datetime.date(2024, 2, 29).year
        exact = fractions.Fraction(1, 3) + fractions.Fraction(2, 3) == 1
        cents = decimal.Decimal("0.1") + decimal.Decimal("0.2") == decimal.Decimal("0.3")
        found = re.findall(r"\\d+", "a1b22c333")
        encoded = json.dumps({"k": [1, 2]})
    """)
    passes(sandbox, program, code("""
        assert total == 45
        assert digest == "ba7816bf"
        assert packed and exact and cents
        assert year == 2024
        assert found == ["1", "22", "333"]
        assert encoded == '{"k": [1, 2]}'
    """))


def test_stdin_is_empty_in_the_assert_style(sandbox: Sandbox) -> None:
    program = code("""
        import sys
        data = sys.stdin.read()
        def ask():
            try:
                return input()
            except EOFError:
                return "eof"
    """)
    passes(sandbox, program, "assert data == ''\nassert ask() == 'eof'")


def test_every_job_draws_its_own_random_numbers(sandbox: Sandbox) -> None:
    # Jobs are forks of one warm interpreter: without reseeding, each would repeat the
    # same "random" sequence.
    program = "import random\ndraw = random.getrandbits(64)\n"
    runs = list(sandbox.run_many([job(program, "assert False, draw", job_id=str(i))
                                  for i in range(8)]))
    draws = {e.exception.message for e in runs if e.exception is not None}
    assert len(runs) == 8 and len(draws) == 8, draws
