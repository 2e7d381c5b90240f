"""Leases: at most one replica at a time does a piece of background work
(outbox relay, expiry sweeps, recovery), and another takes over if it dies."""

from __future__ import annotations

import os
import secrets
import socket
from datetime import datetime, timedelta

from pymongo.errors import DuplicateKeyError

from apps.kit.clock import utcnow
from apps.kit.documents import KeyedDocument

PROCESS_HOLDER = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class Lease(KeyedDocument):
    id: str  # the work's name
    holder: str
    expires_at: datetime

    class Settings:
        name = "leases"


async def hold_lease(name: str, ttl_seconds: float, holder: str = PROCESS_HOLDER) -> bool:
    """Take or renew the lease; False while another holder's lease is live."""
    now = utcnow()
    try:
        await Lease.get_pymongo_collection().update_one(
            {"_id": name, "$or": [{"holder": holder}, {"expires_at": {"$lt": now}}]},
            {"$set": {"holder": holder, "expires_at": now + timedelta(seconds=ttl_seconds)}},
            upsert=True,
        )
    except DuplicateKeyError:
        return False  # the filter missed because someone else holds it
    return True
