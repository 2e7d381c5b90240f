"""The audit trail of logins, token use and account changes."""

from __future__ import annotations

import logging
from typing import Any

from apps.auth.models import AuditEntry

log = logging.getLogger("glosleep.audit")


async def audit(
    action: str,
    *,
    actor: str | None = None,
    subject: str | None = None,
    address: str | None = None,
    **detail: Any,
) -> None:
    await AuditEntry(
        action=action, actor=actor, subject=subject, address=address, detail=detail
    ).insert()
    log.info(
        "audit", extra={"action": action, "actor": actor, "subject": subject, "address": address}
    )
