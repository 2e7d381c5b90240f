"""Identifiers: a type prefix, the creation time in milliseconds, and 80 random
bits. They sort by creation time, so `_id` order is a stable listing order."""

from __future__ import annotations

import secrets
import time
from datetime import datetime


def new_id(prefix: str, at: datetime | None = None) -> str:
    """A new id created now, or at `at` (for documents made for an earlier moment)."""
    millis = time.time_ns() // 1_000_000 if at is None else int(at.timestamp() * 1000)
    return f"{prefix}_{millis:012x}{secrets.token_hex(10)}"
