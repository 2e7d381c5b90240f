"""Liveness and readiness. Readiness turns false first when the process is asked
to stop, so traffic drains before the server closes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from apps.kit.problems import problem_response

ReadinessCheck = Callable[[], Awaitable[bool]]


class Health:
    def __init__(self) -> None:
        self.shutting_down = False
        self._checks: dict[str, ReadinessCheck] = {}

    def add_check(self, name: str, check: ReadinessCheck) -> None:
        self._checks[name] = check

    async def results(self) -> dict[str, bool]:
        results = {"accepting_traffic": not self.shutting_down}
        for name, check in self._checks.items():
            try:
                results[name] = await check()
            except Exception:
                results[name] = False
        return results


router = APIRouter(include_in_schema=False)


@router.get("/livez")
async def livez() -> dict[str, str]:
    return {"status": "alive"}


@router.get("/readyz")
async def readyz(request: Request) -> Any:
    health: Health = request.app.state.kit.health
    checks = await health.results()
    if all(checks.values()):
        return JSONResponse({"status": "ready", "checks": checks})
    return problem_response(
        status=503,
        title="Service Unavailable",
        slug="not-ready",
        detail="The service is not ready: " + ", ".join(k for k, ok in checks.items() if not ok),
        instance="/readyz",
        extensions={"checks": checks},
    )
