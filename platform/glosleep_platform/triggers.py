"""Command triggers with a meaning the offline diff must know."""

from __future__ import annotations

import uuid

EVERY_UPDATE = "every-update:"


def every_update() -> str:
    """A trigger that differs on every run of the program, so its Command runs on every
    `pulumi up`. The structural diff (graph_diff) does not count it as a change."""
    return EVERY_UPDATE + uuid.uuid4().hex


def is_every_update(value: object) -> bool:
    return isinstance(value, str) and value.startswith(EVERY_UPDATE)
