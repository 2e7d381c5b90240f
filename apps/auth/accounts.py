"""User accounts: creating, changing and deactivating users, and a user's own
password change. A deactivation, a role change or a password change ends every
session of the user in the same transaction as the change."""

from __future__ import annotations

from pymongo.asynchronous.client_session import AsyncClientSession

from apps.auth.audit import audit
from apps.auth.models import User
from apps.auth.passwords import check_policy, hash_password, verify_password
from apps.auth.schemas import PasswordChange, UserCreate, UserUpdate, _distributor_rule
from apps.auth.service import AuthParts, admit_attempt
from apps.kit.app import AppKit
from apps.kit.clock import utcnow
from apps.kit.documents import get_or_404, insert_new
from apps.kit.problems import Conflict, Forbidden, NotFound, UnprocessableContent
from apps.kit.security import Principal, Role


async def own_user(principal: Principal) -> User:
    """The caller's own active account (403 for a service account)."""
    if principal.is_service:
        raise Forbidden("Service accounts have no user profile.")
    user = await User.get(principal.subject)
    if user is None or not user.active:
        raise NotFound("The account no longer exists or is inactive.")
    return user


async def user_or_404(user_id: str) -> User:
    return await get_or_404(User, user_id, "user")


async def create_user(body: UserCreate, actor: str) -> User:
    check_policy(body.password, email=body.email)
    user = User(
        email=body.email,
        display_name=body.display_name,
        roles=sorted({str(role) for role in body.roles}),
        distributor_id=body.distributor_id,
        password_hash=await hash_password(body.password),
    )
    taken = Conflict(f"A user with email {body.email} exists.", slug="email-taken")
    await insert_new(user, taken)
    await audit("user.created", actor=actor, subject=user.id)
    return user


async def update_user(
    kit: AppKit, auth: AuthParts, user_id: str, body: UserUpdate, actor: str
) -> User:
    user = await user_or_404(user_id)
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
    await audit("user.updated", actor=actor, subject=user.id, fields=sorted(changes))
    return user


async def deactivate_user(kit: AppKit, auth: AuthParts, user_id: str, actor: str) -> User:
    user = await user_or_404(user_id)
    user.active = False
    user.updated_at = utcnow()
    await _save(kit, auth, user, "deactivated", roles_changed=False)
    await audit("user.deactivated", actor=actor, subject=user.id)
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


async def change_password(
    kit: AppKit, auth: AuthParts, principal: Principal, body: PasswordChange, address: str
) -> None:
    user = await own_user(principal)
    # Guessing through a stolen access token is throttled like guessing at login,
    # and counts against the same (account, address) pair.
    attempt = await admit_attempt(auth, "login", user.email, address)
    if not await verify_password(user.password_hash, body.current_password):
        await auth.throttle.failed(attempt)
        await audit("password.change_failure", actor=user.id, subject=user.email, address=address)
        raise Forbidden("The current password is wrong.", slug="wrong-password")
    await auth.throttle.succeeded(attempt)
    check_policy(body.new_password, email=user.email)
    user.password_hash = await hash_password(body.new_password)
    user.password_changed_at = user.updated_at = utcnow()

    # Every session ends, this one included: whoever else held one is out.
    async def change(session: AsyncClientSession) -> None:
        await user.save(session=session)
        await auth.refresh_tokens.revoke_user(user.id, "password_changed", session)

    await kit.database.in_transaction(change)
    await audit("password.changed", actor=user.id, subject=user.id)
