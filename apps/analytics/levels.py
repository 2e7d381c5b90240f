"""Stock levels: every version (the position at a past moment is the highest version
before it) and the current level per (sku, warehouse), raised by the projection, so
the position now reads one document per level however long the history grows."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from apps.analytics.latest import first_of_each
from apps.analytics.models import CurrentLevel, Level, LevelVersion
from apps.kit.app import AppKit
from apps.kit.documents import set_unless_newer

log = logging.getLogger("glosleep.analytics.levels")

LEVEL = ("sku", "warehouse_code")
VALUES = [name for name in Level.model_fields if name not in LEVEL]


def _key(level: Level) -> str:
    return f"{level.sku}|{level.warehouse_code}"


async def raise_current(level: Level, session: AsyncClientSession | None) -> None:
    """The current level takes this version unless it holds a higher one."""
    await set_unless_newer(
        CurrentLevel.get_pymongo_collection(),
        _key(level),
        {"version": {"$not": {"$gte": level.version}}},
        level.model_dump(include=set(Level.model_fields)),
        session,
    )


async def positions(match: dict[str, Any], cutoff: datetime | None) -> list[Level]:
    """The level of each (sku, warehouse) `match` selects at the cutoff (now if none),
    in (sku, warehouse) order."""
    if cutoff is None:
        found: list[Level] = list(await CurrentLevel.find(match).to_list())
    else:
        rows = await first_of_each(
            LevelVersion, LEVEL, [("version", -1)], VALUES, {**match, "at": {"$lt": cutoff}}
        )
        found = [Level.model_validate(row) for row in rows]
    return sorted(found, key=lambda level: (level.sku, level.warehouse_code))


async def fill_current_levels(_: AppKit | None = None) -> None:
    """A database from before the current levels were kept gets them from its versions,
    once (the projection keeps them from then on)."""
    if await CurrentLevel.find_one() is not None:
        return
    latest = await first_of_each(LevelVersion, LEVEL, [("version", -1)], VALUES, {})
    for row in latest:
        await raise_current(Level.model_validate(row), None)
    if latest:
        log.info("current levels filled from their versions", extra={"levels": len(latest)})
