"""A persistent response cache (SQLite), keyed by the semantic request.

The key covers what determines a reply: model, request kind, messages or prompt, sampling
parameters, seed and sample index. Timeouts, retry settings and the server's address do
not: a re-run against the same model costs nothing, and a killed run resumes without sending
any completed request again (every reply is committed as it arrives).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from codesynth.records import canonical_json


def request_key(request: dict[str, Any]) -> str:
    return hashlib.blake2b(canonical_json(request).encode(), digest_size=20).hexdigest()


class ResponseCache:
    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, "
                         "request TEXT NOT NULL, response TEXT NOT NULL, created REAL)")

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT response FROM responses WHERE key = ?",
                                   (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def put(self, key: str, request: dict[str, Any], response: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?)",
                             (key, canonical_json(request), json.dumps(response), time.time()))

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
