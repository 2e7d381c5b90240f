"""Checks that the filled data is what the services would have written: the
filled documents have the shapes of those the services wrote for orders placed
over HTTP; analytics' read models are the same after a rebuild from the feeds
as before it (so the filled ones are what its projections make); procurement's
stock signals match inventory's levels."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable
from typing import Any

import bson
from pymongo import MongoClient

from apps.analytics.models import READ_MODELS

Client = MongoClient[dict[str, Any]]


def shape(value: Any) -> Hashable:
    """The structure of a document: field names in their stored order and value
    types, all the way down (a list by the shapes of its items)."""
    if isinstance(value, dict):
        return tuple((key, shape(item)) for key, item in value.items())
    if isinstance(value, list):
        return ("list", frozenset(shape(item) for item in value))
    return type(value).__name__


def published(database: Any, field: str, values: Any) -> list[dict[str, Any]]:
    """The published events (in the outbox's pages) whose `field` matches, in order."""
    return list(
        database["outbox_pages"].aggregate(
            [
                {"$match": {f"events.{field}": values}},
                {"$unwind": "$events"},
                {"$replaceRoot": {"newRoot": "$events"}},
                {"$match": {field: values}},
                {"$sort": {"seq": 1}},
            ]
        )
    )


def _related(client: Client, prefix: str, order_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The documents the order path wrote for these orders, by collection."""
    found: dict[str, list[dict[str, Any]]] = {}

    def fetch(service: str, collection: str, query: dict[str, Any]) -> list[dict[str, Any]]:
        documents = list(client[prefix + service][collection].find(query))
        found[f"{service}.{collection}"] = documents
        return documents

    ids = {"$in": order_ids}
    fetch("order", "orders", {"_id": ids})
    fetch("order", "idempotency_keys", {"order_id": ids})
    events = found["order.events"] = published(client[prefix + "order"], "data.order_id", ids)
    fetch("inventory", "reservations", {"_id": ids})
    movements = fetch("inventory", "movements", {"reference": ids})
    found["inventory.events"] = published(client[prefix + "inventory"], "data.reservation_id", ids)
    events += found["inventory.events"]
    fetch("analytics", "order_facts", {"_id": ids})
    versions = [f"{m['sku']}|{m['warehouse_code']}|{m['version']}" for m in movements]
    fetch("analytics", "level_versions", {"_id": {"$in": versions}})
    event_ids = {"$in": [event["_id"] for event in events]}
    fetch("analytics", "processed_events", {"_id": event_ids})
    fetch("procurement", "processed_events", {"_id": event_ids})
    return found


def unlike_the_services(
    client: Client, prefix: str, placed: list[str], filled: list[str]
) -> list[str]:
    """Collections whose filled documents have shapes the services' own documents
    (for the orders placed over HTTP) do not, or the other way round."""
    real, made = _related(client, prefix, placed), _related(client, prefix, filled)
    problems = []
    for collection, documents in real.items():
        theirs = {shape(document) for document in documents}
        ours = {shape(document) for document in made[collection]}
        if not theirs or not ours:
            problems.append(f"{collection}: nothing to compare ({len(theirs)} / {len(ours)})")
        elif theirs != ours:
            problems.append(f"{collection}: filled documents are shaped unlike the services'")
    return problems


Snapshot = dict[str, dict[Any, str]]


def read_models(client: Client, prefix: str) -> Snapshot:
    """Every analytics read model: a digest of each document by its `_id` (the
    models must be bound to their collections: bench.scale.fill.Filler.bind)."""
    database = client[prefix + "analytics"]
    return {
        name: {
            document["_id"]: hashlib.sha256(bson.encode(document)).hexdigest()
            for document in database[name].find()
        }
        for name in (model.get_pymongo_collection().name for model in READ_MODELS)
    }


def differences(before: Snapshot, after: Snapshot) -> list[str]:
    problems = []
    for name, documents in before.items():
        changed = sorted(
            key
            for key in documents.keys() | after[name].keys()
            if documents.get(key) != after[name].get(key)
        )
        if changed:
            problems.append(f"{name}: {len(changed)} documents differ, e.g. {changed[:3]}")
    return problems


Level = dict[str, Any]


def _levels_unlike(
    client: Client,
    prefix: str,
    warehouse: str,
    who: str,
    known: Callable[[Level], Any],
    expected: Callable[[Level], Any],
) -> list[str]:
    """`who`'s view of each level in the warehouse (`known`) against what inventory's
    says it should be (`expected`)."""
    problems = []
    for level in client[prefix + "inventory"]["stock_levels"].find({"warehouse_code": warehouse}):
        if (theirs := known(level)) != (ours := expected(level)):
            problems.append(f"{level['_id']}: {who} knows {theirs}, inventory {ours}")
    return problems


def signals_unlike_levels(client: Client, prefix: str, warehouse: str) -> list[str]:
    """Procurement's latest level per SKU in the warehouse against inventory's."""
    signals = {
        signal["_id"]: signal.get("levels", {})
        for signal in client[prefix + "procurement"]["stock_signals"].find()
    }
    return _levels_unlike(
        client,
        prefix,
        warehouse,
        "procurement",
        lambda level: signals.get(level["sku"], {}).get(level["warehouse_code"]),
        lambda level: {
            "available": level["on_hand"] - level["reserved"],
            "version": level["version"],
        },
    )


LEVEL_VALUES = ("version", "on_hand", "reserved")


def current_levels_unlike_levels(client: Client, prefix: str, warehouse: str) -> list[str]:
    """Analytics' current level of each SKU in the warehouse against inventory's."""
    current = {
        found["_id"]: {key: found[key] for key in LEVEL_VALUES}
        for found in client[prefix + "analytics"]["current_levels"].find(
            {"warehouse_code": warehouse}
        )
    }
    return _levels_unlike(
        client,
        prefix,
        warehouse,
        "analytics",
        lambda level: current.get(f"{level['sku']}|{level['warehouse_code']}"),
        lambda level: {key: level[key] for key in LEVEL_VALUES},
    )
