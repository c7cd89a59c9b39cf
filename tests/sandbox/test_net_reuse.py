"""The jobs' network namespace is reused while no job leaves a trace in it (local backend).

Each test runs, on a one-worker sandbox, a job that looks at the network namespace as a job
can (every /proc/net file: counters in full, socket tables by their number of lines; the
ports and the abstract unix name the marks use, bound again), then a job that leaves a mark,
then the look again: it must see exactly what it saw in a new namespace. Quiet jobs must
share one namespace (that is the point of reusing it); a job whose mark the runner cannot
tell from nothing must leave nothing a later job could see.
"""

from __future__ import annotations

import pytest

from codesynth.records import Status
from codesynth.sandbox.protocol import Sandbox
from tests.conftest import job
from tests.sandbox.helpers import code
from tests.sandbox.test_hostile_runs import solo  # noqa: F401 - a fixture

LOOK = code("""
    import os, re, socket
    def read(name):
        try:
            return open("/proc/net/" + name).read()
        except OSError:
            return ""
    kernel_wide = re.compile(r" (?:orphan|alloc|mem) -?\\d+")  # every namespace together
    counters = {name: kernel_wide.sub("", read(name)) for name in
                ("dev", "snmp", "snmp6", "netstat", "sockstat", "sockstat6", "ip6_flowlabel")}
    tables = {name: len(read(name).splitlines()) for name in
              ("unix", "tcp", "tcp6", "udp", "udp6", "udplite", "raw", "raw6", "packet",
               "netlink", "icmp", "icmp6")}
    bound = []
    for family, kind, port in ((socket.AF_INET, socket.SOCK_STREAM, 40000),
                               (socket.AF_INET, socket.SOCK_DGRAM, 40001),
                               (socket.AF_INET6, socket.SOCK_STREAM, 40002)):
        with socket.socket(family, kind) as sock:  # EADDRINUSE if a mark lives on
            sock.bind(("::1" if family == socket.AF_INET6 else "127.0.0.1", port))
            bound.append(port)
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(b"\\0codesynth-net-mark")
    print(repr((counters, tables, bound)))
    print(os.stat("/proc/self/ns/net").st_ino)
""")

MARKS = {
    "netlink route dump": code("""
        import socket, struct
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        sock.bind((0, 0))
        sock.send(struct.pack("=LHHLLBxxx", 20, 18, 0x301, 1, 0, 0))  # RTM_GETLINK dump
        sock.recv(65536)
        sock.close()
    """),
    "netlink kept by descriptors in flight": code("""
        import array, socket
        kept = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        fds = array.array("i", [kept.fileno(), a.fileno(), b.fileno()])
        a.sendmsg([b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])
    """),
    "udp datagram": code("""
        import socket
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 40001)); sock.sendto(b"x", ("127.0.0.1", 40001))
        sock.recv(10); sock.close()
    """),
    "udp to a closed port (ICMP)": code("""
        import socket
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.sendto(b"x", ("127.0.0.1", 40009)); sock.close()
    """),
    "unroutable sends": code("""
        import socket
        for family, address in ((socket.AF_INET, ("10.1.2.3", 9)),
                                (socket.AF_INET6, ("2001:db8::1", 9))):
            for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                with socket.socket(family, kind) as sock:
                    try:
                        if kind == socket.SOCK_STREAM:
                            sock.connect(address)
                        else:
                            sock.sendto(b"x", address)
                    except OSError:
                        pass
    """),
    "refused connection": code("""
        import socket
        try:
            socket.create_connection(("127.0.0.1", 40000), timeout=1)
        except OSError:
            pass
    """),
    "connection reset (SO_LINGER 0)": code("""
        import socket, struct
        server = socket.socket(); server.bind(("127.0.0.1", 40000)); server.listen(1)
        client = socket.create_connection(("127.0.0.1", 40000))
        accepted, _ = server.accept()
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close(); accepted.close(); server.close()
    """),
    "connection left open": code("""
        import socket
        server = socket.socket(socket.AF_INET6); server.bind(("::1", 40002)); server.listen(1)
        client = socket.socket(socket.AF_INET6); client.connect(("::1", 40002))
        accepted, _ = server.accept()
        client.sendall(b"unread")
    """),
    "ipv6 flow label": code("""
        import socket, struct
        sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        request = (bytes(16) + struct.pack("!I", 0x12345)
                   + struct.pack("=BBHHHI", 0, 255, 1, 60, 60, 0))
        try:
            sock.setsockopt(socket.IPPROTO_IPV6, 32, request)  # IPV6_FLOWLABEL_MGR, GET|CREATE
        except OSError:
            pass
        sock.close()
    """),
    "abstract unix socket, closed": code("""
        import socket
        server = socket.socket(socket.AF_UNIX); server.bind(b"\\0codesynth-net-mark")
        server.listen(1)
        client = socket.socket(socket.AF_UNIX); client.connect(b"\\0codesynth-net-mark")
        client.sendall(b"x"); client.close(); server.close()
    """),
    "sockets without a packet": code("""
        import socket
        for family, kind, address in (
                (socket.AF_INET, socket.SOCK_STREAM, ("127.0.0.1", 40000)),
                (socket.AF_INET, socket.SOCK_DGRAM, ("127.0.0.1", 40001)),
                (socket.AF_INET6, socket.SOCK_STREAM, ("::1", 40002))):
            sock = socket.socket(family, kind)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
            if kind == socket.SOCK_STREAM:
                sock.listen(8)
            sock.close()
    """),
}


def look(box: Sandbox) -> tuple[str, int]:
    seen = box.run(job(LOOK, "assert True", job_id="look"))
    assert seen.status is Status.PASSED, (seen.reason, seen.stderr)
    state, inode = seen.stdout.strip().rsplit("\n", 1)
    return state, int(inode)


def test_quiet_jobs_share_one_network_namespace(solo: Sandbox) -> None:  # noqa: F811
    fresh, first = look(solo)
    for _ in range(3):
        quiet = solo.run(job("x = sum(range(1000))", "assert x == 499500"))
        assert quiet.status is Status.PASSED, quiet.reason
    assert look(solo) == (fresh, first)  # the looks themselves leave no trace either


@pytest.mark.parametrize("mark", list(MARKS.values()), ids=list(MARKS))
def test_a_job_sees_no_trace_of_the_last_jobs_network(solo: Sandbox,  # noqa: F811
                                                      mark: str) -> None:
    fresh, _ = look(solo)
    marked = solo.run(job(mark, "assert True", job_id="mark"))
    assert marked.status is Status.PASSED, (marked.reason, marked.stderr)
    after, _ = look(solo)
    assert after == fresh
