"""Sandboxes: where programs run. ``open_sandbox(name, ...)`` finds a backend by name."""

from __future__ import annotations

from typing import Any

from codesynth.sandbox.protocol import Sandbox


def open_sandbox(name: str = "local", **options: Any) -> Sandbox:
    from codesynth.registry import sandboxes

    return sandboxes.get(name)(**options)  # type: ignore[no-any-return]


__all__ = ["Sandbox", "open_sandbox"]
