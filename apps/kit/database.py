"""One MongoDB client per process, Beanie models and indexes, and transactions."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from beanie import Document, init_beanie
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import PyMongoError
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from apps.kit.metrics import counter

log = logging.getLogger("glosleep.database")
TRANSACTION_RETRIES = counter(
    "transaction_retries",
    "Transactions run again after a write conflict or another transient error.",
)

T = TypeVar("T")


class Database:
    """Owns the client; `ready` once connected and every index is built."""

    def __init__(self, url: str, name: str, documents: Sequence[type[Document]]) -> None:
        self._url = url
        self.name = name
        self._documents = list(documents)
        self._client: AsyncMongoClient[dict[str, Any]] | None = None
        self.ready = False

    @property
    def client(self) -> AsyncMongoClient[dict[str, Any]]:
        if self._client is None:
            raise RuntimeError("the database is not connected yet")
        return self._client

    async def connect(self, retry_seconds: float = 2.0) -> None:
        """Connect and build indexes, retrying until the server answers, so a
        service that starts before its database waits instead of crash-looping."""
        self._client = AsyncMongoClient(
            self._url,
            tz_aware=True,
            uuidRepresentation="standard",
            serverSelectionTimeoutMS=5_000,
            # Also the heartbeat's timeout: a heartbeat that times out interrupts every
            # write in flight, and the driver's retry of a write the server is still
            # applying can then collide with it (a duplicate key on a fresh token,
            # seen under heavy load). MongoDB's default, rather than a hair trigger.
            connectTimeoutMS=20_000,
            appname=self.name,
            # An acknowledged write survives a crash: on a replica set it is on a
            # majority of members, in their journals (docs/architecture.md).
            w="majority",
            journal=True,
        )
        attempt = 0
        while True:
            attempt += 1
            try:
                await self._client.admin.command("ping")
                await init_beanie(database=self._client[self.name], document_models=self._documents)
                break
            except PyMongoError as error:
                log.warning(
                    "database not reachable yet", extra={"attempt": attempt, "error": str(error)}
                )
                await asyncio.sleep(retry_seconds)
        self.ready = True
        log.info("database ready", extra={"database": self.name})

    async def ping(self) -> bool:
        if self._client is None or not self.ready:
            return False
        try:
            await self._client.admin.command("ping")
        except PyMongoError as error:
            log.warning("database ping failed", extra={"database": self.name, "error": repr(error)})
            return False
        return True

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None
        self.ready = False

    async def in_transaction(self, work: Callable[[AsyncClientSession], Awaitable[T]]) -> T:
        """Run `work` in a multi-document transaction, retried on transient
        conflicts (the driver's with_transaction loop)."""
        return await in_transaction(self.client, work)


async def in_transaction(
    client: AsyncMongoClient[dict[str, Any]], work: Callable[[AsyncClientSession], Awaitable[T]]
) -> T:
    """`Database.in_transaction` for code that holds a collection, not the kit."""
    attempts = 0

    async def attempt(session: AsyncClientSession) -> T:
        nonlocal attempts
        attempts += 1
        if attempts > 1:
            TRANSACTION_RETRIES.inc()
        return await work(session)

    async with client.start_session() as session:
        return await session.with_transaction(
            attempt,
            read_concern=ReadConcern("snapshot"),
            write_concern=WriteConcern("majority", j=True),
        )
