"""Shared fixtures. ``sandbox`` is parametrized over every backend: one conformance suite."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from codesynth.cli import main
from codesynth.errors import SandboxUnavailable
from codesynth.records import Job, Limits
from codesynth.sandbox import open_sandbox
from codesynth.sandbox._runner_support import RUNNER_NAME
from codesynth.sandbox.protocol import Sandbox

BACKENDS = ["local", "docker"]
# CI sets this: there, a docker test that cannot run is a failure, not a skip.
REQUIRE_DOCKER = os.environ.get("CODESYNTH_REQUIRE_DOCKER") == "1"
# The execution cache would make a test's outcome depend on the tests run before it; the
# tests of the cache turn it on with a database of their own.
os.environ["CODESYNTH_EXEC_CACHE"] = "off"

# Short limits keep the hostile cases fast; tests that need other limits pass their own.
FAST = Limits(timeout=3.0, memory_mb=256, max_processes=32, file_size_mb=8, max_output=4096)


def open_or_skip(name: str, **options: object) -> Sandbox:
    """Open a backend; without a Docker engine the docker tests skip (and say why), except
    in CI, where a skip would hide that the backend was never tested."""
    try:
        return open_sandbox(name, **options)
    except SandboxUnavailable as exc:
        if name == "docker" and not REQUIRE_DOCKER:
            pytest.skip(f"docker backend unavailable here: {exc}")
        raise


@pytest.fixture(scope="session", params=BACKENDS)
def sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    box = open_or_skip(request.param, workers=2, limits=FAST)
    yield box
    box.close()


def job(code: str, tests: object = "", style: str = "assert", entry_point: str | None = None,
        job_id: str = "t") -> Job:
    return Job(id=job_id, code=code, tests=tests, test_style=style, entry_point=entry_point)


def in_ci() -> bool:
    return bool(os.environ.get("CI"))


Run = Callable[..., tuple[int, str, str]]


def squash(text: str) -> str:
    """Rich wraps long messages at the console width: compare without any whitespace."""
    return "".join(text.split())


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    """Run the CLI in-process: ``run("verify", ...)`` -> (exit code, stdout, stderr)."""

    def invoke(*argv: str | Path) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def runners_of(pid: int) -> set[int]:
    """The sandbox runners a process started (their outer processes)."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/comm", "rb") as handle:
                name = handle.read().strip()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid and name == RUNNER_NAME:
            found.add(int(entry))
    return found
