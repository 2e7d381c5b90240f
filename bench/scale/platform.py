"""The platform the scale phase measures: all five services as processes on one
embedded (in-memory) database, as `make bench` and the tests start them, with a
catalogue, stock and distributor users made through the APIs; and the wait
until it is idle (every event relayed and consumed)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
from pymongo import MongoClient
from pymongo.database import Database

from apps.devstack.embedded_db import EmbeddedMongo
from apps.devstack.stack import SERVICE_ACCOUNTS, SERVICES, LocalStack, StackConfig
from apps.inventory.settings import InventorySettings
from apps.order.inventory_client import CatalogEntry
from apps.order.models import Address
from bench.baseline import WAREHOUSE
from bench.run import CpuTally, Setup
from bench.scale.fill import Customer, Shop

PREFIX = "scale_"
# Starting five services takes about a minute on a busy two-core machine.
START_SECONDS = 300.0
# Feeds each consumer follows: (consumer, source).
CONSUMED = [
    ("analytics", "order"),
    ("analytics", "inventory"),
    ("analytics", "procurement"),
    ("procurement", "inventory"),
]


@dataclass
class Platform:
    stack: LocalStack
    setup: Setup
    mongo_url: str
    prefix: str  # of the services' databases
    database: EmbeddedMongo | None = None  # when the run started it

    def pids(self) -> dict[str, int | None]:
        """Each service's process and the database's."""
        pids: dict[str, int | None] = {name: self.stack.process(name).pid for name in SERVICES}
        if self.database is not None:
            pids["database"] = self.database.pid
        return pids

    def db(self, client: MongoClient[dict[str, Any]], service: str) -> Database[dict[str, Any]]:
        return client[self.prefix + service]

    def url(self, service: str, path: str) -> str:
        return self.stack.url(service) + path

    def shop(self, client: MongoClient[dict[str, Any]]) -> Shop:
        """What the fill needs: the distributors with their users, the catalogue as
        the order service prices it, the warehouse, who reserves, for how long."""
        users: dict[str, str] = {}
        for headers in self.setup.tokens:
            token = headers["Authorization"].removeprefix("Bearer ")
            claims = jwt.decode(token, options={"verify_signature": False})
            users[str(claims["distributor_id"])] = str(claims["sub"])
        customers = [
            Customer(
                id=found["_id"],
                name=found["name"],
                region=found["region"],
                shipping_address=Address.model_validate(found["shipping_address"]),
                user_id=users[found["_id"]],
            )
            for found in self.db(client, "order")["distributors"].find(
                {"_id": {"$in": sorted(users)}}
            )
        ]
        catalog = {
            product["_id"]: CatalogEntry(
                sku=product["_id"],
                name=product["name"],
                category=product["category"],
                unit_price_paise=product["unit_price_paise"],
                gst_rate_bps=product["gst_rate_bps"],
                active=product["active"],
            )
            for product in self.db(client, "inventory")["products"].find(
                {"_id": {"$in": self.setup.skus}}
            )
        }
        ttl = InventorySettings.model_fields["reservation_ttl_seconds"].default
        return Shop(
            customers=sorted(customers, key=lambda c: c.id),
            catalog=catalog,
            warehouse=WAREHOUSE,
            order_actor=SERVICE_ACCOUNTS["order"][0],
            reservation_ttl=timedelta(seconds=ttl),
        )


@contextmanager
def running_platform(
    work: Path,
    distributors: int,
    skus: int,
    cache_size: str | None = None,
    oplog_entries: int | None = None,
) -> Iterator[Platform]:
    admin_email, admin_password = "admin@bench.glosleep.test", "bench-" + secrets.token_hex(12)
    database = EmbeddedMongo(
        storage=None,
        log=work / "database.log",
        cache_size=cache_size,
        oplog_entries=oplog_entries,
        stall_free=True,  # ADR 0033
    )
    with database as mongo_url:
        stack = LocalStack(
            StackConfig(
                mongo_url=mongo_url,
                database_prefix=PREFIX,
                log_dir=work,
                admin_email=admin_email,
                admin_password=admin_password,
            )
        )
        try:
            print(f"starting {', '.join(SERVICES)} on the embedded database (logs: {work}) ...")
            stack.start(SERVICES, START_SECONDS)
            setup = Setup(stack, admin_email, admin_password, skus)
            setup.catalogue()
            setup.distributors(distributors)
            yield Platform(stack, setup, mongo_url, PREFIX, database)
        finally:
            stack.stop()


def backlog(client: MongoClient[dict[str, Any]], prefix: str) -> dict[str, int]:
    """What is not relayed or consumed yet: unnumbered events per producer, and
    events per (consumer, source) after the consumer's cursor."""
    counters: dict[str, int] = {}
    waiting: dict[str, int] = {}
    for service in ("order", "inventory", "procurement"):
        database = client[prefix + service]
        counter = database["outbox_counters"].find_one({"_id": "outbox"}) or {"value": 0}
        counters[service] = int(counter["value"])
        waiting[f"{service} relay"] = database["outbox"].count_documents({"seq": None})
    for consumer, source in CONSUMED:
        cursor = client[prefix + consumer]["consumer_cursors"].find_one({"_id": source})
        after = int(cursor["after"]) if cursor else 0
        waiting[f"{consumer} <- {source}"] = counters[source] - after
    return {name: n for name, n in waiting.items() if n}


def wait_until_idle(
    client: MongoClient[dict[str, Any]], prefix: str, seconds: float = 600.0
) -> float:
    """Wait until every event is relayed and consumed; answers how long it took."""
    started = time.monotonic()
    while waiting := backlog(client, prefix):
        if time.monotonic() - started > seconds:
            raise RuntimeError(f"the platform did not catch up within {seconds:.0f} s: {waiting}")
        time.sleep(0.1)
    return time.monotonic() - started


# The platform at rest (relay and consumer polls, the database's heartbeat) uses about
# a tenth of a core; after a fill of 100k orders the database goes on working for a while.
QUIET_CORES = 0.25
QUIET_WINDOW_SECONDS = 1.0
QUIET_WINDOWS = 3


def wait_until_quiet(pids: dict[str, int | None], seconds: float = 300.0) -> float:
    """Wait until the platform's processes together use under QUIET_CORES for
    QUIET_WINDOWS windows in a row, so that a size's requests are not measured
    against the fill's aftermath; answers how long it took (`seconds` at most)."""
    started = time.monotonic()
    quiet = 0
    tally = CpuTally(pids)
    while quiet < QUIET_WINDOWS and time.monotonic() - started < seconds:
        tally.seconds.clear()
        with tally.measure():
            time.sleep(QUIET_WINDOW_SECONDS)
        busy = sum(spent for name, spent in tally.seconds.items() if name != "client")
        quiet = quiet + 1 if busy < QUIET_CORES * QUIET_WINDOW_SECONDS else 0
    return time.monotonic() - started
