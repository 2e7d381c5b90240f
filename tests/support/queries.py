"""Which queries ran without an index: the database's profiler records every operation
(SecantusDB and MongoDB alike: `profile` level 2 into `<db>.system.profile`), and each
recorded read is explained again; a plan with a COLLSCAN is a query no index serves."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from pymongo.database import Database

Document = dict[str, Any]


@contextmanager
def profiled(databases: list[Database[Document]]) -> Iterator[None]:
    """Record every operation on these databases while the block runs."""
    for database in databases:
        database["system.profile"].drop()
        database.command("profile", 2, slowms=0)
    try:
        yield
    finally:
        for database in databases:
            database.command("profile", 0)


def _reads(command: Mapping[str, Any]) -> Iterator[Document]:
    """The reads inside one recorded command, as `find`-shaped explain targets."""
    name = next(iter(command), "")
    collection = command.get(name)
    if not isinstance(collection, str) or collection.startswith("system."):
        return
    if name in {"find", "count", "distinct"}:
        yield {
            "find": collection,
            "filter": command.get("filter") or command.get("query") or {},
            **({"sort": command["sort"]} if command.get("sort") else {}),
        }
    elif name == "aggregate":
        # The planner serves a leading $match and the $sort right after it (or a
        # leading $sort) from an index; later stages work on what those return.
        stages = [stage for stage in command.get("pipeline") or [] if isinstance(stage, Mapping)]
        head = stages[0] if stages else {}
        match = head.get("$match", {})
        after = stages[1:] if "$match" in head else stages
        sort = after[0].get("$sort") if after else None
        yield {"find": collection, "filter": match, **({"sort": sort} if sort else {})}
    elif name == "findAndModify":
        yield {
            "find": collection,
            "filter": command.get("query") or {},
            **({"sort": command["sort"]} if command.get("sort") else {}),
        }
    elif name in {"update", "delete"}:
        for statement in command.get("updates" if name == "update" else "deletes") or []:
            yield {"find": collection, "filter": statement.get("q") or {}}


def _stages(plan: Mapping[str, Any]) -> Iterator[str]:
    yield str(plan.get("stage"))
    for key in ("inputStage", "queryPlan"):
        if isinstance(plan.get(key), Mapping):
            yield from _stages(plan[key])
    for child in plan.get("inputStages") or []:
        yield from _stages(child)


def _by_id(filter_: Mapping[str, Any]) -> bool:
    """An equality (or $in) on _id, at the top or in a top-level $and: MongoDB serves it
    from the _id index whatever else the filter says (SecantusDB's explain reports a
    COLLSCAN once other fields join _id, although _id alone gives IXSCAN)."""
    value = filter_.get("_id")
    if value is not None and (not isinstance(value, Mapping) or {"$eq", "$in"} & set(value)):
        return True
    return any(_by_id(part) for part in filter_.get("$and") or [] if isinstance(part, Mapping))


def _constrained(filter_: Mapping[str, Any]) -> set[str]:
    """Fields a filter bounds by equality, $in or a range (top level and top-level $and)."""
    fields = set()
    for field, value in filter_.items():
        if field == "$and":
            for part in value:
                fields |= _constrained(part)
        elif not field.startswith("$") and (
            not isinstance(value, Mapping)
            or {"$eq", "$in", "$gt", "$gte", "$lt", "$lte"} & set(value)
        ):
            fields.add(field)
    return fields


def _index_serves(read: Mapping[str, Any], keys: list[list[str]]) -> bool:
    """Whether MongoDB's planner can answer the read from one of these indexes: one
    whose leading field the filter bounds, or (no usable filter) whose leading field
    is the sort's. SecantusDB's own planner is narrower (it reports a COLLSCAN for a
    filter on more fields than its index has), so its COLLSCAN is checked again here."""
    bounded = _constrained(read["filter"])
    sort = next(iter(read.get("sort") or {}), None)
    return any(index[0] in bounded or index[0] == sort for index in keys)


def recorded_reads(database: Database[Document]) -> list[Document]:
    """Every distinct read recorded on `database`, as `find`-shaped explain targets."""
    found: dict[str, Document] = {}
    for entry in database["system.profile"].find():
        for read in _reads(entry.get("command") or {}):
            found.setdefault(repr(read), read)
    return list(found.values())


def unindexed_reads(database: Database[Document], read_whole: Collection[str] = ()) -> list[str]:
    """Every distinct read recorded on `database` that no index serves. A read with no
    filter and no sort of a collection in `read_whole` (one the service reads whole by
    design; the caller says why) is accepted, and such an exemption that nothing used
    is reported too, so a stale one does not linger."""
    found: list[str] = []
    unused = set(read_whole)
    for read in recorded_reads(database):
        if _by_id(read["filter"]):
            continue
        if read["find"] in read_whole and not read["filter"] and "sort" not in read:
            unused.discard(read["find"])
            continue
        plan = database.command("explain", read, verbosity="queryPlanner")
        if "COLLSCAN" not in set(_stages(plan["queryPlanner"]["winningPlan"])):
            continue
        # A collection not made yet has no index listed; it will have _id's.
        keys = [list(index["key"]) for index in database[read["find"]].list_indexes()]
        if not _index_serves(read, keys or [["_id"]]):
            found.append(f"{database.name}.{read['find']}: {read}")
    found += [f"{database.name}.{name}: exempt as read whole, never read whole" for name in unused]
    return sorted(found)
