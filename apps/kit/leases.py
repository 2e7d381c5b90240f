"""Leases: at most one replica at a time does a piece of background work
(outbox relay, expiry sweeps, recovery), and another takes over if it dies."""

from __future__ import annotations

import os
import secrets
import socket
import time
from datetime import datetime, timedelta

from pymongo.errors import DuplicateKeyError

from apps.kit.clock import utcnow
from apps.kit.documents import KeyedDocument

PROCESS_HOLDER = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"

# (database, lease, holder) -> monotonic time until which a renewal can be skipped.
_renewed: dict[tuple[str, str, str], float] = {}


class Lease(KeyedDocument):
    id: str  # the work's name
    holder: str
    expires_at: datetime

    class Settings:
        name = "leases"


async def hold_lease(name: str, ttl_seconds: float, holder: str = PROCESS_HOLDER) -> bool:
    """Take or renew the lease; False while another holder's lease is live.

    A lease taken or renewed less than a third of its ttl ago is still held for two
    thirds of it, so it is renewed only then: a loop that runs every 250 ms writes
    its lease every few seconds, not four times a second."""
    collection = Lease.get_pymongo_collection()
    key = (collection.database.name, name, holder)
    started = time.monotonic()
    if started < _renewed.get(key, 0.0):
        return True
    now = utcnow()
    try:
        await collection.update_one(
            {"_id": name, "$or": [{"holder": holder}, {"expires_at": {"$lt": now}}]},
            {"$set": {"holder": holder, "expires_at": now + timedelta(seconds=ttl_seconds)}},
            upsert=True,
        )
    except DuplicateKeyError:
        _renewed.pop(key, None)
        return False  # the filter missed because someone else holds it
    _renewed[key] = started + ttl_seconds / 3
    return True
