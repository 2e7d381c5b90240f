"""Login, refresh, logout, and the client-credentials grant for services."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from apps.auth import logins
from apps.auth.audit import audit
from apps.auth.metrics import TOKENS_ISSUED
from apps.auth.models import User
from apps.auth.schemas import LoginRequest, RefreshRequest, ServiceToken, TokenPair
from apps.auth.service import THROTTLED, Auth, AuthParts, client_address
from apps.kit.openapi import problems
from apps.kit.problems import BadRequest, Unauthorized

router = APIRouter(prefix="/v1", tags=["sessions"])


async def _token_pair(auth: AuthParts, user: User, family_id: str | None = None) -> TokenPair:
    refresh = await auth.refresh_tokens.issue(user.id, family_id)
    access = await auth.access_tokens.for_user(user, refresh.family_id)
    TOKENS_ISSUED.labels("password" if family_id is None else "refresh_token").inc()
    return TokenPair(
        access_token=access.token,
        expires_in=access.expires_in,
        refresh_token=refresh.token,
        refresh_expires_in=refresh.expires_in,
    )


@router.post(
    "/auth/login",
    response_model=TokenPair,
    responses=problems(
        Unauthorized("The email or password is wrong, or the account is inactive."),
        THROTTLED,
    ),
    summary="Log in with email and password",
)
async def login(body: LoginRequest, request: Request, auth: Auth) -> TokenPair:
    address = client_address(request)
    user = await logins.password_login(auth, body.email, body.password, address)
    return await _token_pair(auth, user)


@router.post(
    "/auth/refresh",
    response_model=TokenPair,
    responses=problems(
        Unauthorized("This refresh token was already used; every session of its family is revoked.")
    ),
    summary="Rotate a refresh token",
)
async def refresh(body: RefreshRequest, request: Request, auth: Auth) -> TokenPair:
    user, fresh = await logins.refreshed_session(auth, body.refresh_token, client_address(request))
    access = await auth.access_tokens.for_user(user, fresh.family_id)
    TOKENS_ISSUED.labels("refresh_token").inc()
    return TokenPair(
        access_token=access.token,
        expires_in=access.expires_in,
        refresh_token=fresh.token,
        refresh_expires_in=fresh.expires_in,
    )


@router.post("/auth/logout", status_code=204, summary="Revoke a refresh token and its family")
async def logout(body: RefreshRequest, request: Request, auth: Auth) -> Response:
    user_id = await auth.refresh_tokens.revoke(body.refresh_token)
    if user_id is not None:
        await audit("logout", actor=user_id, subject=user_id, address=client_address(request))
    return Response(status_code=204)


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(value, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise BadRequest("The Basic credentials are malformed.") from None
    return client_id, secret


@router.post(
    "/oauth/token",
    response_model=ServiceToken,
    responses=problems(
        BadRequest("A requested scope is not granted to this client.", error="invalid_scope"),
        Unauthorized("The client credentials are not valid.", error="invalid_client"),
        THROTTLED,
    ),
    summary="OAuth2 client-credentials grant for service accounts",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/x-www-form-urlencoded": {
                    "example": {"grant_type": "client_credentials", "scope": "catalog:read"}
                }
            }
        }
    },
)
async def service_token(
    request: Request,
    auth: Auth,
    grant_type: Annotated[str, Form(max_length=64)],
    scope: Annotated[str | None, Form(max_length=512)] = None,
    client_id: Annotated[str | None, Form(max_length=64)] = None,
    client_secret: Annotated[str | None, Form(max_length=256)] = None,
) -> ServiceToken:
    if grant_type != "client_credentials":
        raise BadRequest(
            "Only grant_type=client_credentials is supported.", error="unsupported_grant_type"
        )
    credentials = _basic_credentials(request) or (client_id or "", client_secret or "")
    account, requested = await logins.client_login(
        auth, credentials[0], credentials[1], scope, client_address(request)
    )
    issued = await auth.access_tokens.for_service(account.id, requested)
    TOKENS_ISSUED.labels("client_credentials").inc()
    return ServiceToken(
        access_token=issued.token, expires_in=issued.expires_in, scope=" ".join(requested)
    )
