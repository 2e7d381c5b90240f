"""The event envelope every producer publishes and every consumer reads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class Event(BaseModel):
    id: str
    seq: int
    type: str
    source: str
    occurred_at: datetime
    data: dict[str, Any]
    traceparent: str | None = None


class EventPage(BaseModel):
    events: list[Event]
    next_after: int
