"""``codesynth sandbox build|status|clean``: the docker backend's images and containers."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rich.table import Table
from rich.text import Text

from codesynth.cli._display import console


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "sandbox", help="build runner images, show the sandbox state, remove stray containers",
        description="Manage the docker backend: its runner image and its containers.")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    build = actions.add_parser(
        "build", help="build the runner image (from Debian packages when no registry answers)",
        description="Build codesynth-runner:<digest> from sandboxes/python/Dockerfile. The base "
                    "is --base, else python:3.12-slim if it can be pulled, else an image made "
                    "from Debian packages with debootstrap (no registry needed; root).")
    build.add_argument("--base", default=None, help="base image (default: python:3.12-slim)")
    build.add_argument("--debootstrap", choices=("auto", "always", "never"), default="auto",
                       help="make the base from Debian packages: when nothing else works "
                            "(auto), always, or never (default: auto)")
    build.add_argument("--suite", default=None, help="Debian suite (default: bookworm)")
    build.add_argument("--mirror", default=None,
                       help="Debian mirror (default: http://deb.debian.org/debian)")
    build.add_argument("--no-cache", action="store_true", help="rebuild every layer")
    build.add_argument("--languages", action="store_true",
                       help="also build <runner>-languages, with the toolchains of the other "
                            "languages (Debian packages; use it with --image)")
    build.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    build.set_defaults(handler=run_build)

    status = actions.add_parser("status", help="engine, runner image and containers")
    status.add_argument("--json", action="store_true", help="print JSON on stdout")
    status.set_defaults(handler=run_status)

    clean = actions.add_parser(
        "clean", help="remove containers left by codesynth runs that are gone",
        description="Remove codesynth containers whose owning process no longer runs (after "
                    "a crash or SIGKILL). --all removes every codesynth container, live runs' "
                    "included.")
    clean.add_argument("--all", action="store_true", help="also those of live runs")
    clean.add_argument("--json", action="store_true", help="print JSON on stdout")
    clean.set_defaults(handler=run_clean)


def _emit(args: argparse.Namespace, summary: dict[str, Any]) -> None:
    if args.json:
        sys.stdout.write(json.dumps(summary) + "\n")


def run_build(args: argparse.Namespace) -> int:
    from codesynth.sandbox import images
    from codesynth.sandbox.container import connect

    client = connect()
    options: dict[str, Any] = {"base": args.base, "debootstrap": args.debootstrap,
                               "nocache": args.no_cache, "languages": args.languages}
    if args.suite:
        options["suite"] = args.suite
    if args.mirror:
        options["mirror"] = args.mirror
    with console.status("building the runner image") as spinner:
        def log(message: str) -> None:
            console.print(Text("  " + message, style="dim"), highlight=False)
            spinner.update(message)

        summary = images.build(client, log, **options)
    console.print(Text(f"built {summary['image']} on {summary['base']} in "
                       f"{summary['seconds']:.1f} s", style="bold green"), highlight=False)
    _emit(args, summary)
    return 0


def _seccomp() -> dict[str, Any]:
    """Whether the jobs' system-call filter can be built here (the local backend's runners
    build it on this machine; the docker runners in the image, which checks for it)."""
    from codesynth.sandbox import _seccomp

    try:
        instructions = _seccomp.load().size
    except OSError as exc:
        return {"available": False, "error": str(exc)}
    return {"available": True, "instructions": instructions, "denied": len(_seccomp.DENIED),
            "library": _seccomp.LIBRARY}


def _toolchains() -> dict[str, str | None]:
    """Each language's toolchain as the local backend's jobs see it (the sandbox's PATH),
    None when absent."""
    import sys

    from codesynth.languages import toolchain
    from codesynth.registry import languages

    found = {name: toolchain(languages.get(name)) for name in languages.names()}
    found["python"] = f"python: {sys.implementation.name}-{sys.version.split()[0]} " \
                      "(the runner's own interpreter)"
    return found


def _status(client: Any) -> dict[str, Any]:
    from codesynth.sandbox import images
    from codesynth.sandbox.container import OWNER, our_containers, owner_alive

    version = client.version()
    info = client.info()
    tag = images.runner_tag()
    image: dict[str, Any] = {"tag": tag, "present": images.has_image(client, tag)}
    if image["present"]:
        found = client.images.get(tag)
        image.update(size_mb=round(found.attrs.get("Size", 0) / 1e6, 1),
                     created=found.attrs.get("Created"),
                     base=found.labels.get("org.codesynth.base"))
    bases = [name for name in (f"{images.DEBIAN_BASE}:{images.DEBIAN_SUITE}",
                               images.DEFAULT_BASE) if images.has_image(client, name)]
    containers = []
    for container in our_containers(client):
        owner = (container.get("Labels") or {}).get(OWNER, "")
        containers.append({"id": container["Id"][:12],
                           "name": (container.get("Names") or ["?"])[0].lstrip("/"),
                           "status": container.get("State"), "owner": owner,
                           "stray": not owner_alive(owner)})
    return {"engine": {"version": version.get("Version"), "api": version.get("ApiVersion"),
                       "os": info.get("OperatingSystem"),
                       "cgroup": info.get("CgroupVersion"), "cpus": info.get("NCPU")},
            "image": image, "bases": bases, "containers": containers, "seccomp": _seccomp(),
            "toolchains": _toolchains()}


def run_status(args: argparse.Namespace) -> int:
    from codesynth.sandbox.container import connect

    summary = _status(connect())
    engine, image = summary["engine"], summary["image"]
    table = Table(title="docker sandbox", show_header=False)
    table.add_row("engine", f"Docker {engine['version']} (API {engine['api']}), "
                            f"{engine['os']}, cgroup v{engine['cgroup']}, {engine['cpus']} CPUs")
    state = (f"present ({image['size_mb']} MB, on {image['base']})" if image["present"]
             else "missing: run `codesynth sandbox build`")
    table.add_row("runner image", f"{image['tag']}: {state}")
    table.add_row("base images", ", ".join(summary["bases"]) or "none")
    seccomp = summary["seccomp"]
    table.add_row("seccomp", f"{seccomp['library']}: a {seccomp['instructions']}-instruction "
                             f"filter denying {seccomp['denied']}+ system calls (EPERM) in "
                             "every job" if seccomp["available"]
                  else f"UNAVAILABLE: {seccomp['error']}")
    for name, found in summary["toolchains"].items():
        table.add_row(f"toolchain {name}", found.partition(": ")[2] if found
                      else "not installed (local backend)")
    strays = sum(c["stray"] for c in summary["containers"])
    hint = " (codesynth sandbox clean)" if strays else ""
    table.add_row("containers",
                  f"{len(summary['containers'])} running for codesynth, {strays} stray{hint}")
    console.print(table)
    _emit(args, summary)
    return 0


def run_clean(args: argparse.Namespace) -> int:
    from codesynth.sandbox import _cgroup
    from codesynth.sandbox.container import connect, remove_strays

    removed = remove_strays(connect(), everything=args.all)
    cgroups = _cgroup.remove_stale()
    console.print(f"removed {removed} container(s) and {cgroups} stale cgroup(s)",
                  highlight=False)
    _emit(args, {"containers_removed": removed, "cgroups_removed": cgroups})
    return 0
