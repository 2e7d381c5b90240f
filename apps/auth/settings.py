"""The auth service's settings (on top of what every service reads)."""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

from apps.kit.settings import ServiceSettings


def _decode_key(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text.strip().encode())
    except (binascii.Error, ValueError):
        return b""


class ServiceClientConfig(BaseModel):
    client_id: str = Field(pattern=r"^[a-z][a-z0-9-]{2,40}$")
    client_secret: SecretStr = Field(min_length=24)
    scopes: list[str] = Field(default_factory=list)


class AuthSettings(ServiceSettings):
    service_name: str = "auth"
    mongo_database: str = "glosleep_auth"

    access_token_ttl_seconds: int = Field(default=900, ge=60, le=900)
    refresh_token_ttl_seconds: int = Field(default=14 * 86_400, ge=3_600, le=90 * 86_400)

    auth_bootstrap_admin_email: str | None = None
    auth_bootstrap_admin_password: SecretStr | None = None
    auth_service_clients: list[ServiceClientConfig] = Field(default_factory=list)
    auth_signing_key_dir: Path | None = None
    # Without AUTH_SIGNING_KEY_DIR the signing keys live in the database, encrypted
    # with this key (32 bytes, base64url; apps/auth/keys.py). It must come from the
    # environment, never from the database: make one with
    # python3 -c 'import base64,os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())'
    auth_key_encryption_key: SecretStr | None = None

    # Throttling of password and client-secret guessing (apps/auth/throttle.py,
    # ADR 0005): per account and address together, `..._PER_ACCOUNT_ADDRESS`
    # failures, then a wait of LOGIN_FIRST_BLOCK_SECONDS doubled on every further
    # lockout up to LOGIN_MAX_BLOCK_SECONDS; per address across all accounts,
    # `..._PER_ADDRESS` failures, then LOGIN_WINDOW_SECONDS, doubled likewise.
    # Counts are forgotten LOGIN_WINDOW_SECONDS after the last attempt or block.
    login_window_seconds: int = Field(default=900, ge=1, le=86_400)
    login_max_failures_per_account_address: int = Field(default=5, ge=1, le=100)
    login_max_failures_per_address: int = Field(default=50, ge=1, le=10_000)
    login_first_block_seconds: int = Field(default=60, ge=1, le=86_400)
    login_max_block_seconds: int = Field(default=3_600, ge=1, le=7 * 86_400)

    demo_password: SecretStr = SecretStr("glosleep-demo")

    @field_validator("auth_service_clients", mode="before")
    @classmethod
    def _parse_clients(cls, value: Any) -> Any:
        if isinstance(value, str):
            return json.loads(value) if value.strip() else []
        return value

    @field_validator("auth_key_encryption_key")
    @classmethod
    def _key_is_32_bytes(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(_decode_key(value.get_secret_value())) != 32:
            raise ValueError("must be 32 random bytes, base64url-encoded (44 characters)")
        return value

    def key_encryption_key(self) -> bytes | None:
        key = self.auth_key_encryption_key
        return None if key is None else _decode_key(key.get_secret_value())

    @model_validator(mode="after")
    def _keys_protected(self) -> AuthSettings:
        if self.auth_signing_key_dir is None and self.auth_key_encryption_key is None:
            raise ValueError(
                "AUTH_KEY_ENCRYPTION_KEY is required when signing keys are kept in the "
                "database (no AUTH_SIGNING_KEY_DIR)"
            )
        return self

    @model_validator(mode="after")
    def _bootstrap_admin_complete(self) -> AuthSettings:
        email, password = self.auth_bootstrap_admin_email, self.auth_bootstrap_admin_password
        if (email is None) != (password is None):
            raise ValueError(
                "AUTH_BOOTSTRAP_ADMIN_EMAIL and AUTH_BOOTSTRAP_ADMIN_PASSWORD go together"
            )
        return self
