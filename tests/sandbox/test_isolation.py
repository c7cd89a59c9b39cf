"""Isolation: the program sees no network, no host files, no host processes, no secrets."""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from codesynth.records import Status
from codesynth.sandbox.protocol import Sandbox
from tests.conftest import job
from tests.sandbox.helpers import code, limits, run_script, runtime_under_tmp

# What a job's environment may contain; anything else leaked from somewhere.
ENV_ALLOWLIST = {"PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "USER",
                 "LOGNAME", "SHELL", "PWD", "PYTHONIOENCODING", "PYTHONDONTWRITEBYTECODE",
                 "PYTHONHASHSEED", "PYTHONUNBUFFERED", "PYTHONUTF8", "TERM",
                 "PYTEST_DISABLE_PLUGIN_AUTOLOAD"}


def passes(sandbox: Sandbox, program: str, tests: str) -> None:
    """Run a probe whose tests state the isolation property; it must pass."""
    e = sandbox.run(job(program, tests), limits(max_output=65536))
    assert e.status is Status.PASSED, (e.reason, e.exception, e.tests, e.stdout, e.stderr)


@pytest.fixture
def host_server() -> Iterator[socket.socket]:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    with server:
        yield server


# -- network ---------------------------------------------------------------------------------

def test_no_route_to_the_internet(sandbox: Sandbox) -> None:
    program = code("""
        import errno, socket
        def connect(host, port):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(2)
            try:
                s.connect((host, port))
                return "connected"
            except OSError as exc:
                return errno.errorcode.get(exc.errno, repr(exc))
            finally:
                s.close()
        def udp():
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                s.sendto(b"x", ("8.8.8.8", 53))
                return "sent"
            except OSError as exc:
                return errno.errorcode.get(exc.errno, repr(exc))
            finally:
                s.close()
        def resolve(name):
            try:
                return socket.getaddrinfo(name, 80)
            except OSError:
                return None
        interfaces = sorted(name for _, name in socket.if_nameindex())
    """)
    tests = code("""
        assert connect("1.1.1.1", 80) == "ENETUNREACH"
        assert connect("8.8.8.8", 53) == "ENETUNREACH"
        assert udp() == "ENETUNREACH"
        assert resolve("example.com") is None
        assert interfaces == ["lo"]
    """)
    passes(sandbox, program, tests)


def test_the_hosts_loopback_is_not_reachable(sandbox: Sandbox,
                                             host_server: socket.socket) -> None:
    port = host_server.getsockname()[1]
    program = code(f"""
        import socket
        def connect():
            s = socket.socket()
            s.settimeout(2)
            try:
                s.connect(("127.0.0.1", {port}))
                return "connected"
            except ConnectionRefusedError:
                return "refused"
            except OSError as exc:
                return repr(exc)
            finally:
                s.close()
    """)
    passes(sandbox, program, 'assert connect() == "refused"')
    with pytest.raises(BlockingIOError):
        host_server.accept()  # nobody reached the host's server


def test_host_abstract_unix_sockets_are_not_reachable(sandbox: Sandbox) -> None:
    name = f"\0codesynth-isolation-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(name)
        server.listen(1)
        program = code(f"""
            import socket
            def connect():
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    s.connect({name!r})
                    return "connected"
                except OSError as exc:
                    return type(exc).__name__
                finally:
                    s.close()
        """)
        passes(sandbox, program, 'assert connect() == "ConnectionRefusedError"')


# -- filesystem ------------------------------------------------------------------------------

@pytest.fixture
def host_markers(tmp_path: Path) -> Iterator[list[str]]:
    """Marker files on the host in /tmp (tmp_path), /root and next to the project."""
    token = uuid.uuid4().hex
    paths = [tmp_path / f"marker-{token}", Path("/tmp") / f"codesynth-marker-{token}",
             Path("/root") / f"codesynth-marker-{token}",
             Path(__file__).parent / f"marker-{token}"]
    for path in paths:
        path.write_text("host secret")
    try:
        yield [str(p) for p in paths]
    finally:
        for path in paths:
            with contextlib.suppress(OSError):
                path.unlink()


def test_host_files_are_invisible(sandbox: Sandbox, host_markers: list[str]) -> None:
    project = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    # Only the package, read-only; and the interpreter's environment when it lives in the
    # project under /tmp (a checkout with its venv inside, as a fresh CI clone may have).
    shown = ["codesynth"]
    prefix = os.path.realpath(sys.prefix)
    if sandbox.name == "local" and prefix.startswith("/tmp/") and \
            prefix.startswith(os.path.realpath(project) + os.sep):
        shown = sorted({"codesynth", os.path.relpath(prefix, project).split(os.sep)[0]})
    program = code(f"""
        import os
        markers = {host_markers!r}
        users = {{line.split(":")[0] for line in open("/etc/passwd")}}
        def sys_writable():
            try:
                open("/sys/kernel/uevent_helper", "w").close()
                return True
            except OSError:
                return False
        def listing(path):
            try:
                return sorted(os.listdir(path))
            except OSError:
                return None
    """)
    tests = code(f"""
        assert [m for m in markers if os.path.exists(m)] == []
        assert listing("/tmp") == {runtime_under_tmp(sandbox)!r}
        assert listing({project!r}) in (None, {shown!r})
        assert listing("/home") in (None, [])
        assert listing("/sys") in (None, []) or not sys_writable()  # docker: its own, read-only
        assert listing({os.path.dirname(os.path.dirname(__file__))!r}) is None
        assert not os.path.exists({os.path.join(os.path.dirname(__file__), "conftest.py")!r})
        assert not os.path.exists("/work/main/pyproject.toml")
        assert not os.path.exists("/work/main/tests")
        assert not os.path.exists("/etc/shadow")
        assert not os.path.exists("/root/.bash_history")
        assert users <= {{"root", "sandbox", "nobody"}}
    """)
    passes(sandbox, program, tests)


def test_the_root_filesystem_is_read_only(sandbox: Sandbox) -> None:
    program = code("""
        import errno, os
        import codesynth, pytest  # where the runtime is, in this backend
        package = os.path.dirname(codesynth.__file__)
        site = os.path.dirname(os.path.dirname(pytest.__file__))
        def write(path):
            try:
                with open(path, "w") as handle:
                    handle.write("x")
                return "written"
            except OSError as exc:
                return errno.errorcode.get(exc.errno, repr(exc))
        def mkdir(path):
            try:
                os.mkdir(path)
                return "made"
            except OSError as exc:
                return errno.errorcode.get(exc.errno, repr(exc))
    """)
    tests = code("""
        assert write("/usr/x") in ("EROFS", "EACCES")
        assert write("/x") in ("EROFS", "EACCES")
        assert write("/etc/x") in ("EROFS", "EACCES")
        assert write("/etc/passwd") in ("EROFS", "EACCES")
        assert write("/bin/x") in ("EROFS", "EACCES")
        assert write(os.path.join(package, "evil.py")) in ("EROFS", "EACCES")
        assert write(os.path.join(package, "__init__.py")) in ("EROFS", "EACCES")
        assert write(os.path.join(site, "sitecustomize.py")) in ("EROFS", "EACCES")
        assert mkdir("/newdir") in ("EROFS", "EACCES")
        assert write("/tmp/ok") == "written"
        assert write("scratch.txt") == "written"
    """)
    passes(sandbox, program, tests)


def test_the_working_directory_is_fresh_and_private(sandbox: Sandbox) -> None:
    writer = code("""
        import os
        start = sorted(os.listdir("."))
        cwd = os.getcwd()
        for path in ("left-behind.txt", "/tmp/left-behind-tmp", "/dev/shm/left-behind-shm"):
            with open(path, "w") as handle:
                handle.write("x")
    """)
    reader = code("""
        import os
        start = sorted(os.listdir("."))
        shm = sorted(os.listdir("/dev/shm"))
        tmp = sorted(os.listdir("/tmp"))
    """)
    first = sandbox.run(job(writer, "assert start == []\nassert os.path.exists('left-behind.txt')"))
    assert first.status is Status.PASSED, (first.reason, first.tests)
    # several jobs, so that every worker runs one after the writer
    for e in sandbox.run_many([job(reader, "assert start == []\nassert shm == []\n"
                                           f"assert tmp == {runtime_under_tmp(sandbox)!r}",
                                   job_id=str(i))
                               for i in range(6)]):
        assert e.status is Status.PASSED, (e.reason, e.tests)
    assert not os.path.exists("/tmp/left-behind-tmp")


# -- identity, processes, environment --------------------------------------------------------

def test_runs_as_an_unprivileged_user(sandbox: Sandbox) -> None:
    program = code("""
        import os
        status = dict(line.split(":", 1) for line in open("/proc/self/status")
                      if ":" in line)
        def setuid_root():
            try:
                os.setuid(0)
                return "root"
            except PermissionError:
                return "denied"
        import ctypes
        dumpable = ctypes.CDLL(None).prctl(3, 0, 0, 0, 0)  # PR_GET_DUMPABLE
    """)
    tests = code("""
        assert os.getuid() != 0
        assert os.geteuid() != 0
        assert os.getgid() != 0
        assert os.getegid() != 0
        assert set(os.getgroups()) <= {os.getgid()}  # no group beyond its own
        assert int(status["CapEff"], 16) == 0
        assert int(status["CapPrm"], 16) == 0
        assert int(status["NoNewPrivs"]) == 1
        assert setuid_root() == "denied"
        assert dumpable == 0  # no ptrace, no /proc/<pid>/fd of the job from its own uid
    """)
    passes(sandbox, program, tests)


def test_proc_shows_only_the_jobs_own_processes(sandbox: Sandbox) -> None:
    # Local: the job is born in a PID namespace of its own, with an init (pid 1) made for
    # it; the runner is outside. In a container the job runs in the runner's PID namespace,
    # alone with the runner (its init, pid 1). No host process is visible, and /proc agrees
    # with os.getpid().
    program = code(f"""
        import os, subprocess
        child = subprocess.Popen(["sleep", "30"])
        visible = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
        host_test_process_visible = os.path.exists("/proc/{os.getpid()}/status")
        me = os.getpid()
        link = os.readlink("/proc/self")
        child.kill()
        child.wait()
    """)
    # (the judge, pid 1 of the job's namespace, runs the tests: the values are the program's)
    tests = code("""
        assert me != 1
        assert visible == sorted({1, me, child.pid}), visible
        assert not host_test_process_visible
        assert link == str(me)
    """)
    passes(sandbox, program, tests)


def test_hostname_is_not_the_hosts(sandbox: Sandbox) -> None:
    program = code("""
        import os, socket
        name = socket.gethostname()
        node = os.uname().nodename
        def rename():
            try:
                socket.sethostname("owned")
                return "renamed"
            except PermissionError:
                return "denied"
    """)
    host = socket.gethostname()
    tests = code(f"""
        assert name == node
        assert name != {host!r}
        assert rename() == "denied"
    """)
    passes(sandbox, program, tests)


ENV_PROBE = code(f"""
    import os
    environment = dict(os.environ)
    def raw_environ():
        try:
            return open("/proc/self/environ", "rb").read()
        except OSError:
            return b""
    def parent_environ():
        try:
            return open("/proc/1/environ", "rb").read()
        except OSError:
            return b""
    allowed = {sorted(ENV_ALLOWLIST)!r}
""")
ENV_TESTS = code("""
    assert sorted(set(environment) - set(allowed)) == []
    assert b"SECRET" not in raw_environ()
    assert b"SECRET" not in parent_environ()
    assert not any("SECRET" in k or "SECRET" in v for k, v in environment.items())
""")


def test_environment_is_scrubbed(sandbox: Sandbox) -> None:
    passes(sandbox, ENV_PROBE, ENV_TESTS)


def test_secrets_in_the_hosts_environment_do_not_leak(monkeypatch: pytest.MonkeyPatch,
                                                      sandbox: Sandbox) -> None:
    # A sandbox of the same backend, opened by a process that holds secrets in its
    # environment (in a child process: see helpers.run_script for why not in this one).
    backend = sandbox.name
    secret = f"SECRET-{uuid.uuid4().hex}"
    monkeypatch.setenv("CODESYNTH_SECRET", secret)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    monkeypatch.setenv("PYTHONSTARTUP", "/nonexistent/steal.py")
    result = run_script(f"""
        import json, os
        from codesynth.records import Job, Limits
        from codesynth.sandbox import open_sandbox
        assert os.environ["CODESYNTH_SECRET"] == {secret!r}
        with open_sandbox({backend!r}, workers=1,
                          limits=Limits(timeout=5, max_output=65536)) as box:
            e = box.run(Job(id="env", code={ENV_PROBE + "print(environment)"!r},
                            tests={ENV_TESTS!r}))
        print(json.dumps(e.to_dict()))
    """)
    assert result["status"] == "passed", result
    assert secret not in result["stdout"]
    assert "CODESYNTH_SECRET" not in result["stdout"]
