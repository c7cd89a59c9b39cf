"""Executors: where a command's sandbox jobs run. ``local`` (the default) runs them in a
sandbox on this machine; ``ray`` spreads them over a Ray cluster (``codesynth[ray]``).

An executor is a plugin found by name (:data:`codesynth.registry.executors`): a class built
with ``address`` (the cluster to join, or None) whose ``open_sandbox(backend, **options)``
returns a :class:`~codesynth.sandbox.protocol.Sandbox`. Every command that runs code asks
for its sandbox through :func:`open_sandbox` here, so each of them runs on any executor, and
the records, their order and their ids are the executor's business only: the outputs are
those of a local run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from codesynth.errors import UserError

if TYPE_CHECKING:
    from codesynth.sandbox.protocol import Sandbox


class LocalExecutor:
    """Jobs run in a sandbox on this machine (no cluster, no Ray)."""

    name = "local"

    def __init__(self, address: str | None = None) -> None:
        if address is not None:
            raise UserError("--ray-address applies to --executor ray only")

    def open_sandbox(self, backend: str, **options: Any) -> Sandbox:
        from codesynth.sandbox import open_sandbox

        return open_sandbox(backend, **options)


def problem(executor: str) -> str | None:
    """What stops ``executor`` from running here (unknown, or its library missing), or None;
    checked before any work."""
    from codesynth.registry import executors

    if executor not in executors.names():
        return f"unknown executor {executor!r} (known: {', '.join(executors.names())})"
    if executor == "ray":
        import importlib.util

        if importlib.util.find_spec("ray") is None:
            return "the ray executor needs Ray: pip install 'codesynth[ray]'"
    return None


def open_sandbox(executor: str, backend: str, address: str | None = None,
                 **options: Any) -> Sandbox:
    """A sandbox of ``backend`` on ``executor`` (``local``: :func:`codesynth.sandbox.open_sandbox`
    itself, with nothing else imported)."""
    if executor == "local" and address is None:
        from codesynth.sandbox import open_sandbox as local

        return local(backend, **options)
    from codesynth.registry import executors

    return executors.get(executor)(address=address).open_sandbox(  # type: ignore[no-any-return]
        backend, **options)


def share_models(config: Any, urls: list[str] | None, concurrency: int | None,
                 rate: float | None, executor: str = "local", address: str | None = None
                 ) -> None:
    """More endpoints for ``config``'s model (the same model on several servers) and a limit
    on requests in flight (``concurrency``) and per second (``rate``) that every generator
    shares: within this process, or on the ``ray`` executor across the whole cluster."""
    if not urls and not concurrency and not rate:
        return
    from codesynth.llm.config import url_problem
    from codesynth.llm.endpoints import pool_for

    for url in urls or ():
        if (found := url_problem(url)) is not None:
            raise UserError(f"endpoint {url!r}: {found}")
    if concurrency is not None and concurrency < 1:
        raise UserError(f"the model concurrency must be at least 1, got {concurrency}")
    if rate is not None and not rate > 0:
        raise UserError(f"the model rate must be above 0 requests/s, got {rate}")
    cluster = None
    if executor == "ray":
        from codesynth.executors.ray_sandbox import connect

        connect(address)
        cluster = address or "auto"
    config.pool = pool_for(list(urls or ()), concurrency, rate, config.timeout + 60.0, cluster)


__all__ = ["LocalExecutor", "open_sandbox", "problem", "share_models"]
