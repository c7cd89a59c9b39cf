"""The Ray actor that holds one node's warm sandbox pool and runs batches of jobs in it.

It is a plain class (made a Ray actor by the driver with ``ray.remote``), so this module never
imports Ray. The driver's code digest travels with it: a node whose codesynth differs from the
driver's (other harness, other verdicts) refuses to start instead of answering differently.
"""

from __future__ import annotations

import os
import socket
from typing import Any

from codesynth.records import Execution, Job, Limits


class SandboxHost:
    """One node's sandbox, warm for the whole run."""

    def __init__(self, backend: str, options: dict[str, Any], digest: str) -> None:
        from codesynth.exec_cache import _code_digest
        from codesynth.sandbox import open_sandbox

        here = _code_digest()
        if here != digest:
            raise RuntimeError(f"codesynth on node {socket.gethostname()} differs from the "
                               f"driver's (code digest {here} != {digest}): install the same "
                               "version on every node")
        self.sandbox = open_sandbox(backend, **options)

    def describe(self) -> dict[str, Any]:
        """What the driver reports and keys its execution cache on."""
        box = self.sandbox
        return {"name": box.name, "workers": box.workers,
                "isolate": getattr(box, "isolate", None), "image": getattr(box, "image", None),
                "info": dict(getattr(box, "info", {})), "pid": os.getpid(),
                "host": socket.gethostname()}

    def run_batch(self, jobs: list[Job], limits: Limits) -> list[Execution]:
        """The batch's executions, in its order (the pool runs them concurrently)."""
        return list(self.sandbox.run_many(jobs, limits))

    def close(self) -> None:
        self.sandbox.close()
