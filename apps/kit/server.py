"""Run a service with uvicorn, draining on SIGTERM: readiness turns false, the
server keeps serving for the drain period, then stops accepting and lets the
in-flight requests finish."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from types import FrameType
from typing import TypeVar

import uvicorn
from fastapi import FastAPI

from apps.kit.app import AppKit
from apps.kit.garbage_collection import time_pauses
from apps.kit.logs import configure_logging
from apps.kit.memory import return_large_buffers
from apps.kit.settings import ServiceSettings, load_settings

SettingsT = TypeVar("SettingsT", bound=ServiceSettings)


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, kit: AppKit, drain_seconds: float) -> None:
        super().__init__(config)
        self._kit = kit
        self._drain_seconds = drain_seconds

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        first = not self._kit.health.shutting_down
        self._kit.health.shutting_down = True
        if not first or sig == signal.SIGINT or self._drain_seconds == 0:
            self._stop(sig, frame)
            return
        loop = asyncio.get_event_loop()
        loop.call_soon_threadsafe(loop.call_later, self._drain_seconds, self._stop, sig, frame)

    def _stop(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        # uvicorn re-raises captured signals after shutting down, which ends the
        # process "killed by SIGTERM"; a completed graceful stop should exit 0.
        self._captured_signals.clear()


def serve(app_factory: Callable[[SettingsT], FastAPI], settings_type: type[SettingsT]) -> None:
    return_large_buffers()
    time_pauses()
    settings = load_settings(settings_type)
    configure_logging(settings.service_name, settings.log_level)
    app = app_factory(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        server_header=False,
        # The kit reads X-Forwarded-For itself (apps/kit/forwarded.py).
        proxy_headers=False,
        timeout_graceful_shutdown=int(settings.shutdown_timeout_seconds),
        lifespan="on",
    )
    DrainingServer(config, app.state.kit, settings.shutdown_drain_seconds).run()
