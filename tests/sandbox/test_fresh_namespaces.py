"""Nothing a job leaves in the kernel reaches the next job on the same worker.

Each test runs two jobs on a one-worker sandbox, as an outside tester did: the first leaves a
mark (a socket in TIME_WAIT, a unix socket kept alive by in-flight descriptors, forks that
advance the PID counter, System V IPC ids, CPU time charged to the runner), the second must
not see it. In both backends every job has fresh PID, IPC and mount namespaces, and a network
namespace no earlier job left a trace in.
"""

from __future__ import annotations

from codesynth.records import Status
from codesynth.sandbox.protocol import Sandbox
from tests.conftest import job
from tests.sandbox.helpers import code
from tests.sandbox.test_hostile_runs import solo  # noqa: F401 - a fixture


def both_pass(box: Sandbox, first: str, second: str, tests: str) -> None:
    mark = box.run(job(first, "assert True", job_id="mark"))
    assert mark.status is Status.PASSED, (mark.reason, mark.stderr)
    look = box.run(job(second, tests, job_id="look"))
    assert look.status is Status.PASSED, (look.reason, look.stdout, look.stderr)


ECHO = code("""
    import socket, threading
    def serve(server):
        conn, _ = server.accept()
        conn.sendall(conn.recv(100))
        conn.close()  # the server closes first: its side of the connection is in TIME_WAIT
    server = socket.socket()
    server.bind(("127.0.0.1", 8080)); server.listen(1)
    thread = threading.Thread(target=serve, args=(server,)); thread.start()
    client = socket.create_connection(("127.0.0.1", 8080)); client.sendall(b"ping")
    echo = client.recv(100); thread.join(); client.close(); server.close()
""")


def test_an_honest_server_binds_its_port_again_on_the_next_job(solo: Sandbox) -> None:  # noqa: F811
    both_pass(solo, ECHO, ECHO, "assert echo == b'ping'")


def test_time_wait_ports_do_not_reach_the_next_job(solo: Sandbox) -> None:  # noqa: F811
    mark = code("""
        import socket
        server = socket.socket(); server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 40000)); server.listen(16)
        for port in (41042, 41043):
            client = socket.socket()
            client.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            client.bind(("127.0.0.1", port)); client.connect(("127.0.0.1", 40000))
            accepted, _ = server.accept()
            client.close(); accepted.close()  # the client closed first: TIME_WAIT, 60 s
    """)
    look = code("""
        rows = [line.split() for line in open("/proc/net/tcp").read().splitlines()[1:]]
        ports = [int(row[1].split(":")[1], 16) for row in rows]
    """)
    both_pass(solo, mark, look, "assert ports == [], ports")


def test_a_unix_socket_kept_by_in_flight_descriptors_dies_with_its_job(solo: Sandbox  # noqa: F811
                                                                       ) -> None:
    mark = code("""
        import array, socket
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(b"\\0codesynth-persist"); listener.listen(8)
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        fds = array.array("i", [listener.fileno(), a.fileno(), b.fileno()])
        a.sendmsg([b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])
        b.sendmsg([b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds[1:])])
    """)
    look = code("""
        import socket
        listed = [l for l in open("/proc/net/unix").read().splitlines() if "persist" in l]
        again = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        again.bind(b"\\0codesynth-persist")  # EADDRINUSE if the last job's socket lives
    """)
    both_pass(solo, mark, look, "assert listed == [], listed")


def test_the_pid_counter_does_not_carry_between_jobs(solo: Sandbox) -> None:  # noqa: F811
    mark = code("""
        import os
        for _ in range(173):
            pid = os.fork()
            if pid == 0:
                os._exit(0)
            os.waitpid(pid, 0)
    """)
    look = "import os\npid = os.getpid()\nlast = open('/proc/sys/kernel/ns_last_pid').read()\n"
    first = solo.run(job(look, "assert True"))
    assert first.status is Status.PASSED, first.reason
    both_pass(solo, mark, look + "child = os.fork()\nif child == 0:\n    os._exit(0)\n"
              "os.waitpid(child, 0)\n", "assert (pid, last.strip(), child) == (2, '2', 3), "
              "(pid, last, child)")


def test_sysv_ipc_ids_do_not_count_the_last_jobs(solo: Sandbox) -> None:  # noqa: F811
    make = code("""
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        def make():
            ident = libc.shmget(0, 4096, 0o1600)  # IPC_PRIVATE | IPC_CREAT
            libc.shmctl(ident, 0, None)  # IPC_RMID
            return ident
    """)
    both_pass(solo, make + "for _ in range(57):\n    make()\n", make + "ident = make()\n",
              "assert ident == 0, ident")


def test_a_job_sees_neither_the_runner_nor_its_cpu_time(solo: Sandbox) -> None:  # noqa: F811
    burn = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end:\n" \
           "    pass\n"
    look = code("""
        import os
        pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
        fields = open("/proc/1/stat").read().rsplit(")", 1)[1].split()
        children = [int(fields[i]) for i in (8, 13, 14)]  # cminflt, cutime, cstime
        command = open("/proc/1/cmdline", "rb").read()
    """)
    # PID 1 is made for this job: it waited for nobody, and holds no runner configuration.
    both_pass(solo, burn, look, "assert pids == [1, 2], pids\nassert children == [0, 0, 0], "
              "children\nassert b'cgroup' not in command and b'runner' not in command, command")
