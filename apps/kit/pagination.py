"""Opaque cursors for keyset pagination, the same in every listing."""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from apps.kit.problems import BadRequest

ItemT = TypeVar("ItemT")

CURSOR_MAX_LENGTH = 512
CURSOR_DESCRIPTION = "`next_cursor` of the previous page."
PageLimit = Annotated[int, Query(ge=1, le=200, description="Items per page.")]
Cursor = Annotated[str | None, Query(max_length=CURSOR_MAX_LENGTH, description=CURSOR_DESCRIPTION)]


class Page(BaseModel, Generic[ItemT]):
    items: list[ItemT]
    next_cursor: str | None = None


def encode_cursor(position: dict[str, Any]) -> str:
    raw = json.dumps(position, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        position = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("The cursor is not valid.", slug="bad-cursor") from None
    if not isinstance(position, dict):
        raise BadRequest("The cursor is not valid.", slug="bad-cursor")
    return position
