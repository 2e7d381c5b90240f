"""The caller's own account."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pymongo.asynchronous.client_session import AsyncClientSession

from apps.auth.audit import audit
from apps.auth.models import User
from apps.auth.passwords import WEAK_PASSWORD, check_policy, hash_password, verify_password
from apps.auth.schemas import PasswordChange, UserOut
from apps.auth.service import THROTTLED, Auth, admit_attempt, client_address
from apps.kit.app import Kit
from apps.kit.clock import utcnow
from apps.kit.openapi import problems
from apps.kit.problems import Forbidden, NotFound
from apps.kit.security import CurrentPrincipal

router = APIRouter(prefix="/v1/me", tags=["me"])


async def _own_user(principal: CurrentPrincipal) -> User:
    if principal.is_service:
        raise Forbidden("Service accounts have no user profile.")
    user = await User.get(principal.subject)
    if user is None or not user.active:
        raise NotFound("The account no longer exists or is inactive.")
    return user


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
    return await _own_user(principal)


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
    user = await _own_user(principal)
    address = client_address(request)
    # Guessing through a stolen access token is throttled like guessing at login,
    # and counts against the same (account, address) pair.
    attempt = await admit_attempt(auth, "login", user.email, address)
    if not verify_password(user.password_hash, body.current_password):
        await auth.throttle.failed(attempt)
        await audit("password.change_failure", actor=user.id, subject=user.email, address=address)
        raise Forbidden("The current password is wrong.", slug="wrong-password")
    await auth.throttle.succeeded(attempt)
    check_policy(body.new_password, email=user.email)
    user.password_hash = hash_password(body.new_password)
    user.password_changed_at = user.updated_at = utcnow()

    # Every session ends, this one included: whoever else held one is out.
    async def change(session: AsyncClientSession) -> None:
        await user.save(session=session)
        await auth.refresh_tokens.revoke_user(user.id, "password_changed", session)

    await kit.database.in_transaction(change)
    await audit("password.changed", actor=user.id, subject=user.id)
    return Response(status_code=204)
