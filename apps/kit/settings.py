"""Settings from the environment, validated once at start.

Every service subclasses :class:`ServiceSettings`; :func:`load_settings` turns a
validation failure into one message per bad or missing variable and stops the
process, instead of a stack trace.
"""

from __future__ import annotations

import sys
from typing import Literal, TypeVar

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from apps.kit.forwarded import trusted_networks

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


class ServiceSettings(BaseSettings):
    """What every service reads from its environment."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True, case_sensitive=False)

    service_name: str = Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9-]*$")
    host: str = "0.0.0.0"  # noqa: S104 - containers listen on all interfaces
    port: int = Field(default=8080, ge=1, le=65535)
    dev_mode: bool = False
    log_level: LogLevel = "INFO"

    mongo_url: SecretStr
    mongo_database: str = Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_-]+$")

    jwt_issuer: str = "glosleep-auth"
    jwt_audience: str = "glosleep"
    # Where the auth service publishes its public keys; the auth service itself
    # verifies with its own key store and leaves this unset.
    jwks_url: str | None = None
    jwks_cache_seconds: float = Field(default=300.0, gt=0, le=86_400)
    # Auth's revocation list (apps/kit/revocation.py): by default /v1/revocations on
    # the JWKS host, read every REVOCATION_POLL_SECONDS.
    revocations_url: str | None = None
    revocation_poll_seconds: float = Field(default=2.0, gt=0, le=10)

    # This service's own credentials for calls to other services.
    auth_url: str | None = None
    service_client_id: str | None = None
    service_client_secret: SecretStr | None = None

    max_body_bytes: int = Field(default=1_048_576, ge=1_024, le=64 * 1_048_576)
    # The proxies whose X-Forwarded-For names the client (comma-separated addresses or
    # networks; empty: nobody, the connection's address counts). In a cluster, the pod
    # network the Gateway's Envoy pods live in; only the rightmost entry, the one the
    # proxy appended, is read (apps/kit/forwarded.py).
    forwarded_allow_ips: str = Field(default="", max_length=500)
    # After SIGTERM: how long /readyz reports false before the server stops
    # accepting, so load balancers take the pod out first.
    shutdown_drain_seconds: float = Field(default=2.0, ge=0, le=60)
    shutdown_timeout_seconds: float = Field(default=20.0, gt=0, le=300)

    otel_exporter_otlp_endpoint: str | None = None

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _networks(cls, value: str) -> str:
        trusted_networks(value)  # a ValueError names the bad entry
        return value


SettingsT = TypeVar("SettingsT", bound=ServiceSettings)


def describe_errors(error: ValidationError) -> list[str]:
    """One line per problem, naming the environment variable at fault."""
    lines = []
    for item in error.errors():
        variable = "_".join(str(part) for part in item["loc"]).upper() or "(settings)"
        if item["type"] == "missing":
            lines.append(f"{variable}: required but not set")
        else:
            lines.append(f"{variable}: {item['msg']}")
    return lines


def load_settings(settings_type: type[SettingsT]) -> SettingsT:
    """Read and validate settings; exit with a readable message when they are wrong."""
    try:
        return settings_type()
    except ValidationError as error:
        message = "\n".join(f"  {line}" for line in describe_errors(error))
        sys.stderr.write(f"configuration error in the environment:\n{message}\n")
        raise SystemExit(2) from None
