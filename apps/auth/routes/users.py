"""User administration (admin only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from apps.auth.access import Admin
from apps.auth.audit import audit
from apps.auth.models import User
from apps.auth.passwords import WEAK_PASSWORD, check_policy, hash_password
from apps.auth.schemas import UserCreate, UserOut, UserUpdate, _distributor_rule
from apps.auth.service import Auth, AuthParts
from apps.kit.app import AppKit, Kit
from apps.kit.clock import utcnow
from apps.kit.documents import get_or_404
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
    check_policy(body.password, email=body.email)
    user = User(
        email=body.email,
        display_name=body.display_name,
        roles=sorted({str(role) for role in body.roles}),
        distributor_id=body.distributor_id,
        password_hash=hash_password(body.password),
    )
    try:
        await user.insert()
    except DuplicateKeyError:
        raise Conflict(f"A user with email {body.email} exists.", slug="email-taken") from None
    await audit("user.created", actor=admin.subject, subject=user.id)
    return user


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


async def _user(user_id: str) -> User:
    return await get_or_404(User, user_id, "user")


@router.get("/{user_id}", response_model=UserOut, summary="Read a user")
async def read_user(user_id: str, _: Admin) -> User:
    return await _user(user_id)


@router.patch(
    "/{user_id}",
    response_model=UserOut,
    responses=problems(UnprocessableContent("roles cannot be null.")),
    summary="Update a user",
)
async def update_user(user_id: str, body: UserUpdate, admin: Admin, auth: Auth, kit: Kit) -> User:
    user = await _user(user_id)
    changes = body.model_dump(exclude_unset=True)
    if "roles" in changes and changes["roles"] is None:
        raise UnprocessableContent("roles cannot be null.")
    roles = sorted({str(r) for r in changes.get("roles", user.roles)})
    distributor_id = changes.get("distributor_id", user.distributor_id)
    try:
        _distributor_rule([Role(r) for r in roles], distributor_id)
    except ValueError as error:
        raise UnprocessableContent(str(error)) from None
    if body.display_name is not None:
        user.display_name = body.display_name
    user.roles, user.distributor_id = roles, distributor_id
    if body.active is not None:
        user.active = body.active
    user.updated_at = utcnow()
    await _save(kit, auth, user, None if user.active else "deactivated", "roles" in changes)
    await audit("user.updated", actor=admin.subject, subject=user.id, fields=sorted(changes))
    return user


async def _save(
    kit: AppKit, auth: AuthParts, user: User, deactivated: str | None, roles_changed: bool
) -> None:
    """Save the user; a deactivation or role change also ends every session of the
    user, here and (through the revocation list) at every service, in the same
    transaction."""

    async def change(session: AsyncClientSession) -> None:
        await user.save(session=session)
        if deactivated or roles_changed:
            reason = deactivated or "roles_changed"
            await auth.refresh_tokens.revoke_user(user.id, reason, session)

    await kit.database.in_transaction(change)


@router.post("/{user_id}/deactivate", response_model=UserOut, summary="Deactivate a user")
async def deactivate_user(user_id: str, admin: Admin, auth: Auth, kit: Kit) -> User:
    user = await _user(user_id)
    user.active = False
    user.updated_at = utcnow()
    await _save(kit, auth, user, "deactivated", roles_changed=False)
    await audit("user.deactivated", actor=admin.subject, subject=user.id)
    return user
