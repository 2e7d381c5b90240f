"""The auth service's request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from apps.kit.schemas import Email, Name, RequestModel, ResponseModel
from apps.kit.security import Role

Password = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
DistributorId = Annotated[str, StringConstraints(pattern=r"^dst_[a-z0-9_]{3,60}$")]


class LoginRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"email": "sales@glosleep.test", "password": "correct horse battery staple"}
            ]
        }
    )

    email: Email
    password: Password


class RefreshRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"refresh_token": "rt_6f1c2b0e9d7a4c3b8e5f0a1d2c3b4a59"}]}
    )

    refresh_token: Annotated[str, StringConstraints(min_length=16, max_length=256)]


class TokenPair(ResponseModel):
    access_token: str
    token_type: str = Field(default="Bearer")
    expires_in: int
    refresh_token: str
    refresh_expires_in: int


class ServiceToken(ResponseModel):
    access_token: str
    token_type: str = Field(default="Bearer")
    expires_in: int
    scope: str


def _distributor_rule(roles: list[Role] | None, distributor_id: str | None) -> None:
    if roles is None:
        return
    if Role.DISTRIBUTOR in roles and distributor_id is None:
        raise ValueError("a distributor user needs distributor_id")
    if Role.DISTRIBUTOR not in roles and distributor_id is not None:
        raise ValueError("distributor_id is only for distributor users")


class UserCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "email": "priya@sleepwell.example",
                    "display_name": "Priya Nair",
                    "roles": ["distributor"],
                    "distributor_id": "dst_sleepwell",
                    "password": "a long passphrase of words",
                }
            ]
        }
    )

    email: Email
    display_name: Name
    roles: list[Role] = Field(min_length=1, max_length=len(Role))
    distributor_id: DistributorId | None = None
    password: Password

    @model_validator(mode="after")
    def _distributor(self) -> UserCreate:
        _distributor_rule(self.roles, self.distributor_id)
        return self


class UserUpdate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"roles": ["sales", "analyst"], "active": True}]}
    )

    display_name: Name | None = None
    roles: list[Role] | None = Field(default=None, min_length=1, max_length=len(Role))
    distributor_id: DistributorId | None = None
    active: bool | None = None


class PasswordChange(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "current_password": "a long passphrase of words",
                    "new_password": "another long passphrase",
                }
            ]
        }
    )

    current_password: Password
    new_password: Password


class UserOut(ResponseModel):
    id: str
    email: str
    display_name: str
    roles: list[str]
    distributor_id: str | None
    active: bool
    created_at: datetime
    updated_at: datetime


class KeyRotation(ResponseModel):
    kid: str


class AuditOut(ResponseModel):
    id: str
    action: str
    at: datetime
    actor: str | None
    subject: str | None
    address: str | None
