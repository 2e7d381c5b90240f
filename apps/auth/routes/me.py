"""The caller's own account."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from apps.auth import accounts
from apps.auth.models import User
from apps.auth.passwords import WEAK_PASSWORD
from apps.auth.schemas import PasswordChange, UserOut
from apps.auth.service import THROTTLED, Auth, client_address
from apps.kit.app import Kit
from apps.kit.openapi import problems
from apps.kit.problems import Forbidden, NotFound
from apps.kit.security import CurrentPrincipal

router = APIRouter(prefix="/v1/me", tags=["me"])


@router.get(
    "",
    response_model=UserOut,
    responses=problems(
        Forbidden("Service accounts have no user profile."),
        NotFound("The account no longer exists or is inactive."),
    ),
    summary="Who am I",
)
async def me(principal: CurrentPrincipal) -> User:
    return await accounts.own_user(principal)


@router.post(
    "/password",
    status_code=204,
    responses=problems(
        Forbidden("The current password is wrong.", slug="wrong-password"),
        WEAK_PASSWORD,
        THROTTLED,
    ),
    summary="Change my password",
)
async def change_password(
    body: PasswordChange, principal: CurrentPrincipal, auth: Auth, kit: Kit, request: Request
) -> Response:
    await accounts.change_password(kit, auth, principal, body, client_address(request))
    return Response(status_code=204)
