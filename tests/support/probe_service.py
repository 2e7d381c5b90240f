"""A minimal service built with the app kit, run as its own process by the kit
tests: it proves what every real service inherits (token verification against
auth's JWKS, roles, ownership, problem answers, logs, SIGTERM handling)."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Annotated

from beanie import Document
from fastapi import APIRouter, Depends, FastAPI, Request
from pydantic import Field

from apps.kit.app import AppKit, create_app
from apps.kit.schemas import Paise, RequestModel
from apps.kit.security import CurrentPrincipal, Principal, Role, ensure_owner, require_roles
from apps.kit.server import serve
from apps.kit.settings import ServiceSettings


class ProbeSettings(ServiceSettings):
    service_name: str = "probe"
    mongo_database: str = "glosleep_probe"
    # Start-up holds (after the database is connected) until SIGUSR1: the window in
    # which a real service still builds its indexes or runs its start-up hooks.
    probe_hold_startup: bool = False


class Probe(Document):
    label: str

    class Settings:
        name = "probes"


class EchoBody(RequestModel):
    name: str = Field(min_length=1, max_length=20)
    amount: Paise


router = APIRouter(prefix="/v1")


@router.get("/whoami")
async def whoami(principal: CurrentPrincipal, request: Request) -> dict[str, object]:
    return {
        "subject": principal.subject,
        "roles": sorted(principal.roles),
        "kind": principal.kind,
        "address": request.client.host if request.client else None,
    }


@router.get("/admin-only")
async def admin_only(_: Annotated[Principal, Depends(require_roles(Role.ADMIN))]) -> dict[str, str]:
    return {"ok": "yes"}


@router.get("/distributors/{distributor_id}/statement")
async def statement(distributor_id: str, principal: CurrentPrincipal) -> dict[str, str]:
    ensure_owner(principal, distributor_id)
    return {"distributor_id": distributor_id}


@router.post("/echo")
async def echo(body: EchoBody) -> EchoBody:
    return body


@router.get("/boom")
async def boom() -> None:
    raise RuntimeError("secret internal detail: database password is hunter2")


log = logging.getLogger("glosleep.probe")


@router.get("/slow")
async def slow(seconds: float = 1.0) -> dict[str, float]:
    log.info("slow request started")  # tests wait for this line, not for a while
    await asyncio.sleep(min(seconds, 10.0))
    return {"slept": seconds}


async def _hold_start_up(kit: AppKit) -> None:
    assert isinstance(kit.settings, ProbeSettings)
    if not kit.settings.probe_hold_startup:
        return
    released = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, released.set)
    log.info("start-up held")
    await released.wait()


def create_probe_app(settings: ProbeSettings) -> FastAPI:
    return create_app(
        settings,
        title="probe",
        description="kit test service",
        documents=[Probe],
        routers=[router],
        on_ready=[_hold_start_up],
    )


if __name__ == "__main__":
    serve(create_probe_app, ProbeSettings)
