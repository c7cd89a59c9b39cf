"""Languages a program may be written in: each declares its toolchain and how to build and run.

A language is plain data (:class:`Language`): the binaries it needs, the command that prints
their version, the file the program is written to, the command that compiles it (or checks
it, or none), the command that runs it, and the test styles it supports. Languages are found
by name through ``codesynth.registry.languages`` (entry-point group ``codesynth.languages``),
like sandboxes, generators and benchmarks.

Python is the sandbox's own language (the judged process runs it in-process and every test
style works). Every other language runs in the ``stdio`` form: the judged process builds the
program once, inside the job (same limits, same uid, same namespaces), and runs the built
command once per case; the runner keeps the expected outputs and compares (see
``harness/compiled.py``).

Per-language defaults (all inside the job's own limits, which stay the user's):

- ``cpp``: ``g++ -std=c++17 -O2`` (portable: no ``-march=native``), linked by gold where
  installed; test blocks (``native``) at -O0 with their leading standard headers precompiled
  (``cpp_headers``).
- ``go``: ``go build`` (no ``-trimpath``: it would rebuild the standard library, 13 s) in
  GOPATH mode (``GO111MODULE=off``, ``GOPROXY=off``, ``CGO_ENABLED=0``),
  with its build cache in the job's own ``/tmp`` (``GOCACHE``): nothing is shared between jobs.
- ``rust``: ``rustc --edition 2021 -O -C strip=debuginfo``, gold (unstripped, a hello world is
  11.6 MB: past a file-size limit of 8 MiB the link fails; stripped, 0.46 MB).
- ``java``: ``javac``/``java`` with ``-XX:+UseSerialGC -XX:TieredStopAtLevel=1
  -XX:CICompilerCount=1 -Xshare:auto``: a JVM of ~20 threads starts in the default 64
  processes and 1 GiB. The file is named after the top-level ``public class`` (``Main`` if
  none); the class run is the top-level class that declares ``main``, with its package
  (comments, strings and nested classes are skipped: ``java_source``).
- A runtime that starts per case (a JVM, node) adds its start-up CPU (``case_cpu``) per case
  to the job's CPU budget: the verdict does not depend on how many cases a problem has.
- ``javascript``: ``node --check`` (syntax errors are ``error``), then ``node``.
- ``typescript``: ``tsc --target es2022 --lib es2022 --noEmitOnError`` with a small ambient
  declaration of node's globals (``process``, ``require``, ``console``...), every module
  (``import * as fs from "fs"`` is ``any``), ``Buffer`` and ``NodeJS`` types (no
  ``@types/node`` in Debian), then ``node``. A type error is a compile error, as in MultiPL-E.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_NODE_GLOBALS = """\
declare module "*";
type Buffer = any;
declare namespace NodeJS {
  type Timeout = any; type Timer = any; type Immediate = any; type ErrnoException = any;
  type ReadableStream = any; type WritableStream = any; type Process = any;
}
declare var process: any;
declare var require: any;
declare var module: any;
declare var exports: any;
declare var Buffer: any;
declare var console: any;
declare var __dirname: string;
declare var __filename: string;
declare function setTimeout(handler: any, timeout?: number, ...args: any[]): any;
declare function clearTimeout(handle: any): void;
declare function setInterval(handler: any, timeout?: number, ...args: any[]): any;
declare function clearInterval(handle: any): void;
"""

# MaxRAM: what the JVM sizes its heap from. Under a memory cgroup the JVM reads the limit
# itself; under an address-space rlimit (no cgroup: an unprivileged host) it would reserve
# more than the limit (1 GiB of class space alone) and not start, so ``{max_ram}`` is half
# the rlimit there. Under an rlimit the JVM needs --memory-mb >= 512 (it reserves address
# space far beyond what it uses: javac fails at 384).
_JVM_FLAGS = ("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1",
              "-Xshare:auto", "-XX:CompressedClassSpaceSize=32m",
              "-XX:ReservedCodeCacheSize=32m", "-XX:MaxRAM={max_ram}")


@dataclass(frozen=True)
class Language:
    """How one language's programs are built and run inside a job.

    In the commands, ``{source}`` is the source file's name and ``{main}`` the name the
    program's entry point has (Java's public class); both run in the job's working
    directory."""

    name: str
    source: str  # file name the program is written to
    run: tuple[str, ...]
    binaries: tuple[str, ...]  # what must exist on PATH for the toolchain to be usable
    version: tuple[str, ...]  # prints the toolchain's version (first line is kept)
    compile: tuple[str, ...] | None = None  # None: nothing to build
    env: dict[str, str] = field(default_factory=dict)  # added to the job's environment
    support_files: dict[str, str] = field(default_factory=dict)  # written beside the source
    test_styles: tuple[str, ...] = ("assert", "humaneval", "native", "stdio")
    error_line: str = ""  # regex with groups ``line`` and ``message`` on the compiler's output
    etc: tuple[str, ...] = ()  # globs of /etc entries the toolchain reads (made visible)
    # CPU seconds the runtime spends starting before each case's first line (a JVM, node),
    # added to the job's CPU budget per case (see sandbox/_runner_support.startup_cpu)
    case_cpu: float = 0.0

    def main_name(self, code: str) -> str:
        """The source file's stem (Java: the top-level public class), used in ``{main}``."""
        if self.name == "java":
            from codesynth.java_source import public_class

            return public_class(code) or "Main"
        return "solution"

    def entry_name(self, code: str) -> str:
        """What is run (Java: the top-level class with ``main``, with its package), used in
        ``{entry}``."""
        if self.name == "java":
            from codesynth.java_source import main_class

            return main_class(code) or self.main_name(code)
        return self.main_name(code)

    def located_error(self, output: str) -> bool:
        """Whether the compiler's output names an error in the program's own source: then the
        build failed because of the program, whatever else the output says."""
        return bool(self.error_line) and re.search(self.error_line, output, re.MULTILINE) \
            is not None

    def source_name(self, code: str) -> str:
        return self.source.format(main=self.main_name(code))

    def command(self, argv: tuple[str, ...], code: str) -> list[str]:
        """``argv`` with its placeholders filled; ``{crates}`` (a whole argument) becomes
        rustc's arguments for the prebuilt crates (``harness/drivers/crates``), or nothing."""
        out: list[str] = []
        for part in argv:
            if part == "{crates}":
                from codesynth.harness.drivers.crates import flags

                out += flags()
                continue
            out.append(part.format(source=self.source_name(code), main=self.main_name(code),
                                   entry=self.entry_name(code), max_ram=max_ram(),
                                   javac_cds=javac_cds(), ld=linker()))
        return out

    def first_error(self, output: str) -> tuple[str, int | None]:
        """The compiler's first message and its line (None when it names none)."""
        found = re.search(self.error_line, output, re.MULTILINE) if self.error_line else None
        if found is not None:
            line = found.groupdict().get("line")
            return found.group("message").strip()[:2000], int(line) if line else None
        lines = [text.strip() for text in output.splitlines() if text.strip()]
        number = re.search(r":(\d+)(?::\d+)?[:)]", output)
        return (lines[0][:2000] if lines else "the build failed"), \
            (int(number.group(1)) if number else None)


def linker() -> str:
    """The ``-fuse-ld=`` g++ and rustc's link step use: gold where installed, else bfd."""
    import os

    return "-fuse-ld=gold" if os.path.exists("/usr/bin/ld.gold") else "-fuse-ld=bfd"


def max_ram() -> int:
    """Bytes a runtime may size itself from: half the address-space rlimit when one is set,
    else the machine's memory (a memory cgroup, when there is one, is read by the runtime)."""
    import os
    import resource

    soft = resource.getrlimit(resource.RLIMIT_AS)[0]
    if soft != resource.RLIM_INFINITY:
        return max(64 << 20, soft // 2)
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def javac_cds() -> str:
    """The JVM flag that maps javac's class archive; none under an address-space rlimit
    (the archive's mappings leave javac too little room there to start its threads)."""
    import resource

    if resource.getrlimit(resource.RLIMIT_AS)[0] != resource.RLIM_INFINITY:
        return "-Xshare:auto"
    return f"-XX:SharedArchiveFile={JAVAC_CDS}"


PYTHON = Language(name="python", source="solution.py", run=("python3", "{source}"),
                  binaries=("python3",), version=("python3", "--version"),
                  test_styles=("assert", "humaneval", "pytest", "stdio"))

JAVASCRIPT = Language(
    name="javascript", source="solution.js", compile=("node", "--check", "{source}"),
    run=("node", "{source}"), binaries=("node",), version=("node", "--version"),
    case_cpu=0.1,  # node starts in ~0.05 s of CPU here
    # node --check: "solution.js:3\n<code>\n  ^\n\nSyntaxError: Unexpected token"
    error_line=r"^(?:\S*/)?solution\.js:(?P<line>\d+)\n(?:.*\n)*?(?P<message>\w*Error: .*)$")

TYPESCRIPT = Language(
    name="typescript", source="solution.ts",
    compile=("tsc", "--target", "es2022", "--lib", "es2022", "--module", "commonjs",
             "--noEmitOnError", "--pretty", "false", "{source}", "codesynth-node.d.ts"),
    run=("node", "solution.js"), binaries=("tsc", "node"), version=("tsc", "--version"),
    case_cpu=0.1,
    support_files={"codesynth-node.d.ts": _NODE_GLOBALS},
    error_line=r"^solution\.ts\((?P<line>\d+),\d+\): (?P<message>error .*)$")

# A precompiled <bits/stdc++.h> for CPP's flags, made once per machine (``prepare_pch``; in
# the languages image, by its Dockerfile) and bound read-only into the local sandbox. g++ uses
# it when valid (same compiler, same flags) and silently reads the header otherwise; an
# include directory that does not exist is ignored.
PCH_ROOT = "/var/cache/codesynth/pch"
CPP_FLAGS = ("-std=c++17", "-O2", "-pipe")
PCH_DIR = f"{PCH_ROOT}/cpp17-O2"

# HumanEval-X's and MultiPL-E's test blocks (``native``): their harnesses' optimisation (none:
# -O0; C++17 as MultiPL-E's, which HumanEval-X's C++11 programs compile under), and the
# program's leading standard headers precompiled where a prepared set matches
# (``cpp_headers``). ``{ld}``: gold where installed (links in a third of bfd's time).
CPP_NATIVE_FLAGS = ("-std=c++17", "-O0", "-pipe")
CPP_NATIVE_COMPILE = ("g++", *CPP_NATIVE_FLAGS, "{ld}", "-o", "solution", "{source}")

CPP = Language(
    name="cpp", source="solution.cpp",
    compile=("g++", *CPP_FLAGS, "{ld}", "-I", PCH_DIR, "-o", "solution", "{source}"),
    run=("./solution",), binaries=("g++",), version=("g++", "--version"),
    error_line=r"^solution\.cpp:(?P<line>\d+):\d+: (?P<message>(?:fatal )?error: .*)$")

GO = Language(
    name="go", source="main.go",
    compile=("go", "build", "-o", "solution", "{source}"),
    run=("./solution",), binaries=("go",), version=("go", "version"),
    env={"GOCACHE": "/tmp/go-cache", "GOPATH": "/tmp/go", "GO111MODULE": "off",
         "GOPROXY": "off", "CGO_ENABLED": "0", "GOFLAGS": "", "GOTELEMETRY": "off"},
    error_line=r"^(?:\./)?main\.go:(?P<line>\d+):(?:\d+:)? (?P<message>.*)$")

# Rust's test blocks (``native``): a debug build as ``cargo test``'s profile; libstd linked
# dynamically (Debian's libstd-rust .so, on the jobs' library path), one codegen unit and
# gold: ~35 % less compile CPU than a static, 16-unit, bfd link of the same program.
RUST_NATIVE_COMPILE = ("rustc", "--edition", "2021", "--cfg", "test", "-C", "opt-level=0",
                       "-C", "debuginfo=0", "-C", "strip=debuginfo", "-C", "prefer-dynamic",
                       "-C", "codegen-units=1", "-C", "link-arg={ld}", "{crates}", "-o",
                       "solution", "{source}")

RUST = Language(
    name="rust", source="main.rs",
    compile=("rustc", "--edition", "2021", "-O", "-C", "strip=debuginfo",
             "-C", "link-arg={ld}", "{crates}", "-o", "solution", "{source}"),  # gold: -11 % CPU
    run=("./solution",), binaries=("rustc",), version=("rustc", "--version"),
    error_line=r"^(?P<message>error(?:\[E\d+\])?: .*)\n\s*--> main\.rs:(?P<line>\d+):\d+")

# javac's classes archived once per machine (``language_caches``; in the languages image by
# its Dockerfile), read-only beside the PCH: a *static* archive (the JDK's own classes.jsa,
# which a dynamic archive needs, is stale on some hosts after a JDK update: then nothing was
# shared at all); javac runs in ~60 % of the CPU time. A missing or stale archive is ignored
# by the JVM (-Xshare:auto).
JAVAC_CDS = "/var/cache/codesynth/pch/javac-static.jsa"
JAVAC_FLAGS = (*(f"-J{flag}" for flag in _JVM_FLAGS), "-J{javac_cds}", "-encoding", "UTF-8")
# javatuples (Debian's libjavatuples-java) on every Java class path: MultiPL-E's Java prompts
# all import org.javatuples.* and its harness puts the jar on javac's and java's class path
# (a path that does not exist is ignored by both).
JAVATUPLES_JAR = "/usr/share/java/javatuples.jar"
JAVA_CLASS_PATH = f".:{JAVATUPLES_JAR}"

JAVA = Language(
    name="java", source="{main}.java",
    compile=("javac", *JAVAC_FLAGS, "-cp", JAVA_CLASS_PATH, "-d", ".", "{source}"),
    run=("java", *_JVM_FLAGS, "-cp", JAVA_CLASS_PATH, "{entry}"), binaries=("javac", "java"),
    case_cpu=0.2,  # a JVM starts in ~0.05 s of CPU here (more on a loaded machine)
    env={"MALLOC_ARENA_MAX": "2"},  # each glibc arena reserves 64 MiB of address space
    version=("javac", "-version"), etc=("/etc/java-*",),
    error_line=r"^\w+\.java:(?P<line>\d+): (?P<message>error: .*)$")

BUILTIN = {lang.name: lang for lang in (PYTHON, JAVASCRIPT, TYPESCRIPT, CPP, GO, RUST, JAVA)}

SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin"  # the jobs' PATH (see sandbox/_job.py)


def toolchain(language: Language, path: str = SANDBOX_PATH) -> str | None:
    """``"<language> <first line of the version command>"``, or None when a binary is
    missing from ``path`` (the sandbox's PATH: a toolchain elsewhere is not one jobs see)."""
    import shutil
    import subprocess

    if any(shutil.which(binary, path=path) is None for binary in language.binaries):
        return None
    executable = shutil.which(language.version[0], path=path)
    try:
        done = subprocess.run([executable or language.version[0], *language.version[1:]],
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=30,
                              env={"PATH": path, "HOME": "/tmp", "LANG": "C.UTF-8"})
    except (OSError, subprocess.SubprocessError):
        return None
    text = (done.stdout or done.stderr).decode("utf-8", "replace").strip()
    first = text.splitlines()[0].strip() if text else "unknown version"
    return f"{language.name}: {first}"[:200]


def etc_entries() -> list[str]:
    """The /etc entries every known toolchain reads (e.g. the JDK's security files)."""
    import glob

    return sorted({path for language in BUILTIN.values() for pattern in language.etc
                   for path in glob.glob(pattern)})


GO_TEST_CACHE = f"{PCH_ROOT}/go-test-cache"  # GOCACHE with testify built (native Go tests)
GO_TEST_GOPATH = "/usr/share/gocode"  # Debian's Go libraries
def prepare_pch(path: str = SANDBOX_PATH) -> str | None:
    """The per-machine caches the toolchains read (``language_caches``): returns
    ``PCH_ROOT`` when the precompiled header is there, else None."""
    from codesynth.language_caches import prepare_pch as prepare

    return prepare(path)
