"""Idempotency by natural keys: a request's content is fingerprinted and kept
with the key, so a retry with the same content replays the first answer and
the same key with other content is a conflict."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def fingerprint(content: Any) -> str:
    """A stable digest of JSON-like content (dict key order does not matter)."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
