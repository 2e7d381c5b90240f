"""A minimal kit service whose one route calls auth through the kit's
ServiceClient: the monitoring tests follow its trace id into auth's logs and into
the spans it exports over OTLP."""

from __future__ import annotations

from beanie import Document
from fastapi import APIRouter, FastAPI

from apps.kit.app import Kit, create_app
from apps.kit.server import serve
from apps.kit.settings import ServiceSettings
from apps.kit.tracing import current_trace_id


class RelaySettings(ServiceSettings):
    service_name: str = "relay"
    mongo_database: str = "glosleep_relay"


class Nothing(Document):
    class Settings:
        name = "nothing"


router = APIRouter(prefix="/v1")


@router.get("/relay")
async def relay(kit: Kit) -> dict[str, object]:
    assert kit.settings.auth_url is not None
    keys = await kit.client("auth", kit.settings.auth_url).request("GET", "/.well-known/jwks.json")
    return {"trace_id": current_trace_id(), "keys": len(keys["keys"])}


def create_relay_app(settings: RelaySettings) -> FastAPI:
    return create_app(
        settings,
        title="relay",
        description="trace test service",
        documents=[Nothing],
        routers=[router],
    )


if __name__ == "__main__":
    serve(create_relay_app, RelaySettings)
