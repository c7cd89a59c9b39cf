"""Ordinary programs that use threads, processes and test frameworks still pass under the
seccomp filter (it denies only what a program under test has no business doing)."""

from __future__ import annotations

from codesynth.sandbox.protocol import Sandbox
from tests.sandbox.helpers import code, limits
from tests.sandbox.test_legit import passes


def test_threads_and_a_thread_pool(sandbox: Sandbox) -> None:
    program = code("""
        import threading
        from concurrent.futures import ThreadPoolExecutor
        seen = []
        lock = threading.Lock()
        def work(i):
            with lock:
                seen.append(i)
            return i * i
        threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for t in threads: t.start()
        for t in threads: t.join()
        with ThreadPoolExecutor(4) as pool:
            squares = list(pool.map(work, range(10)))
    """)
    passes(sandbox, program, "assert sorted(seen) == sorted([*range(8), *range(10)])\n"
                             "assert squares == [i * i for i in range(10)]")


def test_processes_every_way(sandbox: Sandbox) -> None:
    program = code("""
        import multiprocessing, os, subprocess, sys
        from concurrent.futures import ProcessPoolExecutor
        ran = subprocess.run([sys.executable, "-c", "import sys; print(sys.version_info[0])"],
                             capture_output=True, text=True, check=True).stdout.strip()
        pid = os.posix_spawn("/bin/true", ["true"], {})
        spawned = os.waitpid(pid, 0)[1]
        with multiprocessing.get_context("fork").Pool(2) as pool:
            forked = pool.map(abs, [-1, -2, -3])
        with ProcessPoolExecutor(2) as pool:
            executed = list(pool.map(abs, [-4, -5]))
        child = os.fork()
        if child == 0:
            os._exit(7)
        status = os.waitstatus_to_exitcode(os.waitpid(child, 0)[1])
    """)
    passes(sandbox, program, code("""
        assert ran == "3"
        assert spawned == 0
        assert forked == [1, 2, 3]
        assert executed == [4, 5]
        assert status == 7
    """), "assert", limits(timeout=20))


def test_pytest_fixtures_parametrize_and_raises(sandbox: Sandbox) -> None:
    program = "def div(a, b):\n    return a // b\n"
    tests = code("""
        import pytest
        from solution import div

        @pytest.fixture
        def pair(tmp_path):
            (tmp_path / "x").write_text("8 2")
            return tuple(map(int, (tmp_path / "x").read_text().split()))

        def test_fixture(pair):
            assert div(*pair) == 4

        @pytest.mark.parametrize("a,b,q", [(9, 3, 3), (7, 2, 3), (-4, 2, -2)])
        def test_param(a, b, q):
            assert div(a, b) == q

        def test_raises():
            with pytest.raises(ZeroDivisionError):
                div(1, 0)
    """)
    passes(sandbox, program, tests, "pytest", limits(timeout=20))


def test_hypothesis(sandbox: Sandbox) -> None:
    program = "def rev(xs):\n    return xs[::-1]\n"
    tests = code("""
        from hypothesis import given, settings, strategies as st
        from solution import rev

        @settings(max_examples=50, deadline=None, database=None)
        @given(st.lists(st.integers()))
        def test_twice_is_identity(xs):
            assert rev(rev(xs)) == xs
    """)
    passes(sandbox, program, tests, "pytest", limits(timeout=20))
