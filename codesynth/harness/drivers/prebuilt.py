# ruff: noqa: E501 - programs in other languages keep their own line lengths
"""The harness's own code for test blocks, compiled once per machine, outside any job.

What runs a test block and writes its completion evidence (``drivers/native``) is the same
text for every job. Compiled into each job it costs as much as the program itself: for Rust,
the generated ``main`` (``catch_unwind``, formatting, I/O) is ~140 ms of rustc's ~240 ms CPU
per sample; for C++, the wrapper's own translation unit loads the ~36 MB precompiled header
set a second time (~65 ms). So both are made here, once per machine, into ``PCH_ROOT``
(bound read-only into jobs; in the languages image, made when the runner image is built):

- C++: ``codesynth_wrapper.o``, a ``main`` that calls ``codesynth_entry`` and, when that
  returns 0, reads the nonce and writes the evidence. The job links it with
  ``-Wl,--defsym=codesynth_entry=NAME``, ``NAME`` being the block's ``main`` renamed per job
  (random, ``extern "C"``): a definition of ``codesynth_entry`` in the program does not
  change what the wrapper calls (the linker's ``--defsym`` takes precedence, both gold and
  bfd), and the program cannot name ``NAME``.
- Rust: ``libcodesynth_rt.rlib``, whose ``run`` runs the tests as libtest would; the job's
  ``main`` calls it as ``NAME::run`` with ``--extern NAME=...``, ``NAME`` random per job
  (no item of the program can have that name, and the program cannot know ``NAME`` to
  alias another crate, or itself, to it; no leading ``::``, which Rust 2015, MultiPL-E's
  edition, reads as the program's own root).

Each is keyed by the digest of its text and flags (and, for Rust, of the standard library's
file names, which change with every rustc build, so a stale rlib is never offered to a new
compiler). Where the file is missing, the job compiles the same text itself (slower, same
verdicts).
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os

from codesynth.languages import PCH_ROOT, SANDBOX_PATH

CPP_WRAPPER = r"""#include <stdio.h>
#include <string.h>
#include <unistd.h>
extern "C" int codesynth_entry(int, char**);
int main(int argc, char** argv) {
  int rc = codesynth_entry(argc, argv);
  char nonce[256] = {0};
  if (rc != 0 || !fgets(nonce, sizeof nonce, stdin)) return rc ? rc : 3;
  nonce[strcspn(nonce, "\r\n")] = 0;
  char line[400];
  int n = snprintf(line, sizeof line, "TEST\tmain\tok\t\nDONE\t%s\t0\n", nonce);
  if (n <= 0 || write(3, line, (size_t)n) != n) return 4;
  return 0;
}
"""
CPP_WRAPPER_FLAGS = ("-O0", "-pipe", "-c")

# (name, function, 0 plain | 1 should_panic | 2 ignored, expected panic text)
RUST_RUNTIME = r"""
fn panic_text(e: &Box<dyn std::any::Any + Send>) -> String {
    e.downcast_ref::<&str>().map(|s| s.to_string())
        .or_else(|| e.downcast_ref::<String>().cloned()).unwrap_or_default()
}

pub fn run(tests: &[(&str, fn(), u8, Option<&str>)]) {
    use std::io::Write;
    use std::os::unix::io::FromRawFd;
    let mut out = unsafe { std::fs::File::from_raw_fd(3) };
    let mut failures = 0;
    for &(name, test, kind, expected) in tests {
        if kind == 2 {
            let _ = writeln!(out, "TEST\t{}\tskip\t#[ignore]", name);
            continue;
        }
        let verdict: Result<(), String> = match (kind, std::panic::catch_unwind(test)) {
            (0, Ok(())) => Ok(()),
            (0, Err(e)) => Err(panic_text(&e)),
            (_, Ok(())) => Err("did not panic (#[should_panic])".to_string()),
            (_, Err(e)) => {
                let what = panic_text(&e);
                match expected {
                    Some(text) if !what.contains(text) => Err(format!(
                        "panicked with {:?}, not with a message containing {:?}", what, text)),
                    _ => Ok(()),
                }
            }
        };
        match verdict {
            Ok(()) => { let _ = writeln!(out, "TEST\t{}\tok\t", name); }
            Err(what) => {
                failures += 1;
                let _ = writeln!(out, "TEST\t{}\tfail\t{}", name, what.replace('\n', " ").replace('\t', " "));
            }
        }
    }
    let mut nonce = String::new();
    let _ = std::io::stdin().read_line(&mut nonce);
    let _ = writeln!(out, "DONE\t{}\t{}", nonce.trim(), failures);
    if failures > 0 { std::process::exit(101); }
}
"""
# as the test blocks are compiled (languages.RUST_NATIVE_COMPILE): debug, one unit, libstd
# linked dynamically; the panic strategy (unwind) is rustc's default on both sides
RUST_RUNTIME_FLAGS = ("--edition", "2021", "--crate-type", "rlib", "--crate-name",
                      "codesynth_rt", "-C", "opt-level=0", "-C", "debuginfo=0", "-C",
                      "prefer-dynamic", "-C", "codegen-units=1")
_RUST_STD = "/usr/lib/rustlib/*/lib/libstd-*"


def _key(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def cpp_wrapper_path(root: str = PCH_ROOT) -> str:
    return os.path.join(root, "prebuilt", _key(CPP_WRAPPER, *CPP_WRAPPER_FLAGS),
                        "codesynth_wrapper.o")


def rust_std_names() -> list[str]:
    """The file names of the Rust standard library (they change with every rustc build):
    part of the key of everything compiled against it; none where rustc is absent."""
    return sorted(os.path.basename(name) for name in glob.glob(_RUST_STD))


def rust_runtime_path(root: str = PCH_ROOT) -> str:
    return os.path.join(root, "prebuilt", _key(RUST_RUNTIME, *RUST_RUNTIME_FLAGS,
                                               *rust_std_names()), "libcodesynth_rt.rlib")


def available(path: str) -> str | None:
    """``path`` when the prepared file is there (made whole: see ``prepare``), else None."""
    return path if os.path.isfile(path) else None


def prepare(path: str = SANDBOX_PATH, root: str = PCH_ROOT) -> list[str]:
    """Make what is missing of the prebuilt harness for the toolchains on ``path``; the
    files there afterwards. Each is written under a temporary name and renamed, so a
    concurrent job never sees half a file; a missing toolchain or a read-only ``root`` only
    leaves the jobs compiling the text themselves."""
    import shutil
    import subprocess
    import tempfile

    made = []
    plans = []
    if shutil.which("g++", path=path):
        plans.append((cpp_wrapper_path(root), "codesynth_wrapper.cpp", CPP_WRAPPER,
                      ["g++", *CPP_WRAPPER_FLAGS, "codesynth_wrapper.cpp", "-o", "out"]))
    if shutil.which("rustc", path=path) and rust_std_names():
        plans.append((rust_runtime_path(root), "codesynth_rt.rs", RUST_RUNTIME,
                      ["rustc", *RUST_RUNTIME_FLAGS, "codesynth_rt.rs", "-o", "out"]))
    for target, source, text, argv in plans:
        if os.path.isfile(target):
            made.append(target)
            continue
        temporary = f"{target}.{os.getpid()}.tmp"
        try:
            os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
            for part in (os.path.dirname(os.path.dirname(target)), os.path.dirname(target)):
                os.chmod(part, 0o755)
            with tempfile.TemporaryDirectory() as work:
                with open(os.path.join(work, source), "w", encoding="utf-8") as handle:
                    handle.write(text)
                done = subprocess.run(argv, cwd=work, capture_output=True, timeout=300,
                                      check=False, env={"PATH": path, "HOME": work,
                                                        "LANG": "C.UTF-8"})
                if done.returncode != 0:
                    continue
                shutil.copyfile(os.path.join(work, "out"), temporary)
            os.chmod(temporary, 0o644)
            os.replace(temporary, target)
            made.append(target)
        except (OSError, subprocess.SubprocessError):
            with contextlib.suppress(OSError):
                os.unlink(temporary)
    from codesynth.harness.drivers import crates  # HumanEval-X's Rust crates (same rules)

    built = crates.prepare(path, root)
    return made + ([built] if built else [])


if __name__ == "__main__":  # the runner image's build: ``python3 -m ...drivers.prebuilt``
    print("\n".join(prepare()) or "nothing to prepare")
