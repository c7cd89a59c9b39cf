"""The jobs' network namespace: reused while no job leaves a trace in it.

A network namespace is the most expensive of a job's namespaces: creating one costs ~0.35 ms
of CPU here, and freeing it as much again in a kernel worker, more than the PID, IPC and
mount namespaces together. Most jobs never touch the network. So the runner *lives* in the
network namespace its jobs run in (it has no socket of its own: it talks to the host through
pipes, and to its zygote through a socket made before, in the namespace it left): both
processes of each job enter it (``setns``) when the job is handed over, and the runner makes a
new one (``unshare``, then the loopback up) only after a job that left a trace in it.

A trace is any difference, once every process of the job is dead (its PID namespace ended),
in the namespace's own accounting, against the state it had when it was new:

- ``dev``: the loopback's packet and byte counters. Every packet sent in the namespace goes
  through it (there is no other interface), whatever the protocol;
- ``snmp``, ``snmp6``, ``netstat``: the cumulative IP, ICMP, TCP, UDP and UDP-Lite counters
  (and their extensions), including the attempts that never sent a packet (``OutNoRoutes``);
- ``sockstat``, ``sockstat6``: the sockets in use, of every family (``sockets: used``: a unix
  socket kept alive by descriptors in flight, a netlink socket, ...), TIME_WAIT entries,
  fragments. (Its ``orphan``, ``alloc`` and ``mem`` fields count the whole kernel, every
  namespace together: left out, or any other process's traffic would renew ours);
- ``ip6_flowlabel``: IPv6 flow labels, which outlive their socket for a few seconds.

What a job can do without changing any of these is create a socket, bind, listen, set its
options and close it again, with no packet: such a socket leaves nothing behind once closed
(its port is free again, an abstract unix name is gone). Everything that would outlive it or
be counted (connections, TIME_WAIT, datagrams, ICMP, refused or unroutable attempts) is in
the files above. A job cannot change the namespace's configuration (addresses, routes,
sysctls, netfilter: they need ``CAP_NET_ADMIN`` over it, which no job has; the seccomp filter
keeps it from making namespaces of its own). Counters that are global to the kernel (the
ephemeral port perturbation, socket inode numbers) are not the namespace's: a new namespace
would not hide them either. A difference that is not the job's (a counter moving by itself)
only costs a new namespace.
"""

from __future__ import annotations

import os
import re

from codesynth.sandbox import _linux as L

STATE = ("dev", "snmp", "snmp6", "netstat", "sockstat", "sockstat6", "ip6_flowlabel")
_GLOBAL = re.compile(rb" (?:orphan|alloc|mem) -?\d+")  # sockstat fields of the whole kernel


class JobNet:
    """The runner's (and its jobs') network namespace, renewed only after a trace."""

    @classmethod
    def start(cls) -> JobNet | None:
        """The first one, or None where we may not make network namespaces (a container
        without the capability: jobs then share the container's, see the README). Called
        after the zygote started: its sockets stay in the namespace we leave."""
        first = os.open("/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        try:
            return cls()
        except OSError:
            L.setns(first, L.CLONE_NEWNET)  # loopback_up may fail after the unshare
            return None
        finally:
            os.close(first)

    def __init__(self) -> None:
        self._files: list[tuple[int, bool]] = []  # (descriptor, is a sockstat)
        self.baseline: list[bytes] = []
        self.renewed = 0  # how many namespaces were made (the first included)
        self.renew()

    def renew(self) -> None:
        """A new network namespace for the runner and its next jobs; the old one is freed by
        the kernel (asynchronously) once its last socket is gone."""
        L.unshare(L.CLONE_NEWNET)
        L.loopback_up()
        for fd, _ in self._files:
            os.close(fd)
        # Opened in the new namespace, they read it (and only it) from now on.
        self._files = []
        for name in STATE:
            try:
                self._files.append((os.open(f"/proc/self/net/{name}",
                                            os.O_RDONLY | os.O_CLOEXEC),
                                    name.startswith("sockstat")))
            except FileNotFoundError:  # IPv6 or a protocol not built in: nothing to count
                pass
        self.baseline = self.state()
        self.renewed += 1

    def state(self) -> list[bytes]:
        state = []
        for fd, sockstat in self._files:
            os.lseek(fd, 0, os.SEEK_SET)
            data = chunk = os.read(fd, 1 << 16)
            while chunk:  # records come at most a page at a time
                chunk = os.read(fd, 1 << 16)
                data += chunk
            state.append(_GLOBAL.sub(b"", data) if sockstat else data)
        return state

    def settle(self) -> None:
        """After a job whose processes are all gone: a new namespace if it left a trace."""
        if self.state() != self.baseline:
            self.renew()
