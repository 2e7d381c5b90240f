"""The first document of each group in an index's order: the latest cost of each SKU,
the latest version of each level before a moment. The `$sort` leads with the group's
fields, so an index in that order serves it (MongoDB then reads one entry per group
where the `$match` allows: a DISTINCT_SCAN)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from beanie import Document

Order = Sequence[tuple[str, int]]


async def first_of_each(
    document: type[Document],
    group: Sequence[str],
    latest: Order,
    fields: Sequence[str],
    match: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """Per distinct `group` value among the documents `match` selects, the `fields` of
    the first one in `latest` order, with the group's own fields."""
    key: str | dict[str, str] = (
        f"${group[0]}" if len(group) == 1 else {name: f"${name}" for name in group}
    )
    pipeline: list[dict[str, Any]] = [
        *([{"$match": dict(match)}] if match else []),
        {"$sort": {**dict.fromkeys(group, 1), **dict(latest)}},
        {"$group": {"_id": key, **{name: {"$first": f"${name}"} for name in fields}}},
    ]
    cursor = await document.get_pymongo_collection().aggregate(pipeline)
    found = []
    async for row in cursor:
        value = row.pop("_id")
        found.append({**(value if isinstance(value, dict) else {group[0]: value}), **row})
    return found
