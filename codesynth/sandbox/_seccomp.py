"""The jobs' system-call filter: a small ctypes binding to libseccomp (``libseccomp.so.2``).

The runner builds the filter once, with libseccomp, and keeps the BPF program it exports.
Each job installs that program with one ``prctl`` call, after the runner's own setup (uid,
rlimits, descriptors) and before any of its code runs; ``no_new_privs`` is already set.

Denied calls fail with ``EPERM`` (``clone3``: ``ENOSYS``, so that the C library falls back to
``clone``, whose flags a filter can read): programs see an ordinary error, nothing is killed.
The list covers what Docker's default profile refuses to a container without capabilities,
plus namespaces in every form (``unshare``, ``setns``, ``clone`` with a namespace flag),
the kernel keyrings, tracing and other processes' memory, eBPF, ``userfaultfd``, io_uring,
``perf_event_open``, module loading, kexec, the mount API and ``AF_VSOCK`` sockets (vsock is
not namespaced: it reaches the hypervisor's host). Threads (``clone`` without namespace
flags), ``fork``/``exec``, pytest and hypothesis are unaffected.
"""

from __future__ import annotations

import ctypes
import errno
import os

LIBRARY = "libseccomp.so.2"
_ACT_ALLOW = 0x7FFF0000
_ATTR_BADARCH = 2
_ATTR_NNP = 3
_ATTR_OPTIMIZE = 8  # 2: a binary tree of system call numbers (libseccomp >= 2.5)
_CMP_EQ = 4
_CMP_MASKED_EQ = 7
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_AF_VSOCK = 40
_PERSONALITIES = (0x0040000, 0x0400000)  # ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC

CLONE_NAMESPACES = {"newns": 0x00020000, "newcgroup": 0x02000000, "newuts": 0x04000000,
                    "newipc": 0x08000000, "newuser": 0x10000000, "newpid": 0x20000000,
                    "newnet": 0x40000000}

DENIED = (
    # namespaces and mounts
    "unshare", "setns", "mount", "umount", "umount2", "pivot_root", "chroot", "open_tree",
    "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    # keyrings
    "add_key", "keyctl", "request_key",
    # other processes, the kernel's memory and its tracing
    "ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "pidfd_getfd",
    "kcmp", "perf_event_open", "bpf", "userfaultfd", "lookup_dcookie", "syslog",
    "fanotify_init", "name_to_handle_at", "open_by_handle_at",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    # modules, kexec, the machine
    "init_module", "finit_module", "delete_module", "create_module", "query_module",
    "get_kernel_syms", "kexec_load", "kexec_file_load", "reboot", "swapon", "swapoff",
    "acct", "quotactl", "quotactl_fd", "nfsservctl", "uselib", "ustat", "sysfs", "_sysctl",
    "vhangup", "iopl", "ioperm", "vm86", "vm86old",
    # clocks, names, NUMA placement
    "settimeofday", "stime", "clock_settime", "clock_adjtime", "adjtimex", "sethostname",
    "setdomainname", "mbind", "set_mempolicy", "set_mempolicy_home_node", "move_pages",
    "migrate_pages",
)


class _ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int),
                ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _errno(code: int) -> int:
    return 0x00050000 | (code & 0xFFFF)  # SCMP_ACT_ERRNO


def _library() -> ctypes.CDLL:
    try:
        lib = ctypes.CDLL(LIBRARY, use_errno=True)
    except OSError as exc:
        raise OSError(errno.ENOENT, f"libseccomp is missing ({LIBRARY}: {exc}); install it "
                      "(Debian/Ubuntu: apt-get install libseccomp2), or pass "
                      "--unsafe-no-isolation to run WITHOUT any isolation") from None
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    lib.seccomp_attr_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
                                           ctypes.c_uint, ctypes.POINTER(_ArgCmp)]
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    return lib


def _rule(lib: ctypes.CDLL, ctx: int, action: int, name: str,
          *conditions: tuple[int, int, int, int]) -> bool:
    """Add one rule; False when this kernel/architecture has no such call."""
    number = lib.seccomp_syscall_resolve_name(name.encode())
    if number < 0:
        return False
    array = (_ArgCmp * max(1, len(conditions)))(*[_ArgCmp(*c) for c in conditions])
    result = lib.seccomp_rule_add_array(ctx, action, number, len(conditions), array)
    if result < 0:
        raise OSError(-result, f"seccomp_rule_add({name}): {os.strerror(-result)}")
    return True


def build() -> bytes:
    """The filter as a BPF program (``struct sock_filter`` array), made by libseccomp."""
    lib = _library()
    ctx = lib.seccomp_init(_ACT_ALLOW)
    if not ctx:
        raise OSError(errno.ENOMEM, "seccomp_init failed")
    deny = _errno(errno.EPERM)
    try:
        # Another ABI (i386 or x32 calls on x86_64) gets EPERM for every call.
        lib.seccomp_attr_set(ctx, _ATTR_BADARCH, deny)
        lib.seccomp_attr_set(ctx, _ATTR_NNP, 0)  # set by the runner already, for every job
        lib.seccomp_attr_set(ctx, _ATTR_OPTIMIZE, 2)  # fewer steps per call (and install)
        for name in DENIED:
            _rule(lib, ctx, deny, name)
        for flag in CLONE_NAMESPACES.values():
            _rule(lib, ctx, deny, "clone", (0, _CMP_MASKED_EQ, flag, flag))
        _rule(lib, ctx, _errno(errno.ENOSYS), "clone3")
        for flag in _PERSONALITIES:  # no ASLR, executable data: what exploits want
            _rule(lib, ctx, deny, "personality", (0, _CMP_MASKED_EQ, flag, flag))
        _rule(lib, ctx, deny, "socket", (0, _CMP_EQ, _AF_VSOCK, 0))
        fd = os.memfd_create("seccomp-bpf", os.MFD_CLOEXEC)
        try:
            result = lib.seccomp_export_bpf(ctx, fd)
            if result < 0:
                raise OSError(-result, f"seccomp_export_bpf: {os.strerror(-result)}")
            size = os.fstat(fd).st_size
            return os.pread(fd, size, 0)
        finally:
            os.close(fd)
    finally:
        lib.seccomp_release(ctx)


class Filter:
    """A prepared program: ``install()`` is one ``prctl`` call (in the job, per job)."""

    def __init__(self, program: bytes) -> None:
        if not program or len(program) % 8:
            raise OSError(errno.EINVAL, "libseccomp exported an empty or truncated program")
        self._buffer = ctypes.create_string_buffer(program, len(program))
        self._fprog = _SockFprog(len(program) // 8, ctypes.addressof(self._buffer))
        self._address = ctypes.addressof(self._fprog)
        libc = ctypes.CDLL(None, use_errno=True)
        self._prctl = libc.prctl
        self._prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                                ctypes.c_ulong]
        self.size = len(program) // 8

    def install(self) -> None:
        if self._prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, self._address, 0, 0) != 0:
            code = ctypes.get_errno()
            raise OSError(code, f"installing the seccomp filter: {os.strerror(code)}")


def load() -> Filter:
    """Build the jobs' filter; OSError (with what to do) where libseccomp is missing."""
    return Filter(build())


DESCRIPTION = "seccomp(libseccomp: namespaces, keyrings, ptrace, bpf, io_uring, ...: EPERM)"
