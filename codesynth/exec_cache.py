"""An execution cache in front of a sandbox: a verdict is computed once per program, tests,
test style, entry point, language, limits and runtime, and read back from SQLite afterwards.

:class:`CachedSandbox` wraps any :class:`~codesynth.sandbox.protocol.Sandbox` and keeps its
contract (``run``, ``run_many`` in input order, streaming). Identical jobs in one
``run_many`` run once: the copies are answered with the first one's execution, marked
``cache = "duplicate"``; answers read from disk are marked ``cache = "hit"``. Only verdicts
that a re-run would repeat are stored: never ``sandbox_error`` (no verdict) nor ``timeout``
(a loaded machine can cause one).

``CODESYNTH_EXEC_CACHE`` names the database (default ``~/.cache/codesynth/exec-cache.sqlite``,
under ``XDG_CACHE_HOME`` when set); ``off`` (or ``0``) disables caching everywhere (the test
suite does, except where a test turns it on).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

from codesynth.records import Execution, Job, Limits, Status, canonical_json

ENV = "CODESYNTH_EXEC_CACHE"
NOT_STORED = (Status.SANDBOX_ERROR, Status.TIMEOUT)
CHUNK = 256  # jobs looked up at once; the sandbox stays busy within a chunk


def default_path() -> Path | None:
    """Where the cache lives, or None when ``CODESYNTH_EXEC_CACHE`` turns it off."""
    chosen = os.environ.get(ENV, "")
    if chosen.lower() in ("off", "0", "false", "no"):
        return None
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "codesynth" / "exec-cache.sqlite"


@cache
def _code_digest() -> str:
    """The harness and runner code: a change there may change verdicts."""
    root = Path(__file__).parent
    digest = hashlib.blake2b(digest_size=12)
    for path in sorted([*root.glob("harness/*.py"), *root.glob("sandbox/*.py"),
                        root / "records.py"]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def runtime_digest(sandbox: Any) -> dict[str, Any]:
    """What the verdict depends on besides the job: backend, isolation, interpreter or image,
    and the harness's code."""
    return {"backend": getattr(sandbox, "name", type(sandbox).__name__),
            "isolate": getattr(sandbox, "isolate", None),
            "image": getattr(sandbox, "image", None),
            "python": sys.version, "harness": _code_digest()}


def job_key(job: Job, limits: Limits, runtime: dict[str, Any]) -> str:
    content = {"code": job.code, "tests": job.tests, "style": job.test_style,
               "entry_point": job.entry_point, "language": job.language,
               "limits": limits.to_dict(), "runtime": runtime}
    if job.standard is not None:  # (absent otherwise: keys made before it stay valid)
        content["standard"] = job.standard
    return hashlib.blake2b(canonical_json(content).encode("utf-8", "surrogatepass"),
                           digest_size=20).hexdigest()


class ExecutionStore:
    """The SQLite table of verdicts, safe to share between threads."""

    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None,
                                   timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS executions (key TEXT PRIMARY KEY, "
                         "execution TEXT NOT NULL, created REAL)")

    def get_many(self, keys: list[str]) -> dict[str, Execution]:
        found: dict[str, Execution] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                part = keys[start:start + 500]
                rows = self._db.execute(
                    f"SELECT key, execution FROM executions WHERE key IN "
                    f"({','.join('?' * len(part))})", part).fetchall()
                for key, text in rows:
                    try:
                        found[key] = Execution.from_dict(json.loads(text))
                    except (ValueError, TypeError, KeyError):
                        continue  # an unreadable row is a miss (and is overwritten)
        return found

    def put_many(self, items: list[tuple[str, Execution]]) -> None:
        rows = [(key, json.dumps(execution.to_dict()), time.time()) for key, execution in items
                if execution.status not in NOT_STORED]
        if not rows:
            return
        with self._lock:
            self._db.executemany("INSERT OR REPLACE INTO executions VALUES (?, ?, ?)", rows)

    def delete(self, key: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM executions WHERE key = ?", (key,))

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM executions").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()


@dataclasses.dataclass
class CacheStats:
    hits: int = 0
    duplicates: int = 0
    misses: int = 0

    def to_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


class CachedSandbox:
    """``sandbox`` with an execution cache in front. Closing it closes both."""

    def __init__(self, sandbox: Any, store: ExecutionStore | None) -> None:
        self.sandbox = sandbox
        self.store = store
        self.stats = CacheStats()
        self._runtime = runtime_digest(sandbox)

    def __getattr__(self, name: str) -> Any:  # name, workers, info, limits...
        return getattr(self.sandbox, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("sandbox", "store", "stats", "_runtime"):  # the wrapper's own
            object.__setattr__(self, name, value)
        else:
            setattr(self.sandbox, name, value)

    def __enter__(self) -> CachedSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.sandbox.close()
        finally:
            if self.store is not None:
                self.store.close()

    def run(self, job: Job, limits: Limits | None = None) -> Execution:
        # to the end: the verdict is stored after it is yielded
        (execution,) = self.run_many([job], limits)
        return execution

    def forget(self, job: Job, limits: Limits | None = None) -> None:
        """Drop a job's stored verdict (one that reruns showed to be flaky)."""
        if self.store is not None:
            self.store.delete(job_key(job, self._limits(limits), self._runtime))

    def run_many(self, jobs: Iterable[Job], limits: Limits | None = None
                 ) -> Iterator[Execution]:
        chunk: list[Job] = []
        for job in jobs:
            chunk.append(job)
            if len(chunk) >= CHUNK:
                yield from self._chunk(chunk, limits)
                chunk = []
        if chunk:
            yield from self._chunk(chunk, limits)

    def _limits(self, limits: Limits | None) -> Limits:
        if limits is not None:
            return limits
        own = getattr(self.sandbox, "limits", None)
        return own if isinstance(own, Limits) else Limits()

    def _chunk(self, jobs: list[Job], limits: Limits | None) -> Iterator[Execution]:
        effective = self._limits(limits)
        keys = [job_key(job, effective, self._runtime) for job in jobs]
        stored = self.store.get_many(list(set(keys))) if self.store is not None else {}
        first: dict[str, int] = {}  # key -> the index of the job that runs it
        misses: list[int] = []
        for index, key in enumerate(keys):
            if key not in stored and key not in first:
                first[key] = index
                misses.append(index)
        done: dict[str, Execution] = {}
        ready = 0  # jobs[:ready] have been yielded
        fresh: list[tuple[str, Execution]] = []

        def release() -> Iterator[Execution]:
            nonlocal ready
            while ready < len(jobs):
                key = keys[ready]
                if key in stored:
                    self.stats.hits += 1
                    yield dataclasses.replace(stored[key], cache="hit")
                elif key in done and first[key] != ready:
                    self.stats.duplicates += 1
                    yield dataclasses.replace(done[key], cache="duplicate")
                elif key in done:
                    yield done[key]
                else:
                    return
                ready += 1

        executions = self.sandbox.run_many([jobs[i] for i in misses], limits)
        for index, execution in zip(misses, executions, strict=True):
            self.stats.misses += 1
            done[keys[index]] = execution
            fresh.append((keys[index], execution))
            if len(fresh) >= 32 and self.store is not None:
                self.store.put_many(fresh)
                fresh = []
            yield from release()
        if self.store is not None:
            self.store.put_many(fresh)
        yield from release()


def cached(sandbox: Any, enabled: bool = True, path: str | Path | None = None) -> Any:
    """``sandbox`` behind the execution cache (at ``path``, else :func:`default_path`), or
    ``sandbox`` itself when caching is disabled (``enabled`` false, or the environment)."""
    if not enabled or isinstance(sandbox, CachedSandbox):
        return sandbox
    where = default_path()
    if where is None:
        return sandbox
    chosen = Path(path) if path is not None else where
    try:
        store = ExecutionStore(chosen)
    except (OSError, sqlite3.Error) as exc:
        from codesynth.errors import UserError

        sandbox.close()
        raise UserError(f"execution cache {chosen}: cannot open it ({exc}); set {ENV} to "
                        "another path, or to off, or pass --no-cache") from None
    return CachedSandbox(sandbox, store)
