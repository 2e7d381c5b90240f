"""The auth service's app."""

from __future__ import annotations

from fastapi import FastAPI

from apps.auth import revocations
from apps.auth.models import (
    AuditEntry,
    LoginFailures,
    RefreshToken,
    ServiceAccount,
    SigningKey,
    User,
)
from apps.auth.revocations import revocation_page
from apps.auth.routes import keys, me, sessions, users
from apps.auth.service import AuthParts
from apps.auth.settings import AuthSettings
from apps.auth.startup import bootstrap_admin, demo_users, ensure_signing_key, sync_service_accounts
from apps.kit.app import create_app
from apps.kit.outbox import OUTBOX_DOCUMENTS, OUTBOX_RELAY


def create_auth_app(settings: AuthSettings) -> FastAPI:
    parts = AuthParts(settings)
    app = create_app(
        settings,
        title="GloSleep auth",
        description="Users, roles, passwords, access and refresh tokens, service accounts, "
        "and the public keys (JWKS) every service verifies tokens with.",
        documents=[
            User,
            RefreshToken,
            SigningKey,
            ServiceAccount,
            LoginFailures,
            AuditEntry,
            *OUTBOX_DOCUMENTS,
        ],
        routers=[sessions.router, me.router, users.router, keys.router, revocations.router],
        verifier=lambda _: parts.verifier,
        revocation_source=lambda _: revocation_page,
        on_ready=[ensure_signing_key, sync_service_accounts, bootstrap_admin, demo_users],
        loops=[OUTBOX_RELAY],
    )
    app.state.auth = parts
    app.state.kit.auth_parts = parts
    return app
