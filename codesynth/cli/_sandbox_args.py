"""Sandbox options shared by every command that runs code."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from codesynth.errors import UserError
from codesynth.records import Limits
from codesynth.sandbox import open_sandbox
from codesynth.sandbox.protocol import Sandbox

T = TypeVar("T")


def add_sandbox_options(parser: argparse.ArgumentParser, timeout: float = 10.0) -> None:
    group = parser.add_argument_group("sandbox")
    group.add_argument("--sandbox", default="local",
                       help="backend: local (kernel namespaces) or docker (default: local)")
    group.add_argument("--image", default=None,
                       help="docker: the runner image (default: the one built for this "
                            "codesynth, see `codesynth sandbox build`)")
    group.add_argument("--workers", type=int, default=None,
                       help="jobs in flight (default: the number of CPU cores)")
    group.add_argument("--timeout", type=float, default=timeout,
                       help="wall seconds for a record not using the CPU; one still "
                            f"running goes on up to --cpu-time (default: {timeout:g})")
    group.add_argument("--cpu-time", type=float, default=None,
                       help="CPU seconds per record, its whole process tree (default: same "
                            "as --timeout)")
    group.add_argument("--wall-time", type=float, default=None,
                       help="wall seconds a record still using the CPU may run at most "
                            "(default: 4 x --timeout)")
    group.add_argument("--memory-mb", type=int, default=1024,
                       help="memory for the whole process tree (default: 1024)")
    group.add_argument("--max-processes", type=int, default=64, help="(default: 64)")
    group.add_argument("--file-size-mb", type=int, default=64,
                       help="largest file, stdout/stderr included (default: 64)")
    group.add_argument("--max-output", type=int, default=65536,
                       help="bytes of stdout/stderr kept per stream (default: 65536)")
    group.add_argument("--strict", action="store_true",
                       help="a test that compares a program's object (not a builtin value) "
                            "with a builtin value fails (reward hacks through __eq__)")
    group.add_argument("--unsafe-no-isolation", action="store_true",
                       help="run WITHOUT kernel isolation (only for code you trust)")
    group.add_argument("--executor", default="local",
                       help="where jobs run: local (this machine) or ray (a Ray cluster: "
                            "a sandbox pool on every node; pip install 'codesynth[ray]')")
    group.add_argument("--ray-address", default=None,
                       help="--executor ray: the cluster to join (default: RAY_ADDRESS, "
                            "else a Ray started on this machine)")


def limits_from(args: argparse.Namespace) -> Limits:
    try:
        return Limits(timeout=args.timeout, cpu_time=args.cpu_time,
                      wall_time=getattr(args, "wall_time", None), memory_mb=args.memory_mb,
                      max_processes=args.max_processes, file_size_mb=args.file_size_mb,
                      max_output=args.max_output, strict=bool(getattr(args, "strict", False)))
    except ValueError as exc:
        raise UserError(str(exc)) from None


def sandbox_from(args: argparse.Namespace, limits: Limits) -> Sandbox:
    if args.workers is not None and args.workers < 1:
        raise UserError("--workers must be at least 1")
    executor = getattr(args, "executor", "local")
    if executor == "local" and getattr(args, "ray_address", None) is not None:
        raise UserError("--ray-address applies to --executor ray only")
    from codesynth.cli import _prestart

    started = _prestart.take(_prestart.key(args))
    if started is not None:
        started.limits = limits
        return started  # type: ignore[no-any-return]
    options: dict[str, object] = {"workers": args.workers, "limits": limits}
    if args.unsafe_no_isolation:
        options["unsafe_no_isolation"] = True
    if args.image:
        if args.sandbox != "docker":
            raise UserError("--image applies to --sandbox docker only")
        options["image"] = args.image
    if executor == "local":
        return open_sandbox(args.sandbox, **options)
    from codesynth import executors

    return executors.open_sandbox(executor, args.sandbox, args.ray_address, **options)


def open_during(args: argparse.Namespace, limits: Limits, work: Callable[[], T]
                ) -> tuple[Sandbox, T]:
    """Start the sandbox in the background while ``work`` (e.g. validating the input) runs.

    If ``work`` fails, the sandbox is closed and its error wins: bad input is reported as
    such, whether or not a sandbox could start here.
    """
    with ThreadPoolExecutor(1, thread_name_prefix="sandbox-start") as executor:
        starting = executor.submit(sandbox_from, args, limits)
        try:
            result = work()
        except BaseException:
            with contextlib.suppress(Exception):
                starting.result().close()
            raise
        return starting.result(), result
