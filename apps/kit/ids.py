"""Identifiers: a type prefix, the creation time in milliseconds, and 80 random
bits. They sort by creation time, so `_id` order is a stable listing order."""

from __future__ import annotations

import secrets
import time


def new_id(prefix: str) -> str:
    return f"{prefix}_{time.time_ns() // 1_000_000:012x}{secrets.token_hex(10)}"
