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

# A minute: a burst (hundreds of orders in an hour) must not make the first page read
# all of it; a sparse list pays a few more reads of empty ranges.
FIRST_WINDOW = timedelta(minutes=1)
WIDENING = 4  # each window reaches this many times further back than the last
WINDOWS = 12  # 1 minute back at least, then 4, 16 ... 4^11 minutes (eight years); then the rest
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
    windows = (
        _Windows(document_type, query, id_prefix, _anchor(position, top), after)
        if newest_first and id_prefix is not None and top is not None
        else None
    )
    found: list[DocumentT]
    if windows is not None:
        found = await windows.read(limit + 1, _reach_hint(position))
    else:
        bound = {} if after is None else {"_id": {"$lt" if newest_first else "$gt": after}}
        found = await _read(document_type, {**query, **bound}, limit + 1, newest_first)
    if len(found) <= limit:
        return found, None
    page, ahead = found[:limit], found[limit]
    following: dict[str, Any] = {"id": page[-1].id}
    if windows is not None:
        # The next page's windows start at the entry this one looked ahead to (nothing
        # lies between), and the first is as long as this page's entries spanned.
        following["next"] = ahead.id
        newest, oldest = created_at(str(page[0].id)), created_at(str(page[-1].id))
        if newest is not None and oldest is not None:
            following["reach"] = (newest - oldest).total_seconds() * 1.5
    return page, encode_cursor(following)


def _anchor(position: dict[str, Any] | None, top: datetime) -> datetime:
    """Where a page's windows reach back from: the entry the previous page looked
    ahead to, or else the cursor's own entry (or now). The first window still reaches
    up to the cursor, so an anchor set further back hides nothing; it only costs."""
    ahead = position.get("next") if position is not None else None
    at = created_at(ahead) if isinstance(ahead, str) else None
    if at is None or at > top:
        return top
    return at + timedelta(milliseconds=1)


def _reach_hint(position: dict[str, Any] | None) -> timedelta:
    reach = position.get("reach") if position is not None else None
    # Never under the first window: a page after a burst of orders, whose own reach was
    # seconds, would otherwise run out of windows before the gap behind the burst.
    if isinstance(reach, int | float) and 0 < reach <= 10 * 365 * 86_400:
        return max(FIRST_WINDOW, timedelta(seconds=reach))
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
