"""Keyset listings by `_id` (ids sort by creation time): one page of documents
and the opaque cursor of the next, the same in every service."""

from __future__ import annotations

from typing import Any, TypeVar

from beanie import Document

from apps.kit.pagination import decode_cursor, encode_cursor

DocumentT = TypeVar("DocumentT", bound=Document)


async def keyset_page(
    document_type: type[DocumentT], query: dict[str, Any], limit: int, cursor: str | None
) -> tuple[list[DocumentT], str | None]:
    """Documents matching `query` after `cursor`, oldest first, and the next cursor."""
    position = decode_cursor(cursor)
    if position is not None:
        query = {**query, "_id": {"$gt": str(position.get("id"))}}
    found = await document_type.find(query).sort("_id").limit(limit + 1).to_list()
    more = len(found) > limit
    found = found[:limit]
    return found, encode_cursor({"id": found[-1].id}) if more and found else None
