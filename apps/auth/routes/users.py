"""User administration (admin only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from apps.auth import accounts
from apps.auth.access import Admin
from apps.auth.models import User
from apps.auth.passwords import WEAK_PASSWORD
from apps.auth.schemas import UserCreate, UserOut, UserUpdate
from apps.auth.service import Auth
from apps.kit.app import Kit
from apps.kit.listing import keyset_page
from apps.kit.openapi import problems
from apps.kit.pagination import Cursor, Page, PageLimit
from apps.kit.problems import Conflict, UnprocessableContent
from apps.kit.security import Role

router = APIRouter(prefix="/v1/users", tags=["users"])


@router.post(
    "",
    response_model=UserOut,
    status_code=201,
    responses=problems(
        Conflict("A user with email ravi@example.com exists.", slug="email-taken"),
        WEAK_PASSWORD,
    ),
    summary="Create a user",
)
async def create_user(body: UserCreate, admin: Admin) -> User:
    return await accounts.create_user(body, admin.subject)


@router.get("", response_model=Page[UserOut], summary="List users")
async def list_users(
    _: Admin,
    role: Role | None = None,
    active: bool | None = None,
    email: Annotated[str | None, Query(max_length=254)] = None,
    limit: PageLimit = 50,
    cursor: Cursor = None,
) -> Page[UserOut]:
    query: dict[str, Any] = {}
    if role is not None:
        query["roles"] = str(role)
    if active is not None:
        query["active"] = active
    if email:
        query["email"] = email.strip().lower()
    users, next_cursor = await keyset_page(User, query, limit, cursor)
    return Page[UserOut](
        items=[UserOut.model_validate(user) for user in users], next_cursor=next_cursor
    )


@router.get("/{user_id}", response_model=UserOut, summary="Read a user")
async def read_user(user_id: str, _: Admin) -> User:
    return await accounts.user_or_404(user_id)


@router.patch(
    "/{user_id}",
    response_model=UserOut,
    responses=problems(UnprocessableContent("roles cannot be null.")),
    summary="Update a user",
)
async def update_user(user_id: str, body: UserUpdate, admin: Admin, auth: Auth, kit: Kit) -> User:
    return await accounts.update_user(kit, auth, user_id, body, admin.subject)


@router.post("/{user_id}/deactivate", response_model=UserOut, summary="Deactivate a user")
async def deactivate_user(user_id: str, admin: Admin, auth: Auth, kit: Kit) -> User:
    return await accounts.deactivate_user(kit, auth, user_id, admin.subject)
