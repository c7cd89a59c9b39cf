"""The runner's view of the filesystem: a read-only runtime and nothing else.

Built once per runner inside its private mount namespace: a tmpfs root holding read-only
binds of the system runtime (/usr, the libraries, the Python installation and its
site-packages) plus a synthetic /etc. The host's home, /tmp, /work, /sys and everything else
are simply absent. Each job later mounts its own /proc, /sandbox (its working directory),
/tmp and /dev/shm on top.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from dataclasses import dataclass

from codesynth.languages import etc_entries
from codesynth.sandbox import _linux as L

_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_ETC_ENTRIES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "ssl",
                "ca-certificates", "alternatives", "nsswitch.conf", "mime.types", "os-release",
                "debian_version", "python3", "python3.11", "python3.12", "python3.13")
_DEVICES = ("null", "zero", "full", "random", "urandom")
NEW_ROOT = "/tmp"  # a mount point that exists everywhere; hidden from the jobs afterwards
RUNNER_SCRATCH = "/.runner"  # the runner's own writable place (root only), never the jobs' /tmp


def _covered(path: str, chosen: list[str]) -> bool:
    return any(path == c or path.startswith(c.rstrip("/") + "/") for c in chosen)


def runtime_paths(extra: list[str]) -> list[str]:
    """Host directories that become visible (read-only) inside the sandbox."""
    chosen: list[str] = []
    for path in sorted({os.path.realpath(p) for p in extra if p and os.path.isdir(p)},
                       key=len):
        if not _covered(path, chosen):
            chosen.append(path)
    return chosen


def _mkdirs(root: str, path: str) -> str:
    target = root + path
    os.makedirs(target, mode=0o755, exist_ok=True)
    return target


_COPY_LIMIT = 1 << 20  # small regular files are copied: every mount makes each job slower
_TREE_LIMIT = 64 << 10  # larger /etc trees (ssl) are bound: quicker to start
_TREE_ENTRIES = 64  # so are trees of many entries (/etc/alternatives: a copy took 10 ms)


def _small_tree(path: str) -> bool:
    total = entries = 0
    for directory, subdirs, files in os.walk(path):
        entries += len(subdirs) + len(files)
        if entries > _TREE_ENTRIES:
            return False
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(directory, name)).st_size
            if total > _TREE_LIMIT:
                return False
    return True


@dataclass
class _Source:
    """What we know of a host path, read before the new root's tmpfs hides anything."""

    path: str
    info: os.stat_result
    link: str | None = None
    fd: int = -1
    small_tree: bool = False

    @classmethod
    def read(cls, path: str) -> _Source:
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            return cls(path, info, link=os.readlink(path))
        small = stat.S_ISDIR(info.st_mode) and path.startswith("/etc/") and _small_tree(path)
        return cls(path, info, fd=os.open(path, os.O_PATH), small_tree=small)

    @property
    def handle(self) -> str:
        return f"/proc/self/fd/{self.fd}"


def _place(root: str, source: _Source) -> None:
    """Put ``source`` (file, dir, symlink or device) at the same path under ``root``."""
    target = root + source.path
    mode = source.info.st_mode
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if source.link is not None:
        if not os.path.lexists(target):
            os.symlink(source.link, target)
        return
    if source.small_tree:
        shutil.copytree(source.handle, target, symlinks=True, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("private"))  # no keys in the sandbox
        return
    if stat.S_ISREG(mode) and source.info.st_size <= _COPY_LIMIT:
        with open(source.handle, "rb") as src, open(target, "wb") as dst:
            dst.write(src.read())
        os.chmod(target, 0o444)
        return
    if stat.S_ISCHR(mode) and os.getuid() == 0:
        try:
            os.mknod(target, 0o666 | stat.S_IFCHR, source.info.st_rdev)
            os.chmod(target, 0o666)
            return
        except OSError:
            pass  # e.g. inside a user namespace: bind it below
    if stat.S_ISDIR(mode):
        os.makedirs(target, mode=0o755, exist_ok=True)
    elif not os.path.exists(target):
        open(target, "a").close()
    if stat.S_ISCHR(mode):  # device nodes: usable (no nodev) and writable
        L.mount(source.handle, target, None, L.MS_BIND)
    else:
        L.bind_readonly(source.handle, target)


def build(extra_paths: list[str], uid: int, gid: int, hostname: str) -> list[str]:
    """Replace this mount namespace's root by the sandbox view (requires CAP_SYS_ADMIN).

    Returns the runtime paths that live under /tmp (a venv or a checkout there): each job
    mounts its private /tmp over them, so it binds them again (see ``_jobspace``)."""
    L.mount(None, "/", None, L.MS_REC | L.MS_PRIVATE)
    sources = [d for d in _SYSTEM_DIRS if os.path.lexists(d)]
    sources += [f"/etc/{e}" for e in _ETC_ENTRIES if os.path.lexists(f"/etc/{e}")]
    sources += etc_entries()  # the toolchains' own (codesynth/languages.py)
    sources += [p for p in runtime_paths(extra_paths) if not _covered(p, list(_SYSTEM_DIRS))]
    sources += [f"/dev/{d}" for d in _DEVICES if os.path.exists(f"/dev/{d}")]
    # Read every source first: the new root's tmpfs hides the host's /tmp.
    known = [_Source.read(path) for path in sources]
    root = NEW_ROOT
    # Not nodev: the device nodes made here must work. Nobody in a job can create one.
    L.mount("tmpfs", root, "tmpfs", L.MS_NOSUID, "mode=0755,size=16m")
    for source in known:
        _place(root, source)
        if source.fd >= 0:
            os.close(source.fd)
    for directory in ("/proc", "/tmp", "/sandbox", "/dev/shm", "/dev/mqueue", "/etc",
                      "/.oldroot", RUNNER_SCRATCH):
        _mkdirs(root, directory)
    os.chmod(root + RUNNER_SCRATCH, 0o700)
    os.symlink("/proc/self/fd", root + "/dev/fd")
    for index, name in enumerate(("stdin", "stdout", "stderr")):
        os.symlink(f"/proc/self/fd/{index}", f"{root}/dev/{name}")
    with open(root + "/etc/passwd", "w") as handle:
        handle.write(f"root:x:0:0:root:/root:/bin/sh\nsandbox:x:{uid}:{gid}::/tmp:/bin/sh\n")
    with open(root + "/etc/group", "w") as handle:
        handle.write(f"root:x:0:\nsandbox:x:{gid}:\n")
    with open(root + "/etc/hostname", "w") as handle:
        handle.write(hostname + "\n")
    with open(root + "/etc/hosts", "w") as handle:
        handle.write(f"127.0.0.1 localhost {hostname}\n::1 localhost\n")
    os.chmod(root + "/tmp", 0o1777)
    # Mounted while the host's /proc is still visible: inside a user namespace the kernel
    # allows a new proc mount only then.
    L.mount("proc", root + "/proc", "proc", L.MS_NOSUID | L.MS_NODEV | L.MS_NOEXEC)
    L.pivot_root(root, root + "/.oldroot")
    os.chdir("/")
    L.umount("/.oldroot", L.MNT_DETACH)
    os.rmdir("/.oldroot")
    L.mount(None, "/", None, L.MS_BIND | L.MS_REMOUNT | L.MS_RDONLY | L.MS_NOSUID)
    return [s.path for s in known if s.link is None and stat.S_ISDIR(s.info.st_mode)
            and s.path.startswith("/tmp/")]
