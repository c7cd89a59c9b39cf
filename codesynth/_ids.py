"""Content ids: canonical JSON and a stable hash of it (re-exported by ``records``)."""

from __future__ import annotations

import json
from typing import Any


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def content_id(*parts: Any, length: int = 16) -> str:
    """A stable id: the first ``length`` hex digits of sha256 over canonical JSON of ``parts``."""
    import hashlib  # here: loading OpenSSL is ~5 ms of every command's start otherwise

    return hashlib.sha256(canonical_json(list(parts)).encode()).hexdigest()[:length]
