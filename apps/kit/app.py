"""The app factory every service uses: one shape for all five."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.util
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urljoin

from beanie import Document
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.telemetry import TelemetryConfig
from pydantic import ValidationError

from apps import __version__
from apps.kit import health as health_routes
from apps.kit.database import Database
from apps.kit.error_handlers import install_error_handlers
from apps.kit.forwarded import ForwardedClientMiddleware
from apps.kit.garbage_collection import freeze_long_lived
from apps.kit.health import Health
from apps.kit.metrics import gauge, instrument
from apps.kit.middleware import RequestContextMiddleware
from apps.kit.openapi import declare_problems, operation_id, publish_problem_schema
from apps.kit.outbound import Http
from apps.kit.revocation import (
    RevocationList,
    RevocationListUnreadable,
    RevocationSource,
    RevokingVerifier,
    http_source,
)
from apps.kit.security import JwksTokenVerifier, TokenVerifier
from apps.kit.service_client import ClientCredentials, ServiceClient
from apps.kit.settings import ServiceSettings
from apps.kit.startup_gate import StartupGate
from apps.kit.tracing import configure_tracing

log = logging.getLogger("glosleep.app")

DATABASE_WATCH_SECONDS = 10.0
DATABASE_UP = gauge("database_up", "1 when the service's database answered its last ping.")
REVOCATION_LIST_AGE = gauge(
    "revocation_list_age_seconds",
    "Seconds since auth's revocation list was last read (since start if never).",
)
# The kit's middleware makes each request's one server span (with the request id
# its logs and problems carry) and the instrumentator its metrics. FastAPI's native
# OpenTelemetry, on whenever a tracer provider is set, would add spans for each
# dependency, endpoint and serialization beside them: 0.28 ms of CPU a request.
WITHOUT_FRAMEWORK_TELEMETRY: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
}


class AppKit:
    """What a running service holds: settings, database, health, token verifier,
    the shared HTTP connection pool and this service's own credentials."""

    def __init__(self, settings: ServiceSettings, database: Database) -> None:
        self.settings = settings
        self.database = database
        self.health = Health()
        self.http = Http(f"glosleep-{settings.service_name}")
        self._verifier: TokenVerifier | None = None
        self.revocations = RevocationList()
        self.started_at = time.monotonic()
        self.revocation_source: RevocationSource | None = None
        self.credentials: ClientCredentials | None = None
        if settings.auth_url and settings.service_client_id and settings.service_client_secret:
            self.credentials = ClientCredentials(
                self.http,
                settings.auth_url.rstrip("/") + "/v1/oauth/token",
                settings.service_client_id,
                settings.service_client_secret.get_secret_value(),
            )

    @property
    def verifier(self) -> TokenVerifier:
        if self._verifier is None:
            raise RuntimeError("no token verifier configured")
        return self._verifier

    @verifier.setter
    def verifier(self, verifier: TokenVerifier) -> None:
        self._verifier = verifier

    def client(self, service: str, base_url: str, timeout_seconds: float = 5.0) -> ServiceClient:
        return ServiceClient(
            service,
            base_url,
            http=self.http,
            credentials=self.credentials,
            timeout_seconds=timeout_seconds,
        )


async def current_kit(request: Request) -> AppKit:
    """The running service's kit, as a route dependency (`kit: Kit`)."""
    kit: AppKit = request.app.state.kit
    return kit


Kit = Annotated[AppKit, Depends(current_kit)]

Hook = Callable[[AppKit], Awaitable[None]]


@dataclass(frozen=True)
class BackgroundLoop:
    """Work repeated every `interval_seconds` once the service is ready; `prepare`
    runs once at start-up, with the service's other hooks, before it is ready."""

    name: str
    run_once: Hook
    interval_seconds: float
    prepare: Hook | None = None


async def _repeat(kit: AppKit, loop: BackgroundLoop) -> None:
    while True:
        try:
            await loop.run_once(kit)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("background loop failed", extra={"loop": loop.name})
        await asyncio.sleep(loop.interval_seconds)


def _install_verifier(
    kit: AppKit,
    verifier: Callable[[AppKit], TokenVerifier] | None,
    revocation_source: Callable[[AppKit], RevocationSource] | None,
) -> None:
    settings = kit.settings
    inner: TokenVerifier
    if verifier is not None and revocation_source is not None:
        inner = verifier(kit)
        kit.revocation_source = revocation_source(kit)
    elif settings.jwks_url:
        inner = JwksTokenVerifier(
            settings.jwks_url,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            cache_seconds=settings.jwks_cache_seconds,
            http=kit.http,
        )
        url = settings.revocations_url or urljoin(settings.jwks_url, "/v1/revocations")
        kit.revocation_source = http_source(url, kit.http)
    else:
        raise RuntimeError("JWKS_URL must be set for this service")
    kit.verifier = RevokingVerifier(inner, kit.revocations)


async def _sync_revocations(kit: AppKit) -> None:
    if kit.revocation_source is None:
        return
    revocations = kit.revocations
    try:
        await revocations.sync(kit.revocation_source)
    except (RevocationListUnreadable, ValidationError) as error:
        log.warning("revocation list not readable", extra={"error": type(error).__name__})
    since = kit.started_at if revocations.synced_at is None else revocations.synced_at
    REVOCATION_LIST_AGE.set(time.monotonic() - since)


# Dev-mode demo data: apps/devstack/demo/<service>.py, outside every image.
DEMO_PACKAGE = "apps.devstack.demo"


async def _seed_demo_data(kit: AppKit) -> None:
    """In dev mode, the service's demo data from the development checkout, if there is
    one; an image (which holds no apps/devstack) says so and starts without it."""
    if not kit.settings.dev_mode:
        return
    if importlib.util.find_spec(DEMO_PACKAGE.rsplit(".", 1)[0]) is None:
        log.warning("dev mode, but this build holds no demo data (%s)", DEMO_PACKAGE)
        return
    name = f"{DEMO_PACKAGE}.{kit.settings.service_name}"
    if importlib.util.find_spec(name) is not None:
        await importlib.import_module(name).seed(kit)


async def _run_hooks(kit: AppKit, hooks: Sequence[Hook]) -> None:
    for hook in hooks:
        try:
            await hook(kit)
        except Exception:
            # The service stays unready (and says why) instead of failing silently.
            log.exception("startup failed", extra={"step": getattr(hook, "__name__", "hook")})
            raise


def create_app(
    settings: ServiceSettings,
    *,
    title: str,
    description: str,
    version: str = __version__,
    documents: Sequence[type[Document]],
    routers: Sequence[APIRouter],
    verifier: Callable[[AppKit], TokenVerifier] | None = None,
    revocation_source: Callable[[AppKit], RevocationSource] | None = None,
    on_ready: Sequence[Hook] = (),
    loops: Sequence[BackgroundLoop] = (),
) -> FastAPI:
    """`verifier` and `revocation_source` are for the auth service, which checks
    tokens against its own keys and revocations; every other service uses auth's
    JWKS (`JWKS_URL`) and revocation list (`REVOCATIONS_URL`, by default
    `/v1/revocations` next to the JWKS)."""
    database = Database(settings.mongo_url.get_secret_value(), settings.mongo_database, documents)
    kit = AppKit(settings, database)
    started = {"done": False}
    loops = [
        *loops,
        BackgroundLoop("revocations", _sync_revocations, settings.revocation_poll_seconds),
    ]

    async def start() -> list[asyncio.Task[None]]:
        await database.connect()
        preparing = [loop.prepare for loop in loops if loop.prepare is not None]
        await _run_hooks(kit, [*on_ready, *preparing, _seed_demo_data])
        freeze_long_lived()
        started["done"] = True
        watch = BackgroundLoop("database-watch", watch_database, DATABASE_WATCH_SECONDS)
        return [asyncio.create_task(_repeat(kit, loop), name=loop.name) for loop in [watch, *loops]]

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        configure_tracing(settings.service_name, settings.otel_exporter_otlp_endpoint)
        DATABASE_UP.set(0)
        _install_verifier(kit, verifier, revocation_source)
        starting = asyncio.create_task(start(), name="startup")
        try:
            yield
        finally:
            kit.health.shutting_down = True
            if starting.done() and not starting.cancelled() and starting.exception() is None:
                for task in starting.result():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            else:
                starting.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await starting
            await kit.http.aclose()
            await database.close()

    async def database_ready() -> bool:
        up = await database.ping()
        DATABASE_UP.set(1 if up else 0)
        return up

    async def watch_database(_: AppKit) -> None:
        await database_ready()

    async def startup_complete() -> bool:
        return started["done"]

    kit.health.add_check("database", database_ready)
    kit.health.add_check("startup", startup_complete)

    app = FastAPI(
        title=title,
        description=description,
        version=version,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
        generate_unique_id_function=operation_id,
        swagger_ui_parameters={"persistAuthorization": True},
        telemetry=WITHOUT_FRAMEWORK_TELEMETRY,
    )
    app.state.kit = kit
    install_error_handlers(app)
    app.include_router(health_routes.router)
    for router in routers:
        app.include_router(declare_problems(router))
    publish_problem_schema(app)
    # Innermost: its 503s are counted, logged and carry the request id.
    app.add_middleware(StartupGate, started=lambda: started["done"])
    instrument(app)
    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.max_body_bytes)
    # Outermost, so the access log and every route see the client's address.
    app.add_middleware(ForwardedClientMiddleware, trusted=settings.forwarded_allow_ips)
    return app
