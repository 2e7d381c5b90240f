"""Until a service has started (database connected, indexes built, start-up hooks
run), its API answers 503 not-ready: a request served from half-built state could
act on it (a reservation read through an index still being built finds no stock).
Probes, metrics and the API description stay open."""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from apps.kit.error_handlers import not_ready_response

OPEN_PATHS = frozenset({"/livez", "/readyz", "/metrics", "/openapi.json", "/docs"})


class StartupGate:
    def __init__(self, app: ASGIApp, *, started: Callable[[], bool]) -> None:
        self.app = app
        self._started = started

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS or self._started():
            await self.app(scope, receive, send)
            return
        response = not_ready_response(scope["path"], "The service is starting; retry shortly.")
        await response(scope, receive, send)
