"""Identifiers: a type prefix, the creation time in milliseconds, and 80 random
bits. They sort by creation time, so `_id` order is a stable listing order."""

from __future__ import annotations

import re
import secrets
import time
from datetime import UTC, datetime

_RANDOM_DIGITS = 20
_MADE_HERE = re.compile(rf"^[a-z]+_([0-9a-f]{{12}})[0-9a-f]{{{_RANDOM_DIGITS}}}$")


def new_id(prefix: str, at: datetime | None = None) -> str:
    """A new id created now, or at `at` (for documents made for an earlier moment)."""
    millis = time.time_ns() // 1_000_000 if at is None else _millis(at)
    return f"{prefix}_{millis:012x}{secrets.token_hex(_RANDOM_DIGITS // 2)}"


def id_floor(prefix: str, at: datetime) -> str:
    """The lowest id of `prefix` created at `at`: above every earlier one.

    As long as the ids themselves: the embedded database's compound index ranges
    lose the strings that merely extend a bound ("abcd" is not >= "abc" there)."""
    return f"{prefix}_{max(0, _millis(at)):012x}{'0' * _RANDOM_DIGITS}"


def created_at(an_id: str) -> datetime | None:
    """When `new_id` made this id; None for an id it did not make."""
    made = _MADE_HERE.match(an_id)
    if made is None:
        return None
    try:
        return datetime.fromtimestamp(int(made.group(1), 16) / 1000, UTC)
    except (OverflowError, ValueError, OSError):  # past year 9999: not one new_id made
        return None


def _millis(at: datetime) -> int:
    return int(at.timestamp() * 1000)
