"""Sandboxes: where programs run. ``open_sandbox(name, ...)`` finds a backend by name.

The protocol (and the record types it needs) loads on first use, not with the package: the
runner, which imports ``codesynth.sandbox.runner``, needs none of it, and every page it maps
makes each job's fork and exit slower.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from codesynth.sandbox.protocol import Sandbox


def open_sandbox(name: str = "local", **options: Any) -> Sandbox:
    from codesynth.registry import sandboxes

    return sandboxes.get(name)(**options)  # type: ignore[no-any-return]


def __getattr__(name: str) -> Any:
    if name == "Sandbox":
        from codesynth.sandbox.protocol import Sandbox

        return Sandbox
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Sandbox", "open_sandbox"]
