"""Per-machine caches of the toolchains, made once and bound read-only into the jobs
(``PCH_ROOT``; in the languages image, made by its Dockerfile): C++'s precompiled
``bits/stdc++.h``, a GOCACHE with Debian's testify built (Go's native tests) and javac's
class archive. Each is only a speed-up: a job works without it."""

from __future__ import annotations

from codesynth.languages import (
    _JVM_FLAGS,
    CPP,
    CPP_FLAGS,
    GO,
    GO_TEST_CACHE,
    GO_TEST_GOPATH,
    JAVAC_CDS,
    PCH_DIR,
    PCH_ROOT,
    SANDBOX_PATH,
    max_ram,
    toolchain,
)

_GO_WARM = """package warm

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestWarm(t *testing.T) { assert.New(t).Equal(1, 1) }
"""


def prepare_go_test_cache(path: str = SANDBOX_PATH) -> str | None:
    """A GOCACHE in which ``testing`` and Debian's testify are already built, copied into a
    job's own cache before ``go test -c`` (else every job builds testify: ~30 s). Made once
    per machine under ``PCH_ROOT`` (bound read-only, like the PCH); None where go or testify
    is absent or the directory is not writable."""
    import os
    import shutil
    import subprocess
    import tempfile

    go = shutil.which("go", path=path)
    version = toolchain(GO, path) if go else None
    if go is None or version is None or not os.path.isdir(
            f"{GO_TEST_GOPATH}/src/github.com/stretchr/testify"):
        return None
    stamp = os.path.join(GO_TEST_CACHE, "codesynth-stamp")
    try:
        with open(stamp) as handle:
            if handle.read() == version:
                return GO_TEST_CACHE
    except OSError:
        pass
    try:
        os.makedirs(PCH_ROOT, mode=0o755, exist_ok=True)
        cache = tempfile.mkdtemp(dir=PCH_ROOT, prefix=".go-cache-")
        with tempfile.TemporaryDirectory() as work:
            with open(os.path.join(work, "warm_test.go"), "w") as handle:
                handle.write(_GO_WARM)
            done = subprocess.run([go, "test", "-c", "-o", os.devnull, "."], cwd=work,
                                  capture_output=True, timeout=600, check=False,
                                  env={**GO.env, "GOCACHE": cache, "PATH": path,
                                       "HOME": work, "GOPATH": f"{work}/go:{GO_TEST_GOPATH}"})
        if done.returncode != 0:
            shutil.rmtree(cache, ignore_errors=True)
            return None
        with open(os.path.join(cache, "codesynth-stamp"), "w") as handle:
            handle.write(version)
        subprocess.run(["chmod", "-R", "a+rX", cache], check=False, timeout=60)
        shutil.rmtree(GO_TEST_CACHE, ignore_errors=True)
        os.rename(cache, GO_TEST_CACHE)
    except (OSError, subprocess.SubprocessError):
        return None
    return GO_TEST_CACHE


def prepare_javac_cds(path: str = SANDBOX_PATH) -> str | None:
    """Dump ``JAVAC_CDS`` (javac's loaded classes) once per machine; None where javac is
    absent or the directory is not writable (javac then starts without it)."""
    import os
    import shutil
    import subprocess
    import tempfile

    javac = shutil.which("javac", path=path)
    if javac is None or os.path.exists(JAVAC_CDS):
        return JAVAC_CDS if javac else None
    try:
        with tempfile.TemporaryDirectory() as work:
            with open(os.path.join(work, "Main.java"), "w") as handle:
                handle.write("import java.util.*;\npublic class Main { public static void "
                             "main(String[] a) { System.out.println(new ArrayList<>(List.of(1)));"
                             " } }\n")
            temporary = os.path.join(os.path.dirname(JAVAC_CDS), ".javac.jsa.tmp")
            flags = [f"-J{flag.format(max_ram=max_ram())}" for flag in _JVM_FLAGS]
            done = subprocess.run([javac, *flags, f"-J-XX:ArchiveClassesAtExit={temporary}",
                                   "-d", work, os.path.join(work, "Main.java")], cwd=work,
                                  capture_output=True, timeout=300, check=False)
        if done.returncode != 0 or not os.path.exists(temporary):
            return None
        os.chmod(temporary, 0o644)
        os.replace(temporary, JAVAC_CDS)
    except (OSError, subprocess.SubprocessError):
        return None
    return JAVAC_CDS


def prepare_pch(path: str = SANDBOX_PATH) -> str | None:
    """Make (or keep) the precompiled ``bits/stdc++.h`` of ``PCH_DIR`` for this machine's
    g++; returns ``PCH_ROOT``, or None where g++ is absent or the directory is not writable
    (C++ then compiles without it). Rebuilt when ``g++ --version`` changes; written to a
    temporary name and renamed, so concurrent callers never see half a file."""
    import glob
    import os
    import shutil
    import subprocess
    import tempfile

    compiler = shutil.which("g++", path=path)
    version = toolchain(CPP, path) if compiler else None
    headers = sorted(glob.glob("/usr/include/*/c++/*/bits/stdc++.h"))
    if compiler is None or version is None or not headers:
        return None
    target = os.path.join(PCH_DIR, "bits", "stdc++.h.gch")
    stamp = os.path.join(PCH_DIR, "stamp")
    try:
        with open(stamp) as handle:
            if handle.read() == version and os.path.exists(target):
                prepare_go_test_cache(path)
                prepare_javac_cds(path)
                return PCH_ROOT
    except OSError:
        pass
    try:
        os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
        for directory in (PCH_ROOT, PCH_DIR, os.path.dirname(target)):
            os.chmod(directory, 0o755)
        fd, temporary = tempfile.mkstemp(dir=os.path.dirname(target), suffix=".tmp")
        os.close(fd)
        done = subprocess.run([compiler, *CPP_FLAGS, "-x", "c++-header", headers[-1], "-o",
                               temporary], capture_output=True, timeout=300, check=False)
        if done.returncode != 0:
            os.unlink(temporary)
            return None
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
        with open(stamp, "w") as handle:
            handle.write(version)
        os.chmod(stamp, 0o644)
    except (OSError, subprocess.SubprocessError):
        return None
    prepare_go_test_cache(path)
    prepare_javac_cds(path)
    return PCH_ROOT
