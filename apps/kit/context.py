"""Per-request context shared by logs, errors and outgoing calls."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def accept_or_make_request_id(candidate: str | None) -> str:
    """Keep a caller's X-Request-ID when it is harmless, otherwise make one."""
    if candidate and _SAFE_REQUEST_ID.match(candidate):
        return candidate
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    return request_id_var.get()
