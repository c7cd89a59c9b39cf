"""Runner images for the docker backend: find them, build them, with or without a registry.

The runner image is ``codesynth-runner:<digest>``, where the digest covers the Dockerfile and
the runner's code copied into it: an image always runs the code of the codesynth that uses it,
and a new codesynth builds its own image (in seconds, on a base already present).

The base is any image with Python >= 3.11 (default: the official slim image). Where no
registry is reachable (air-gapped clusters, this project's CI) the base is made from Debian
packages: ``debootstrap --variant=minbase`` with Python, pytest and hypothesis, then imported
into the engine as ``codesynth-base:<suite>``.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from codesynth.errors import SandboxUnavailable, UserError

REPOSITORY = "codesynth-runner"
DEFAULT_BASE = "python:3.12-slim"
DEBIAN_BASE = "codesynth-base"
DEBIAN_SUITE = "bookworm"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
# libseccomp2: the jobs' system-call filter (the runner refuses to start without it).
DEBIAN_PACKAGES = ("python3", "python3-pytest", "python3-hypothesis", "libseccomp2")
LABEL = "org.codesynth.runner"  # image label: the runner digest it was built for
PACKAGE = Path(__file__).resolve().parent.parent  # .../codesynth
# The runner's code, copied into the image (it imports nothing else from codesynth).
RUNNER_CODE = ("__init__.py", "errors.py", "records.py", "_ids.py", "languages.py",
               "java_source.py", "registry.py", "sandbox", "harness")
_TRIM = ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man",
         "usr/share/info", "usr/share/locale")

Log = Callable[[str], None]


def dockerfile() -> Path:
    """``sandboxes/python/Dockerfile``: in the source tree, or installed with the package."""
    candidates = [PACKAGE.parent / "sandboxes" / "python" / "Dockerfile",
                  Path(sys.prefix) / "share" / "codesynth" / "sandboxes" / "python" / "Dockerfile"]
    for path in candidates:
        if path.is_file():
            return path
    raise SandboxUnavailable("the runner's Dockerfile is missing (looked in "
                             + ", ".join(str(p) for p in candidates) + ")")


def _runner_files() -> list[tuple[str, Path]]:
    files = []
    for name in RUNNER_CODE:
        path = PACKAGE / name
        found = sorted(p for p in path.rglob("*") if p.suffix in (".py", ".java")) \
            if path.is_dir() else [path]  # .java: the warm javac's service (_javac_service)
        files += [(f"codesynth/{p.relative_to(PACKAGE).as_posix()}", p) for p in found]
    return files


def runner_digest() -> str:
    """12 hex digits over the Dockerfile and every runner file (names and contents)."""
    digest = hashlib.blake2b(dockerfile().read_bytes(), digest_size=16)
    for name, path in _runner_files():
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def runner_tag() -> str:
    return f"{REPOSITORY}:{runner_digest()}"


def _context() -> io.BytesIO:
    """The build context: the Dockerfile and the runner's code, as an in-memory tar."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(dockerfile(), arcname="Dockerfile")
        for name, path in _runner_files():
            tar.add(path, arcname=name)
    buffer.seek(0)
    return buffer


def has_image(client: Any, name: str) -> bool:
    import docker.errors

    try:
        client.images.get(name)
    except docker.errors.ImageNotFound:
        return False
    return True


def build_debian_base(client: Any, log: Log, suite: str = DEBIAN_SUITE,
                      mirror: str = DEBIAN_MIRROR) -> str:
    """Make ``codesynth-base:<suite>`` from Debian packages, with no registry at all."""
    if shutil.which("debootstrap") is None:
        raise SandboxUnavailable("building a base image without a registry needs debootstrap "
                                 "(Debian/Ubuntu: apt-get install debootstrap)")
    if os.geteuid() != 0:
        raise SandboxUnavailable("debootstrap must run as root to build the base image "
                                 "(or pass --base with an image the engine already has)")
    tag = f"{DEBIAN_BASE}:{suite}"
    with tempfile.TemporaryDirectory(prefix="codesynth-rootfs-") as tmp:
        root = os.path.join(tmp, "root")
        log(f"debootstrap {suite} from {mirror} (python3, pytest, hypothesis)")
        command = ["debootstrap", "--variant=minbase", "--include=" + ",".join(DEBIAN_PACKAGES),
                   suite, root, mirror]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            tail = (done.stdout + done.stderr).strip()[-2000:]
            raise SandboxUnavailable(f"debootstrap failed (exit {done.returncode}): {tail}")
        for path in _TRIM:
            shutil.rmtree(os.path.join(root, path), ignore_errors=True)
        log(f"importing the root filesystem as {tag}")
        tar = subprocess.Popen(["tar", "-C", root, "--numeric-owner", "-c", "."],
                               stdout=subprocess.PIPE)
        try:
            client.api.import_image(src=tar.stdout, repository=DEBIAN_BASE, tag=suite,
                                    changes=["ENV LANG=C.UTF-8", 'CMD ["python3"]'])
        finally:
            assert tar.stdout is not None
            tar.stdout.close()
            tar.wait()
    return tag


def ensure_base(client: Any, base: str | None, debootstrap: str, log: Log,
                suite: str = DEBIAN_SUITE, mirror: str = DEBIAN_MIRROR) -> str:
    """The base image to build on: given, present, pulled, or made from Debian packages.

    ``debootstrap``: ``auto`` (only when the base cannot be had), ``always`` or ``never``.
    """
    import docker.errors

    if debootstrap not in ("auto", "always", "never"):
        raise UserError(f"--debootstrap must be auto, always or never (got {debootstrap!r})")
    if debootstrap == "always":
        return build_debian_base(client, log, suite, mirror)
    wanted = base or DEFAULT_BASE
    if has_image(client, wanted):
        log(f"base image {wanted} is present")
        return wanted
    log(f"pulling {wanted}")
    try:
        client.images.pull(wanted)
        return wanted
    except docker.errors.APIError as exc:
        reason = str(getattr(exc, "explanation", None) or exc).splitlines()[0][:200]
        if base or debootstrap == "never":
            raise SandboxUnavailable(f"cannot pull base image {wanted}: {reason}") from None
        log(f"no registry ({reason}); building the base from Debian packages instead")
    debian = f"{DEBIAN_BASE}:{suite}"
    if has_image(client, debian):
        log(f"base image {debian} is present")
        return debian
    return build_debian_base(client, log, suite, mirror)


def build_runner(client: Any, base: str, log: Log, nocache: bool = False,
                 tag: str | None = None) -> str:
    """Build the runner image on ``base``; returns its tag (``tag``: another name than
    this codesynth's runner tag, which then stays where it is)."""
    import docker.errors

    alias = tag is not None
    tag = tag or runner_tag()
    log(f"building {tag} on {base}")
    try:
        for chunk in client.api.build(fileobj=_context(), custom_context=True, tag=tag,
                                      buildargs={"BASE": base}, rm=True, forcerm=True,
                                      nocache=nocache, decode=True,
                                      labels={LABEL: runner_digest(), "org.codesynth.base": base}):
            if "error" in chunk:
                raise SandboxUnavailable(f"building {tag} failed: {chunk['error'].strip()}")
    except docker.errors.APIError as exc:
        raise SandboxUnavailable(f"building {tag} failed: {exc}") from None
    if not alias:
        client.images.get(tag).tag(REPOSITORY, "latest")
    return tag


def _languages_suffix() -> str:
    """``-languages-<digest of its Dockerfile>``: a changed toolchain list is a new image."""
    import hashlib

    path = dockerfile().parent.parent / "languages" / "Dockerfile"
    return "-languages-" + hashlib.sha256(path.read_bytes()).hexdigest()[:8]


LANGUAGES_SUFFIX = _languages_suffix()


def languages_tag(runner: str) -> str:
    """The runner image built on the languages base (see ``build_languages_base``)."""
    return f"{runner}{LANGUAGES_SUFFIX}"


def build_languages_base(client: Any, base: str, log: Log, nocache: bool = False) -> str:
    """``sandboxes/languages/Dockerfile`` on ``base``: Debian's toolchains added (the
    mirror must answer from the build); returns its tag, ``<base>-languages``."""
    import docker.errors

    tag = f"{base}{LANGUAGES_SUFFIX}" if ":" in base else f"{base}:latest{LANGUAGES_SUFFIX}"
    if not nocache and has_image(client, tag):
        log(f"base image {tag} is present")
        return tag
    path = dockerfile().parent.parent / "languages" / "Dockerfile"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(path, arcname="Dockerfile")
    buffer.seek(0)
    log(f"building {tag} on {base} (Debian toolchains: a few minutes)")
    try:
        for chunk in client.api.build(fileobj=buffer, custom_context=True, tag=tag,
                                      buildargs={"BASE": base}, rm=True, forcerm=True,
                                      nocache=nocache, decode=True):
            if "error" in chunk:
                raise SandboxUnavailable(f"building {tag} failed: {chunk['error'].strip()}")
    except docker.errors.APIError as exc:
        raise SandboxUnavailable(f"building {tag} failed: {exc}") from None
    return tag


def ensure_languages_runner(client: Any, log: Log | None = None) -> str:
    """The runner image for this codesynth on a languages base already present (built now,
    in seconds, when only the code changed)."""
    tag = languages_tag(runner_tag())
    if has_image(client, tag):
        return tag
    for base in (f"{DEBIAN_BASE}:{DEBIAN_SUITE}{LANGUAGES_SUFFIX}",
                 f"{DEFAULT_BASE}{LANGUAGES_SUFFIX}"):
        if has_image(client, base):
            return build_runner(client, base, log or (lambda _message: None), tag=tag)
    raise SandboxUnavailable(f"no image {tag} and no languages base to build it on: run "
                             "`codesynth sandbox build --languages` first")


def build(client: Any, log: Log, base: str | None = None, debootstrap: str = "auto",
          suite: str = DEBIAN_SUITE, mirror: str = DEBIAN_MIRROR,
          nocache: bool = False, languages: bool = False) -> dict[str, Any]:
    """``codesynth sandbox build``: base (however it comes) then the runner image (and,
    with ``languages``, the runner image with the other languages' toolchains)."""
    start = time.monotonic()
    base_image = ensure_base(client, base, debootstrap, log, suite, mirror)
    tag = build_runner(client, base_image, log, nocache=nocache)
    summary: dict[str, Any] = {"image": tag, "base": base_image}
    if languages:
        with_languages = build_languages_base(client, base_image, log, nocache=nocache)
        summary["languages_image"] = build_runner(client, with_languages, log, nocache=nocache,
                                                  tag=languages_tag(tag))
    summary["seconds"] = round(time.monotonic() - start, 1)
    return summary


def ensure_runner(client: Any, log: Log | None = None) -> str:
    """The runner image for this codesynth, built now if a base is already present."""
    tag = runner_tag()
    if has_image(client, tag):
        return tag
    previous = []  # the base of the last runner built here comes first
    if has_image(client, f"{REPOSITORY}:latest"):
        label = client.images.get(f"{REPOSITORY}:latest").labels.get("org.codesynth.base")
        previous = [label] if label else []
    for base in (*previous, f"{DEBIAN_BASE}:{DEBIAN_SUITE}", DEFAULT_BASE):
        if has_image(client, base):
            return build_runner(client, base, log or (lambda _message: None))
    raise SandboxUnavailable(f"no runner image {tag} and no base image to build it on: "
                             "run `codesynth sandbox build` first")
