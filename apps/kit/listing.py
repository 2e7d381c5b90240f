"""Keyset listings by `_id` (ids sort by creation time): one page of documents
and the opaque cursor of the next, the same in every service.

A newest-first listing of ids `new_id` made reads windows of creation time
(ADR 0025): each read is a range of `_id` bounded on both sides, so what a page
costs follows the page, not the number of older documents, whatever the
database's planner does with an open range."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from beanie import Document

from apps.kit.clock import utcnow
from apps.kit.ids import created_at, id_floor
from apps.kit.pagination import decode_cursor, encode_cursor

DocumentT = TypeVar("DocumentT", bound=Document)

FIRST_WINDOW = timedelta(hours=1)
WIDENING = 4  # each window reaches this many times further back than the last
WINDOWS = 6  # 1 hour back, then 4, 16, 64, 256 and 1,024 hours; then the rest at once
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


async def keyset_page(
    document_type: type[DocumentT],
    query: dict[str, Any],
    limit: int,
    cursor: str | None,
    *,
    newest_first: bool = False,
    id_prefix: str | None = None,
) -> tuple[list[DocumentT], str | None]:
    """Documents matching `query` after `cursor`, oldest (or newest) first, and
    the next cursor. With `id_prefix` (the prefix `new_id` gives these ids), a
    newest-first page reads time windows."""
    position = decode_cursor(cursor)
    after = str(position.get("id")) if position is not None else None
    top = created_at(after) if after is not None else utcnow()
    found: list[DocumentT]
    if newest_first and id_prefix is not None and top is not None:
        windows = _Windows(document_type, query, id_prefix, top, after)
        found = await windows.read(limit + 1, _reach_hint(position))
    else:
        bound = {} if after is None else {"_id": {"$lt" if newest_first else "$gt": after}}
        found = await _read(document_type, {**query, **bound}, limit + 1, newest_first)
    more = len(found) > limit
    found = found[:limit]
    if not (more and found):
        return found, None
    following: dict[str, Any] = {"id": found[-1].id}
    if newest_first and id_prefix is not None and top is not None:
        # The next page starts with the window this page needed.
        reached = created_at(str(found[-1].id))
        if reached is not None:
            following["reach"] = max(1.0, (top - reached).total_seconds() * 1.5)
    return found, encode_cursor(following)


def _reach_hint(position: dict[str, Any] | None) -> timedelta:
    reach = position.get("reach") if position is not None else None
    if isinstance(reach, int | float) and 1 <= reach <= 10 * 365 * 86_400:
        return timedelta(seconds=reach)
    return FIRST_WINDOW


async def _read(
    document_type: type[DocumentT], query: dict[str, Any], limit: int, newest_first: bool
) -> list[DocumentT]:
    order = "-_id" if newest_first else "_id"
    return await document_type.find(query).sort(order).limit(limit).to_list()


class _Windows:
    """Back in time from `top`, newest first: windows of `_id`, each further back
    than the last, until a page is full; past the last window, the rest at once."""

    def __init__(
        self,
        document_type: type[DocumentT],
        query: dict[str, Any],
        id_prefix: str,
        top: datetime,
        after: str | None,
    ) -> None:
        self._document_type = document_type
        self._query = query
        self._prefix = id_prefix
        self._top = top
        self._after = after

    async def read(self, wanted: int, reach: timedelta) -> list[Any]:
        # The first window is open above: an id from a clock ahead of this one's
        # still lists first.
        below = {} if self._after is None else {"$lt": self._after}
        found: list[Any] = []
        for _ in range(WINDOWS):
            if self._top - reach <= _EPOCH:
                break
            floor = id_floor(self._prefix, self._top - reach)
            found += await self._in({**below, "$gte": floor}, wanted - len(found))
            if len(found) >= wanted:
                return found
            below = {"$lt": floor}
            reach *= WIDENING
        return found + await self._in(below, wanted - len(found))

    async def _in(self, id_range: dict[str, str], limit: int) -> list[Any]:
        query = {**self._query, "_id": id_range}
        return await _read(self._document_type, query, limit, newest_first=True)
