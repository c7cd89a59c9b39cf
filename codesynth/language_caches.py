"""Per-machine caches of the toolchains, made once and bound read-only into the jobs
(``PCH_ROOT``; in the languages image, made by its Dockerfile): C++'s precompiled
``bits/stdc++.h`` and header sets (``cpp_headers``), a GOCACHE with Debian's testify built
(Go's native tests) and javac's class archive. Each is only a speed-up: a job works
without it."""

from __future__ import annotations

import contextlib

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
    """Dump ``JAVAC_CDS`` once per machine: a static archive of the classes javac loads
    compiling a small program (listed by a first run, then ``-Xshare:dump``); None where
    javac is absent or the directory is not writable (javac then starts without it)."""
    import os
    import shutil
    import subprocess
    import tempfile

    javac, java = shutil.which("javac", path=path), shutil.which("java", path=path)
    if javac is None or java is None or os.path.exists(JAVAC_CDS):
        return JAVAC_CDS if javac and os.path.exists(JAVAC_CDS) else None
    flags = [flag.format(max_ram=max_ram()) for flag in _JVM_FLAGS if flag != "-Xshare:auto"]
    try:
        with tempfile.TemporaryDirectory() as work:
            with open(os.path.join(work, "Main.java"), "w") as handle:
                handle.write(_JAVA_WARM)
            listed = os.path.join(work, "classes.lst")
            done = subprocess.run([javac, *(f"-J{flag}" for flag in flags), "-J-Xshare:off",
                                   f"-J-XX:DumpLoadedClassList={listed}", "-encoding", "UTF-8",
                                   "-d", work, os.path.join(work, "Main.java")], cwd=work,
                                  capture_output=True, timeout=300, check=False)
            if done.returncode != 0 or not os.path.exists(listed):
                return None
            temporary = os.path.join(os.path.dirname(JAVAC_CDS), ".javac-static.jsa.tmp")
            done = subprocess.run([java, *flags, "-Xshare:dump", f"-XX:SharedClassListFile="
                                   f"{listed}", f"-XX:SharedArchiveFile={temporary}",
                                   "--add-modules", "jdk.compiler"], cwd=work,
                                  capture_output=True, timeout=300, check=False)
        if done.returncode != 0 or not os.path.exists(temporary):
            return None
        os.chmod(temporary, 0o644)
        os.replace(temporary, JAVAC_CDS)
    except (OSError, subprocess.SubprocessError):
        return None
    return JAVAC_CDS


# What javac compiles while its classes are listed: the shapes of HumanEval-X's Java
# (generics, lambdas, streams, a nested class, reflection) load most of javac's phases.
_JAVA_WARM = """import java.util.*;
import java.util.stream.*;
import java.lang.reflect.*;

class Solution {
    public List<Integer> f(List<Integer> xs, String s, Map<String, Integer> m) {
        List<Integer> out = new ArrayList<>();
        for (int x : xs) if (x % 2 == 0) out.add(x * 2);
        out.sort(Comparator.comparing((Integer v) -> -v));
        return xs.stream().filter(v -> v > 0).map(v -> v + s.length()).collect(Collectors.toList());
    }
}
public class Main {
    static class Pair<A, B> { A a; B b; Pair(A a, B b) { this.a = a; this.b = b; } }
    public static void main(String[] args) throws Exception {
        Solution s = new Solution();
        List<Boolean> correct = Arrays.asList(s.f(new ArrayList<>(Arrays.asList(1, 2)), "x",
            new HashMap<>()).equals(Arrays.asList(2, 3)), new Pair<>(1, "a").a == 1);
        Method m = Class.forName("Main").getMethod("main", String[].class);
        if (correct.contains(false) || m == null) throw new AssertionError(String.format("%d", 1));
    }
}
"""


def prepare_cpp_sets(path: str = SANDBOX_PATH) -> str | None:
    """The precompiled header sets of ``cpp_headers`` (each ``SET.h`` and its ``.gch`` for
    every prepared flag set), made once per machine and rebuilt when g++ changes; the
    directory, or None where g++ is absent or it is not writable."""
    import os
    import shutil
    import subprocess
    import tempfile

    from codesynth.harness.cpp_headers import PREPARED, header_text, set_header

    compiler = shutil.which("g++", path=path)
    version = toolchain(CPP, path) if compiler else None
    if compiler is None or version is None:
        return None
    made = None
    for name, flags in PREPARED:
        header = set_header(name, flags)
        directory = os.path.dirname(header)
        stamp = header + ".stamp"
        try:
            with open(stamp) as handle, open(header) as text:
                if handle.read() == version and text.read() == header_text(name) and \
                        os.path.exists(header + ".gch"):
                    made = os.path.dirname(directory)
                    continue
        except OSError:
            pass
        try:
            os.makedirs(directory, mode=0o755, exist_ok=True)
            for part in (os.path.dirname(directory), directory):
                os.chmod(part, 0o755)
            fd, temporary = tempfile.mkstemp(dir=directory, suffix=".h")
            with os.fdopen(fd, "w") as handle:
                handle.write(header_text(name))
            done = subprocess.run([compiler, *flags, "-pipe", "-x", "c++-header",
                                   temporary, "-o", temporary + ".gch"],
                                  capture_output=True, timeout=300, check=False)
            if done.returncode != 0:
                for leftover in (temporary, temporary + ".gch"):
                    with contextlib.suppress(OSError):
                        os.unlink(leftover)
                continue
            for made_file in (temporary, temporary + ".gch"):
                os.chmod(made_file, 0o644)
            os.replace(temporary + ".gch", header + ".gch")
            os.replace(temporary, header)
            with open(stamp, "w") as handle:
                handle.write(version)
            os.chmod(stamp, 0o644)
            made = os.path.dirname(directory)
        except (OSError, subprocess.SubprocessError):
            continue
    return made


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
                _prepare_others(path)
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
    _prepare_others(path)
    return PCH_ROOT


def _prepare_others(path: str) -> None:
    from codesynth.harness.drivers import prebuilt

    prebuilt.prepare(path)
    prepare_go_test_cache(path)
    prepare_javac_cds(path)
    prepare_cpp_sets(path)
