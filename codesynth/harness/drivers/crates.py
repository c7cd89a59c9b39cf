"""The Rust crates HumanEval-X's programs import, built once per machine, outside any job.

Every Rust problem of HumanEval-X declares ``use rand::Rng; use regex::Regex; use md5;``, and
its harness builds each sample in a Cargo project whose ``Cargo.toml`` depends on ``rand``,
``regex`` and ``md5``. Without those crates, rustc refuses every such program (``unresolved
import``), the right ones included. So they are built here, once, into ``PCH_ROOT`` (bound
read-only into jobs; in the languages image, made when the runner image is built), and
every Rust compile is given them: ``-L dependency=DIR --extern rand=... --extern regex=...
--extern md5=...`` (the ``{crates}`` argument of the Rust commands in ``languages``). A
program that names none of them pays nothing for them (rustc loads an extern crate only
when a path names it).

The sources are Debian's (``librust-rand-dev``, ``librust-regex-dev``, ``librust-md5-dev``
in ``/usr/share/cargo/registry``; no network): rand 0.8, regex 1, md5 0.7. HumanEval-X's
``Cargo.toml`` asks for rand 0.4, whose API differs from 0.8's in a few calls
(``gen_range(a, b)`` there, ``gen_range(a..b)`` here); its solutions and tests use none of
them. Cargo builds them offline with Debian's ``rustc`` (the jobs' compiler), with ``cargo
test``'s checks (debug assertions, overflow checks), at ``opt-level=1``, one codegen unit
each, without debug info. Measured with rustc's own pass timings: a program that only
imports them linked in ~70 ms against cargo's debug build of the crates (gold reading their
many objects), ~35 here; one that uses regex and rand's generics compiled in ~300 ms, ~250
here (``opt-level`` 1 still shares the crates' generic instances with the program, which
``opt-level=2`` does not: there it took ~400 ms). The directory is keyed by the crates'
sources and the standard library's file names (a new rustc gets new ones: its crates are
never mixed with an older build's), and made under a temporary name, then renamed whole.
"""

from __future__ import annotations

import functools
import glob
import hashlib
import json
import os

from codesynth.harness.drivers.prebuilt import rust_std_names
from codesynth.languages import PCH_ROOT, SANDBOX_PATH

REGISTRY = "/usr/share/cargo/registry"
# name in the program -> (Debian's source directory prefix, the version asked for)
CRATES = {"rand": ("rand-0.8", "0.8"), "regex": ("regex-1.", "1"), "md5": ("md5-0.7", "0.7")}
MANIFEST = "crates.json"
_CARGO_TOML = """[package]
name = "{name}"
version = "0.1.0"
edition = "2021"

[dependencies]
{dependencies}
"""
_PROFILE = """[profile.dev]
debug = 0
codegen-units = 1
opt-level = 1
debug-assertions = true
overflow-checks = true
"""
_CARGO_CONFIG = """[source.crates-io]
replace-with = "debian"
[source.debian]
directory = "{registry}"
[net]
offline = true
"""


def _sources(registry: str) -> list[str]:
    return sorted(os.path.basename(path) for path in glob.glob(os.path.join(registry, "*"))
                  if os.path.isfile(os.path.join(path, "Cargo.toml")))


def crates_dir(root: str = PCH_ROOT, registry: str = REGISTRY) -> str:
    """Where this machine's crates are (or would be) built."""
    key = hashlib.sha256("\0".join([*_sources(registry), *rust_std_names(),
                                    _CARGO_TOML + _PROFILE,
                                    repr(sorted(CRATES.items()))]).encode())
    return os.path.join(root, "prebuilt", key.hexdigest()[:16], "crates")


@functools.lru_cache(maxsize=4)
def _flags(directory: str) -> tuple[str, ...]:
    try:
        with open(os.path.join(directory, MANIFEST), encoding="utf-8") as handle:
            files = json.load(handle)
    except (OSError, ValueError):
        return ()
    if not isinstance(files, dict) or set(files) != set(CRATES):
        return ()
    flags = ["-L", f"dependency={directory}"]
    for name in sorted(files):
        path = os.path.join(directory, str(files[name]))
        if os.path.dirname(path) != directory or not os.path.isfile(path):
            return ()
        flags += ["--extern", f"{name}={path}"]
    return tuple(flags)


def flags(root: str = PCH_ROOT) -> list[str]:
    """rustc's arguments that offer the crates (none when they were not built here)."""
    return list(_flags(crates_dir(root)))


def prepare(path: str = SANDBOX_PATH, root: str = PCH_ROOT, registry: str = REGISTRY,
            timeout: float = 900.0) -> str | None:
    """Build the crates with ``cargo`` (offline, Debian's sources) unless they are there; the
    directory, or None when cargo, rustc or a crate's source is missing or the build failed
    (jobs then get no crates, and programs that import them do not compile)."""
    import shutil
    import subprocess
    import tempfile

    target = crates_dir(root, registry)
    if _flags(target):
        return target
    cargo, rustc = shutil.which("cargo", path=path), shutil.which("rustc", path=path)
    sources = _sources(registry)
    if cargo is None or rustc is None or not rust_std_names() or not all(
            any(source.startswith(prefix) for source in sources)
            for prefix, _ in CRATES.values()):
        return None
    temporary = f"{target}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
        with tempfile.TemporaryDirectory() as work:
            env = cargo_project(work, "codesynth_crates", registry, path, debug=False)
            with open(os.path.join(work, "src", "lib.rs"), "w", encoding="utf-8"):
                pass
            done = subprocess.run(
                [cargo, "build", "--offline", "--lib", "--message-format", "json"], cwd=work,
                capture_output=True, timeout=timeout, check=False, env=env)
            if done.returncode != 0:
                return None
            files = _artifacts(done.stdout.decode("utf-8", "replace"))
            if set(files) != set(CRATES):
                return None
            deps = os.path.join(work, "target", "debug", "deps")
            os.makedirs(temporary, mode=0o755)
            for name in os.listdir(deps):
                if name.endswith((".rlib", ".rmeta")):
                    shutil.copyfile(os.path.join(deps, name), os.path.join(temporary, name))
                    os.chmod(os.path.join(temporary, name), 0o644)
            with open(os.path.join(temporary, MANIFEST), "w", encoding="utf-8") as handle:
                json.dump(files, handle)
            os.chmod(os.path.join(temporary, MANIFEST), 0o644)
        os.chmod(os.path.dirname(target), 0o755)
        os.replace(temporary, target)
    except (OSError, subprocess.SubprocessError):
        shutil.rmtree(temporary, ignore_errors=True)
    _flags.cache_clear()  # (another process may have made it meanwhile)
    return target if _flags(target) else None


def cargo_project(work: str, name: str, registry: str = REGISTRY, path: str = SANDBOX_PATH,
                  debug: bool = True) -> dict[str, str]:
    """Write a Cargo project depending on ``CRATES`` into ``work`` (offline, Debian's
    sources; ``debug``: cargo's default profile, else without debug info); the environment
    cargo runs in there (its own ``CARGO_HOME``, Debian's ``rustc`` on ``path``)."""
    import shutil

    os.makedirs(os.path.join(work, "src"), exist_ok=True)
    os.makedirs(os.path.join(work, ".cargo"), exist_ok=True)
    dependencies = "".join(f'{crate} = "{version}"\n'
                           for crate, (_, version) in sorted(CRATES.items()))
    manifest = _CARGO_TOML.format(name=name, dependencies=dependencies) + (
        "" if debug else _PROFILE)
    for file, text in (("Cargo.toml", manifest),
                       (".cargo/config.toml", _CARGO_CONFIG.format(registry=registry))):
        with open(os.path.join(work, file), "w", encoding="utf-8") as handle:
            handle.write(text)
    return {"PATH": path, "HOME": work, "CARGO_HOME": os.path.join(work, ".cargo-home"),
            "RUSTC": shutil.which("rustc", path=path) or "rustc", "LANG": "C.UTF-8"}


def _artifacts(messages: str) -> dict[str, str]:
    """The rlib cargo reported for each of ``CRATES`` (its ``compiler-artifact`` lines)."""
    found = {}
    for line in messages.splitlines():
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if not isinstance(message, dict) or message.get("reason") != "compiler-artifact":
            continue
        name = message.get("target", {}).get("name")
        if name in CRATES:
            rlibs = [f for f in message.get("filenames", []) if f.endswith(".rlib")]
            if rlibs:
                found[name] = os.path.basename(rlibs[0])
    return found
