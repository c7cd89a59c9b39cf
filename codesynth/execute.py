"""Stream (payload, job) pairs through a sandbox and get (payload, execution) back, in order,
holding only the in-flight window in memory."""

from __future__ import annotations

import collections
from collections.abc import Iterable, Iterator
from typing import TypeVar

from codesynth.records import Execution, Job, Limits
from codesynth.sandbox.protocol import Sandbox

P = TypeVar("P")


def execute_pairs(sandbox: Sandbox, pairs: Iterable[tuple[P, Job]], limits: Limits | None = None
                  ) -> Iterator[tuple[P, Execution]]:
    pending: collections.deque[P] = collections.deque()

    def jobs() -> Iterator[Job]:
        for payload, job in pairs:
            pending.append(payload)
            yield job

    for execution in sandbox.run_many(jobs(), limits):
        yield pending.popleft(), execution
