"""Keyset listings by `_id` (ids sort by creation time): one page of documents
and the opaque cursor of the next, the same in every service."""

from __future__ import annotations

from typing import Any, TypeVar

from beanie import Document

from apps.kit.pagination import decode_cursor, encode_cursor

DocumentT = TypeVar("DocumentT", bound=Document)


async def keyset_page(
    document_type: type[DocumentT],
    query: dict[str, Any],
    limit: int,
    cursor: str | None,
    *,
    newest_first: bool = False,
) -> tuple[list[DocumentT], str | None]:
    """Documents matching `query` after `cursor`, oldest (or newest) first, and
    the next cursor."""
    position = decode_cursor(cursor)
    if position is not None:
        operator = "$lt" if newest_first else "$gt"
        query = {**query, "_id": {operator: str(position.get("id"))}}
    order = "-_id" if newest_first else "_id"
    found = await document_type.find(query).sort(order).limit(limit + 1).to_list()
    more = len(found) > limit
    found = found[:limit]
    return found, encode_cursor({"id": found[-1].id}) if more and found else None
