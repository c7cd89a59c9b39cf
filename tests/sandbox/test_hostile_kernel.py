"""What the kernel offers a job beyond its files: channels to the next job, keyrings, and the
system calls the seccomp filter denies (with EPERM, so programs see an ordinary error).

Channels run two jobs on one worker: the first leaves a mark, the second must not see it.
Denied calls run the call in the job and assert, in its tests, the errno it got: a job that
could make the call fails its test.
"""

from __future__ import annotations

import os
import platform

import pytest

from codesynth.records import Status
from codesynth.sandbox.protocol import Sandbox
from tests.conftest import job
from tests.sandbox.helpers import code, run_script
from tests.sandbox.test_forgery import assert_sandbox_answers
from tests.sandbox.test_hostile_runs import runner_of, solo  # noqa: F401 - a fixture

pytestmark = pytest.mark.skipif(platform.machine() != "x86_64",
                                reason="system call numbers below are x86_64's")

LIBC = code("""
    import ctypes, os
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    def call(number, *args):
        ctypes.set_errno(0)
        result = libc.syscall(number, *[ctypes.c_long(a) if isinstance(a, int) else a
                                        for a in args])
        return 0 if result >= 0 else ctypes.get_errno()
""")

# -- channels between two jobs on one worker -----------------------------------------------

def test_extended_attributes_do_not_reach_the_next_job(solo: Sandbox) -> None:  # noqa: F811
    mark = code("""
        import os
        for where in ("/sandbox", "/tmp", "/dev/shm"):
            try:
                os.setxattr(where, "user.codesynth", b"secret")
            except OSError:
                pass
        os.mkdir("/sandbox/d"); os.setxattr("/sandbox/d", "user.codesynth", b"secret")
        os.rmdir("/sandbox/d")
    """)
    first = solo.run(job(mark, "assert True"))
    assert first.status is Status.PASSED, first.reason
    look = "import os\nseen = [os.listxattr(d) for d in ('/sandbox', '/tmp', '/dev/shm')]"
    e = solo.run(job(look, "assert seen == [[], [], []], seen"))
    assert e.status is Status.PASSED, e.reason


def test_times_of_the_scratch_roots_do_not_reach_the_next_job(solo: Sandbox) -> None:  # noqa: F811
    mark = code("""
        import os
        os.utime("/sandbox", (1234567, 1234567))
        open("/tmp/x", "w").close(); os.unlink("/tmp/x")
        open("/dev/shm/x", "w").close(); os.unlink("/dev/shm/x")
        os.utime("/sandbox", (1234567, 1234567))
    """)
    first = solo.run(job(mark, "assert True"))
    assert first.status is Status.PASSED, first.reason
    look = "import os\ntimes = [os.stat(d).st_mtime for d in ('/sandbox', '/tmp')]"
    e = solo.run(job(look, "assert 1234567 not in times, times"))
    assert e.status is Status.PASSED, e.reason


def test_inode_numbers_do_not_count_the_last_jobs_files(solo: Sandbox) -> None:  # noqa: F811
    mark = "import os\nfor i in range(3000):\n    open(f'/tmp/{i}', 'w').close()\n"
    first = solo.run(job(mark, "assert True"))
    assert first.status is Status.PASSED, first.reason
    look = "import os\nopen('/tmp/probe', 'w').close()\nino = os.stat('/tmp/probe').st_ino\n"
    e = solo.run(job(look, "assert ino < 100, ino"))
    assert e.status is Status.PASSED, e.reason


# -- keyrings ------------------------------------------------------------------------------

KEYS = LIBC + code("""
    SESSION, USER = -3, -4
    def add(keyring):
        return call(248, b"user", b"codesynth-mark", b"secret", 6, keyring)
    def find():
        return call(250, 10, SESSION, b"user", b"codesynth-mark", 0)  # KEYCTL_SEARCH
""")


@pytest.mark.parametrize("keyring", ["SESSION", "USER"])
def test_a_job_can_neither_add_a_key_nor_find_one_later(solo: Sandbox,  # noqa: F811
                                                        keyring: str) -> None:
    first = solo.run(job(KEYS, f"assert add({keyring}) == 1"))  # EPERM
    assert first.status is Status.PASSED, first.reason
    second = solo.run(job(KEYS, "assert find() == 1\nassert call(250, 0, -3, 0) == 1"))
    assert second.status is Status.PASSED, second.reason


@pytest.mark.parametrize("backend", ["local", "docker"])
def test_jobs_never_see_the_callers_session_keyring(backend: str) -> None:
    """The caller runs under a session keyring holding a key: a job must not find it."""
    result = run_script(f"""
        import ctypes, json
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        assert libc.syscall(250, 1, None) > 0  # a session keyring of our own
        serial = libc.syscall(248, b"user", b"codesynth-caller", b"secret", 6,
                              ctypes.c_long(-3))
        assert serial > 0
        from codesynth.errors import SandboxUnavailable
        from codesynth.records import Job
        from codesynth.sandbox import open_sandbox
        probe = '''
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        found = libc.syscall(250, 10, ctypes.c_long(-3), b"user", b"codesynth-caller", 0)
        readable = libc.syscall(250, 11, ctypes.c_long({{serial}}), None, 0)
        try:
            listed = open("/proc/keys").read()
        except OSError:
            listed = ""
        '''.replace("{{serial}}", str(serial))
        try:
            box = open_sandbox("{backend}", workers=1)
        except SandboxUnavailable as exc:
            print(json.dumps({{"skip": str(exc)}}))
            raise SystemExit(0)
        with box:
            e = box.run(Job(id="k", code=probe,
                            tests="assert found < 0 and readable < 0\\n"
                                  "assert 'codesynth-caller' not in listed"))
        print(json.dumps({{"status": e.status.value, "reason": e.reason}}))
    """)
    if "skip" in result:
        pytest.skip(result["skip"])
    assert result["status"] == "passed", result["reason"]


# -- system calls the filter denies --------------------------------------------------------

DENIED = {
    "unshare(CLONE_NEWUSER)": "call(272, 0x10000000)",
    "unshare(CLONE_NEWNET)": "call(272, 0x40000000)",
    "clone(CLONE_NEWUSER)": "call(56, 0x10000000 | 17, 0, 0, 0, 0)",
    "setns": "call(308, 0, 0)",
    "mount": 'call(165, b"none", b"/tmp", b"tmpfs", 0, None)',
    "bpf": "call(321, 5, 0, 0)",  # BPF_PROG_LOAD
    "io_uring_setup": "call(425, 8, ctypes.create_string_buffer(120))",
    "userfaultfd": "call(323, 0)",
    "perf_event_open": "call(298, ctypes.create_string_buffer(128), 0, -1, -1, 0)",
    "keyctl": "call(250, 0, -3, 0)",
    "add_key": 'call(248, b"user", b"k", b"v", 1, -4)',
    "request_key": 'call(249, b"user", b"k", None, 0)',
    "process_vm_readv": "call(310, 1, 0, 0, 0, 0, 0)",
    "init_module": "call(175, 0, 0, b'')",
    "kexec_load": "call(246, 0, 0, 0, 0)",
    "socket(AF_VSOCK)": "call(41, 40, 1, 0)",
    "personality(ADDR_NO_RANDOMIZE)": "call(135, 0x0040000)",
}


@pytest.mark.parametrize("attempt", list(DENIED.values()), ids=list(DENIED))
def test_denied_system_calls_fail_with_eperm(solo: Sandbox, attempt: str) -> None:  # noqa: F811
    before = runner_of(solo)
    e = solo.run(job(LIBC + f"got = {attempt}\n", "assert got == 1, got"))  # EPERM
    assert e.status is Status.PASSED, (e.reason, e.stderr)
    assert runner_of(solo) is before
    assert_sandbox_answers(solo)


def test_clone3_is_not_available_so_the_c_library_falls_back(solo: Sandbox) -> None:  # noqa: F811
    e = solo.run(job(LIBC + "got = call(435, ctypes.create_string_buffer(88), 88)\n",
                     "assert got == 38, got"))  # ENOSYS
    assert e.status is Status.PASSED, e.reason


def test_ptrace_of_a_sibling_is_denied(solo: Sandbox) -> None:  # noqa: F811
    program = LIBC + code("""
        import time
        child = os.fork()
        if child == 0:
            time.sleep(30)
            os._exit(0)
        attach = call(101, 16, child, 0, 0)  # PTRACE_ATTACH
        seize = call(101, 0x4206, child, 0, 0)  # PTRACE_SEIZE
        traceme = call(101, 0, 0, 0, 0)  # PTRACE_TRACEME
        os.kill(child, 9)
    """)
    e = solo.run(job(program, "assert (attach, seize, traceme) == (1, 1, 1)"))
    assert e.status is Status.PASSED, e.reason
    assert_sandbox_answers(solo)


def test_unshare_binary_cannot_make_a_user_namespace(solo: Sandbox) -> None:  # noqa: F811
    if not os.path.exists("/usr/bin/unshare") or solo.name == "docker":
        pytest.skip("no unshare(1) in this runtime")
    program = code("""
        import subprocess
        done = subprocess.run(["unshare", "-Urn", "id", "-u"], capture_output=True, text=True)
    """)
    e = solo.run(job(program, "assert done.returncode != 0 and '0' not in done.stdout"))
    assert e.status is Status.PASSED, e.reason


def test_without_libseccomp_the_filter_refuses_with_what_to_do(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from codesynth.sandbox import _seccomp

    assert _seccomp.load().size > 50  # present here: a real program
    monkeypatch.setattr(_seccomp, "LIBRARY", "libseccomp-missing.so.0")
    with pytest.raises(OSError, match="libseccomp is missing.*--unsafe-no-isolation"):
        _seccomp.load()
