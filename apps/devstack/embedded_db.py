"""SecantusDB, a MongoDB-wire server from PyPI, as the embedded database for
development and tests when no `MONGO_URL` is given."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from types import TracebackType
from typing import Any

from pymongo import MongoClient
from pymongo.errors import PyMongoError

from apps.devstack.ports import free_port
from apps.devstack.processes import ManagedProcess


def server_binary() -> str:
    found = Path(sys.executable).parent / "secantusd-py"
    if found.exists():
        return str(found)
    on_path = shutil.which("secantusd-py")
    if on_path is None:
        raise RuntimeError("secantusd-py is not installed; run `make install`")
    return on_path


class EmbeddedMongo(ManagedProcess):
    """A SecantusDB server process. `storage` is a folder that survives restarts,
    or None for a throw-away in-memory store.

    With a storage folder the server syncs its log on every commit
    (`--sync-on-commit`): without it SecantusDB acknowledges a transaction before
    its log reaches the disk, and a kill -9 loses the last tens of milliseconds
    of acknowledged transactions (its own docs: write concerns are accepted and
    ignored). The in-memory store is for tests and has nothing to keep.

    `cache_size` ("4G") is the server's WiredTiger cache; in memory it is also the
    most data the store holds (1G unless given: beyond it every write fails with
    WT_CACHE_FULL).

    Three of SecantusDB's own jobs stop every request for a time that grows with
    the data; MongoDB has none of them. The scale bench turns them off (ADR 0033);
    development and the tests keep SecantusDB's defaults:
    - `oplog_entries` caps the oplog by its number of entries only, with no time
      limit, as MongoDB bounds its oplog by size only. Unless given, SecantusDB keeps
      100,000 entries or an hour, and past either trims the oldest 1,000 every
      1,000 writes.
    - `stall_free=True` stops the TTL sweep and keeps each garbage collection to the
      objects made since the last full one (apps/devstack/secantusd_without_stalls.py).
      Every minute the sweep reads and decodes every document of each collection with
      a TTL index, expired or not (247 ms for 16,000 idempotency records), where
      MongoDB's TTL monitor reads the index's expired range. SecantusDB is a Python
      process whose heap grows with its data, and each full collection walks all of
      it (up to 650 ms at 100k orders)."""

    # An oplog entry older than this is trimmed even under the cap: a year, so
    # that in practice only the cap trims.
    OPLOG_RETENTION_SECONDS = 365 * 24 * 3600

    def __init__(
        self,
        storage: Path | None,
        port: int | None = None,
        log: Path | None = None,
        cache_size: str | None = None,
        oplog_entries: int | None = None,
        stall_free: bool = False,
    ):
        super().__init__("the embedded database", log)
        self.storage = storage
        self.port = port or free_port()
        self.cache_size = cache_size
        self.oplog_entries = oplog_entries
        self.stall_free = stall_free

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def command(self) -> list[str]:
        return [
            *self._server(),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--storage-path",
            str(self.storage) if self.storage else ":memory:",
            "--log-level",
            "WARNING",
            *(["--sync-on-commit"] if self.storage else []),
            *(["--cache-size", self.cache_size] if self.cache_size else []),
            *(self._oplog_options() if self.oplog_entries else []),
        ]

    def _server(self) -> list[str]:
        if self.stall_free:
            return [sys.executable, "-m", "apps.devstack.secantusd_without_stalls"]
        return [server_binary()]

    def _oplog_options(self) -> list[str]:
        return [
            "--oplog-max-entries",
            str(self.oplog_entries),
            "--oplog-retention-seconds",
            str(self.OPLOG_RETENTION_SECONDS),
        ]

    def is_ready(self) -> bool:
        client: MongoClient[dict[str, Any]]
        try:
            with MongoClient(self.url, serverSelectionTimeoutMS=500) as client:
                client.admin.command("ping")
        except PyMongoError:
            return False
        return True

    def start(self, timeout_seconds: float = 30.0) -> str:
        """Start, wait until it answers, and answer its connection string."""
        if self.storage is not None:
            self.storage.mkdir(parents=True, exist_ok=True)
        self.spawn()
        try:
            self.wait_ready(timeout_seconds)
        except RuntimeError:
            self.stop()
            raise
        return self.url

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
