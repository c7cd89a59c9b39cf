"""A portable build of llama-cpp-python, made once when the installed one cannot run here.

llama-cpp-python ships as source on PyPI, and its default build compiles ggml with
``-march=native``: the library then uses every instruction the *building* CPU advertises. A
wheel built on another machine (a reused pip cache, a shared venv) or on a CPU that advertises
AMX while the hypervisor does not enable it dies with SIGILL in its first generation. The
README's install builds it with ``GGML_NATIVE=OFF`` (AVX2/FMA/F16C kept), but a pip cache that
already holds a native wheel hands that wheel back. So when the embedded server dies of SIGILL,
codesynth builds the same release with ``GGML_NATIVE=OFF`` into its own cache directory, once,
and starts the server from there (``PYTHONPATH``); the user's environment is left as it is.

``CODESYNTH_EMBEDDED_REBUILD=0`` turns the rebuild off (the error then says how to do it).
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from codesynth.errors import ModelUnavailable

PACKAGE = "llama-cpp-python"
CMAKE_ARGS = "-DGGML_NATIVE=OFF"
BUILD_TIMEOUT = 3600.0  # seconds: two cores take ~6 minutes
FIX = (f'CMAKE_ARGS="{CMAKE_ARGS}" pip install --force-reinstall --no-deps --no-cache-dir '
       f"--no-binary {PACKAGE} {PACKAGE}")


def cmake_args(cpuinfo: str | None = None) -> str:
    """``GGML_NATIVE=OFF`` keeps ggml's default x86-64 set (AVX, AVX2, FMA, F16C); a CPU that
    lacks one of them gets a build without it."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            cpuinfo = ""
    flags = set()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags = set(line.partition(":")[2].split())
            break
    args = [CMAKE_ARGS]
    if flags:  # not x86 (or unreadable): ggml's own defaults for the architecture
        args += [f"-DGGML_{name.upper()}=OFF" for name in ("avx", "avx2", "fma", "f16c")
                 if name not in flags]
    return " ".join(args)


def installed_version() -> str | None:
    try:
        return importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return None


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "codesynth" / "llama-cpp-portable"


def location(version: str) -> Path:
    tag = f"cp{sys.version_info.major}{sys.version_info.minor}"
    return cache_root() / f"{version}-{tag}"


def rebuild_allowed() -> bool:
    return os.environ.get("CODESYNTH_EMBEDDED_REBUILD", "1") not in ("0", "false", "no")


def existing() -> Path | None:
    """The portable copy of the installed release, if one was built before."""
    version = installed_version()
    if version is None:
        return None
    path = location(version)
    return path if (path / "llama_cpp").is_dir() else None


def build(report: Callable[[str], None], timeout: float = BUILD_TIMEOUT) -> Path:
    """Build the installed release portably into the cache (or return the copy built
    before). Raises :class:`ModelUnavailable` with the build log's tail when it fails."""
    version = installed_version()
    if version is None:
        raise ModelUnavailable(f"{PACKAGE} is not installed: pip install '{PACKAGE}[server]'")
    target = location(version)
    if (target / "llama_cpp").is_dir():
        return target
    staging = target.with_name(target.name + f".building-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    log = staging.with_suffix(".log")
    command = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-cache-dir",
               "--no-binary", PACKAGE, "--target", str(staging), f"{PACKAGE}=={version}"]
    env = {**os.environ, "CMAKE_ARGS": cmake_args(), "FORCE_CMAKE": "1"}
    report(f"building a portable {PACKAGE} {version} once, into {target} "
           f"(several minutes; log: {log})")
    started = time.monotonic()
    with log.open("wb") as sink:
        try:
            done = subprocess.run(command, stdout=sink, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, env=env, timeout=timeout,
                                  check=False)
        except subprocess.TimeoutExpired:
            shutil.rmtree(staging, ignore_errors=True)
            raise ModelUnavailable(f"the portable build of {PACKAGE} took more than "
                                   f"{timeout:g} s (log: {log}); build it yourself: "
                                   f"{FIX}") from None
    if done.returncode != 0 or not (staging / "llama_cpp").is_dir():
        shutil.rmtree(staging, ignore_errors=True)
        tail = log.read_text(errors="replace").strip().splitlines()[-15:]
        raise ModelUnavailable(f"the portable build of {PACKAGE} failed (exit "
                               f"{done.returncode}; log: {log}):\n" + "\n".join(tail)
                               + f"\nbuild it yourself: {FIX}")
    try:
        os.replace(staging, target)
    except OSError:  # another run built it meanwhile: theirs is as good as ours
        shutil.rmtree(staging, ignore_errors=True)
        if not (target / "llama_cpp").is_dir():
            raise
    report(f"portable {PACKAGE} built in {time.monotonic() - started:.0f} s")
    return target
