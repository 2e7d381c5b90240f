"""Newest-first keyset pages (`apps.kit.listing.keyset_page` with `id_prefix`):
every document listed once, in order, whatever the gaps in time; and a page reads
only ranges of about a page, however many older documents there are (ADR 0025)."""

from __future__ import annotations

import random
import secrets
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pymongo
import pytest
from beanie import init_beanie
from pymongo import AsyncMongoClient, IndexModel, MongoClient

from apps.kit.clock import utcnow
from apps.kit.documents import KeyedDocument
from apps.kit.ids import created_at, id_floor, new_id
from apps.kit.listing import keyset_page
from tests.support.queries import Document, profiled


class Entry(KeyedDocument):
    id: str
    owner: str

    class Settings:
        name = "entries"
        indexes = [IndexModel([("owner", pymongo.ASCENDING), ("_id", pymongo.DESCENDING)])]


@pytest.fixture
async def database(mongo_url: str) -> AsyncIterator[str]:
    name = f"listing{secrets.token_hex(4)}"
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    await init_beanie(database=client[name], document_models=[Entry])
    yield name
    await client.drop_database(name)
    await client.close()


async def _store(moments: list[datetime], owner: str = "a") -> list[str]:
    ids = [new_id("ent", at) for at in moments]
    await Entry.get_pymongo_collection().insert_many([{"_id": i, "owner": owner} for i in ids])
    return sorted(ids, reverse=True)


async def _walk(limit: int, owner: str = "a") -> list[str]:
    listed: list[str] = []
    cursor: str | None = None
    for _ in range(10_000):
        page, cursor = await keyset_page(
            Entry, {"owner": owner}, limit, cursor, newest_first=True, id_prefix="ent"
        )
        listed += [entry.id for entry in page]
        if cursor is None:
            return listed
    raise AssertionError("the pages never ended")


def test_ids_tell_their_time_and_floors_divide_them() -> None:
    at = utcnow().replace(microsecond=123_000)
    made = new_id("ent", at)
    assert created_at(made) == at
    assert id_floor("ent", at) <= made < id_floor("ent", at + timedelta(milliseconds=1))
    assert len(id_floor("ent", at)) == len(made)
    assert created_at("DIST-042") is None
    assert created_at("ent_" + "f" * 32) is None  # past year 9999


SHAPES = {
    "dense, every few minutes for a day": [timedelta(minutes=3 * k) for k in range(480)],
    "sparse, gaps longer than every window": [timedelta(days=70 * k) for k in range(9)],
    "on the windows' edges": [timedelta(hours=h) for h in (0, 1, 1, 4, 5, 16, 21, 64, 85)],
    "bursts a year apart": [timedelta(days=365 * (k // 30), seconds=k) for k in range(120)],
    "random over three years": [
        timedelta(seconds=random.Random(7).randrange(3 * 365 * 86_400)) for _ in range(300)
    ],
}


@pytest.mark.usefixtures("database")
@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("limit", [1, 7, 50])
async def test_pages_list_every_document_once_newest_first(shape: str, limit: int) -> None:
    now = utcnow()
    stored = await _store([now - ago for ago in SHAPES[shape]])
    await _store([now - timedelta(minutes=k) for k in range(30)], owner="b")
    assert await _walk(limit) == stored


@pytest.mark.usefixtures("database")
async def test_an_id_from_a_clock_ahead_still_lists_first() -> None:
    now = utcnow()
    stored = await _store([now + timedelta(minutes=5), now, now - timedelta(days=2)])
    assert await _walk(2) == stored


async def _ranges_read(mongo_url: str, database: str, limit: int) -> list[int]:
    """Walk every page: per page, the entries in the ranges its reads covered."""
    covered: list[int] = []
    cursor: str | None = None
    with MongoClient[Document](mongo_url) as sync:
        entries = sync[database]["entries"]
        while True:
            with profiled([sync[database]]):
                _, cursor = await keyset_page(
                    Entry, {"owner": "a"}, limit, cursor, newest_first=True, id_prefix="ent"
                )
            reads = sync[database]["system.profile"].find({"command.find": "entries"})
            covered.append(sum(entries.count_documents(op["command"]["filter"]) for op in reads))
            if cursor is None:
                return covered


async def test_a_page_after_a_burst_reads_across_a_long_gap_in_windows(
    database: str, mongo_url: str
) -> None:
    """A burst of 100 entries in the last two minutes, and 900 over ten days a year
    before: the page after the burst reached back seconds, and the pages after it must
    still find the old entries in windows, not each in one read of everything older."""
    now = utcnow()
    await _store([now - timedelta(seconds=1.2 * k) for k in range(100)])
    await _store([now - timedelta(days=365, minutes=16 * k) for k in range(900)])
    covered = await _ranges_read(mongo_url, database, limit=20)
    assert len(covered) == 50
    # The page that crosses the gap reads the window that lands past it; every other
    # page, a few pages' worth.
    crossing = covered.index(max(covered))
    assert all(pages <= 10 * 20 for pages in covered[:crossing] + covered[crossing + 1 :]), covered


async def test_a_page_reads_ranges_of_about_a_page_however_long_the_history(
    database: str, mongo_url: str
) -> None:
    """3,000 entries over 30 days: each page's reads together cover a few pages'
    worth of entries, where one open-ended read covers every older one."""
    now = utcnow()
    await _store([now - timedelta(minutes=14.4 * k) for k in range(3_000)])
    limit = 20
    cursor: str | None = None
    with MongoClient[Document](mongo_url) as sync:
        entries = sync[database]["entries"]
        for _ in range(5):
            with profiled([sync[database]]):
                _, cursor = await keyset_page(
                    Entry, {"owner": "a"}, limit, cursor, newest_first=True, id_prefix="ent"
                )
            reads = [
                op["command"]["filter"]
                for op in sync[database]["system.profile"].find({"command.find": "entries"})
            ]
            covered = sum(entries.count_documents(read) for read in reads)
            assert reads
            assert covered <= 10 * limit, (covered, reads)


async def test_the_first_page_of_a_burst_reads_about_a_page_not_the_burst(
    database: str, mongo_url: str
) -> None:
    """400 entries in the last 50 minutes (a distributor's integration replaying its
    backlog, or the scale bench): the first page reads a few pages' worth, not every
    entry of the last hour."""
    now = utcnow()
    await _store([now - timedelta(seconds=7.5 * k) for k in range(400)])
    await _store([now - timedelta(days=3, minutes=k) for k in range(100)])
    covered = await _ranges_read(mongo_url, database, limit=50)
    assert covered[0] <= 3 * 50, covered
