"""What the auth service stores."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pymongo
from pydantic import Field
from pymongo import IndexModel

from apps.kit.clock import utcnow
from apps.kit.documents import KeyedDocument
from apps.kit.ids import new_id


class User(KeyedDocument):
    id: str = Field(default_factory=lambda: new_id("usr"))
    email: str
    display_name: str
    roles: list[str]
    distributor_id: str | None = None
    active: bool = True
    password_hash: str
    password_changed_at: datetime = Field(default_factory=utcnow)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    demo: bool = False

    class Settings:
        name = "users"
        indexes = [
            IndexModel([("email", pymongo.ASCENDING)], unique=True, name="email_unique"),
            IndexModel([("roles", pymongo.ASCENDING), ("_id", pymongo.ASCENDING)]),
        ]


class RefreshToken(KeyedDocument):
    """An opaque refresh token, stored only as its SHA-256. Every use rotates
    it; presenting a used one again revokes its whole family."""

    id: str = Field(default_factory=lambda: new_id("rtk"))
    token_hash: str
    family_id: str
    user_id: str
    expires_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "refresh_tokens"
        indexes = [
            IndexModel([("token_hash", pymongo.ASCENDING)], unique=True),
            IndexModel([("family_id", pymongo.ASCENDING)]),
            IndexModel([("user_id", pymongo.ASCENDING)]),
            IndexModel([("expires_at", pymongo.ASCENDING)], expireAfterSeconds=86_400),
        ]


class SigningKey(KeyedDocument):
    id: str  # the key id (kid)
    # The PKCS#8 PEM, AES-256-GCM encrypted under AUTH_KEY_ENCRYPTION_KEY
    # (apps/auth/keys.py): the database never holds the private key in the clear.
    private_key_sealed: str
    public_jwk: dict[str, Any]
    created_at: datetime = Field(default_factory=utcnow)
    retired_at: datetime | None = None

    class Settings:
        name = "signing_keys"
        indexes = [IndexModel([("created_at", pymongo.DESCENDING)])]


class ServiceAccount(KeyedDocument):
    id: str  # the client id
    secret_hash: str
    scopes: list[str]
    active: bool = True
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "service_accounts"


class LoginFailures(KeyedDocument):
    """Counted attempts at a secret (apps/auth/throttle.py), per owner and client
    address together or per client address."""

    id: str  # "pair:<kind>:<email or client id>|<ip>" or "address:<ip>"
    failures: int = 0
    lockouts: int = 0
    window_started_at: datetime
    blocked_until: datetime | None = None
    expires_at: datetime

    class Settings:
        name = "login_failures"
        indexes = [IndexModel([("expires_at", pymongo.ASCENDING)], expireAfterSeconds=0)]


class AuditEntry(KeyedDocument):
    id: str = Field(default_factory=lambda: new_id("aud"))
    action: str
    at: datetime = Field(default_factory=utcnow)
    actor: str | None = None
    subject: str | None = None
    address: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)

    class Settings:
        name = "audit"
        indexes = [
            IndexModel([("at", pymongo.DESCENDING)]),
            IndexModel([("subject", pymongo.ASCENDING), ("at", pymongo.DESCENDING)]),
        ]
