"""How the embedded database serves the reads whose cost should not grow with the
data: `python -m bench.scale.db_limits`. One collection of N documents (20 owners,
an index on (owner, _id)); per size, milliseconds per read of a page of 50 newest
first: with the range open below (a keyset page: MongoDB stops the index scan at
the limit), with the range bounded on both sides, and a bounded range of `_id`
alone; and the plan the database chose for each."""

from __future__ import annotations

import argparse
import secrets
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from pymongo import ASCENDING, DESCENDING, MongoClient
from pymongo.collection import Collection
from pymongo.cursor import Cursor

from apps.devstack.embedded_db import EmbeddedMongo

Documents = Collection[dict[str, Any]]
OWNERS = 20
PAGE = 50


def _ms_per_read(read: Callable[[], object], repeat: int = 5) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        read()
    return (time.perf_counter() - started) / repeat * 1000


def _find(documents: Documents, read: dict[str, Any]) -> Cursor[dict[str, Any]]:
    return documents.find(read["filter"]).sort(read["sort"]).limit(read["limit"])


def _read_all(documents: Documents, read: dict[str, Any]) -> list[dict[str, Any]]:
    return _find(documents, read).to_list()


def _reads(size: int) -> dict[str, dict[str, Any]]:
    """The reads, each from the middle of the owner's documents."""
    middle = f"d{size // 2:08d}"
    floor = f"d{size // 2 - PAGE * OWNERS:08d}"
    newest_first = [("_id", DESCENDING)]
    return {
        "owner, open range, limit": {
            "filter": {"owner": 3, "_id": {"$lt": middle}},
            "sort": newest_first,
            "limit": PAGE + 1,
        },
        "owner, bounded range": {
            "filter": {"owner": 3, "_id": {"$gte": floor, "$lt": middle}},
            "sort": newest_first,
            "limit": PAGE + 1,
        },
        "_id alone, bounded range": {
            "filter": {"_id": {"$gte": floor, "$lt": f"d{size // 2 - PAGE * OWNERS + PAGE:08d}"}},
            "sort": newest_first,
            "limit": PAGE + 1,
        },
    }


def _stages(plan: dict[str, Any]) -> str:
    """The plan's stages from the top down, with the index an index scan reads."""
    stages = []
    while plan:
        index = f" {plan['indexName']}" if plan.get("indexName") else ""
        stages.append(f"{plan.get('stage')}{index}")
        plan = plan.get("inputStage") or {}
    return " < ".join(stages)


def measure(url: str, sizes: list[int]) -> list[dict[str, Any]]:
    rows = []
    client: MongoClient[dict[str, Any]]
    with MongoClient(url) as client:
        documents: Documents = client[f"db_limits_{secrets.token_hex(3)}"]["documents"]
        for size in sizes:
            documents.drop()
            documents.create_index([("owner", ASCENDING), ("_id", DESCENDING)])
            documents.insert_many(
                {"_id": f"d{n:08d}", "owner": n % OWNERS, "pad": "x" * 500} for n in range(size)
            )
            for name, read in _reads(size).items():
                plan = _find(documents, read).explain()["queryPlanner"]["winningPlan"]
                ms = _ms_per_read(partial(_read_all, documents, read))
                rows.append({"size": size, "read": name, "ms": ms, "plan": _stages(plan)})
        client.drop_database(documents.database.name)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scale.db_limits", description=__doc__)
    parser.add_argument("--sizes", default="2000,20000,60000")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    with EmbeddedMongo(None) as url:
        rows = measure(url, sizes)
    print(f"{'documents':>10}  {'read':<28} {'ms':>8}  plan")
    for row in rows:
        print(f"{row['size']:>10}  {row['read']:<28} {row['ms']:>8.1f}  {row['plan']}")


if __name__ == "__main__":
    main()
