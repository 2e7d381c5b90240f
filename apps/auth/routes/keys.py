"""Public keys for token verification, key rotation, and the audit trail."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from apps.auth.access import Admin
from apps.auth.audit import audit
from apps.auth.models import AuditEntry
from apps.auth.schemas import AuditOut, KeyRotation
from apps.auth.service import Auth
from apps.kit.listing import keyset_page
from apps.kit.openapi import problems
from apps.kit.pagination import Cursor, Page, PageLimit
from apps.kit.problems import Conflict

router = APIRouter(tags=["keys"])


@router.get("/.well-known/jwks.json", summary="Public keys that verify access tokens")
async def jwks(auth: Auth) -> JSONResponse:
    return JSONResponse(await auth.keys.jwks(), headers={"Cache-Control": "public, max-age=60"})


@router.post(
    "/v1/keys/rotate",
    response_model=KeyRotation,
    responses=problems(Conflict("Signing keys come from a mounted secret; rotate them there.")),
    summary="Rotate the signing key",
)
async def rotate(admin: Admin, auth: Auth) -> KeyRotation:
    if auth.keys.from_mounted_secret:
        raise Conflict("Signing keys come from a mounted secret; rotate them there.")
    kid = await auth.keys.rotate()
    await audit("key.rotated", actor=admin.subject, subject=kid)
    return KeyRotation(kid=kid)


@router.get("/v1/audit", response_model=Page[AuditOut], summary="The audit trail, newest first")
async def audit_trail(
    _: Admin,
    action: Annotated[str | None, Query(max_length=64)] = None,
    subject: Annotated[str | None, Query(max_length=254)] = None,
    limit: PageLimit = 50,
    cursor: Cursor = None,
) -> Page[AuditOut]:
    query: dict[str, Any] = {}
    if action:
        query["action"] = action
    if subject:
        query["subject"] = subject
    entries, next_cursor = await keyset_page(
        AuditEntry, query, limit, cursor, newest_first=True, id_prefix="aud"
    )
    return Page[AuditOut](
        items=[AuditOut.model_validate(e) for e in entries], next_cursor=next_cursor
    )
