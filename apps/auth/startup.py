"""What the auth service creates at start: its signing key, the configured
service accounts, the bootstrap admin, and (dev mode only) the demo users."""

from __future__ import annotations

import logging
from typing import Any

from pymongo.errors import DuplicateKeyError

from apps.auth.models import ServiceAccount, User
from apps.auth.passwords import hash_password
from apps.auth.service import AuthParts, hash_client_secret
from apps.kit.app import AppKit
from apps.kit.clock import utcnow
from apps.kit.demo import DEMO_DISTRIBUTOR_FOR_USER, demo_email
from apps.kit.security import Role

log = logging.getLogger("glosleep.auth.startup")


def _parts(kit: AppKit) -> AuthParts:
    parts = getattr(kit, "auth_parts", None)
    assert isinstance(parts, AuthParts)
    return parts


async def ensure_signing_key(kit: AppKit) -> None:
    await _parts(kit).keys.ensure_key()


async def sync_service_accounts(kit: AppKit) -> None:
    configured = _parts(kit).settings.auth_service_clients
    for client in configured:
        await ServiceAccount.get_pymongo_collection().update_one(
            {"_id": client.client_id},
            {
                "$set": {
                    "secret_hash": hash_client_secret(client.client_secret.get_secret_value()),
                    "scopes": sorted(set(client.scopes)),
                    "active": True,
                    "updated_at": utcnow(),
                }
            },
            upsert=True,
        )
    await ServiceAccount.get_pymongo_collection().update_many(
        {"_id": {"$nin": [c.client_id for c in configured]}}, {"$set": {"active": False}}
    )


async def _create_if_missing(user: User) -> None:
    if await User.find_one(User.email == user.email) is not None:
        return
    try:
        await user.insert()
    except DuplicateKeyError:
        return  # another replica created it first
    log.info("user created at start", extra={"email": user.email, "roles": user.roles})


async def bootstrap_admin(kit: AppKit) -> None:
    settings = _parts(kit).settings
    if settings.auth_bootstrap_admin_email and settings.auth_bootstrap_admin_password:
        await _create_if_missing(
            User(
                email=settings.auth_bootstrap_admin_email.strip().lower(),
                display_name="Administrator",
                roles=[Role.ADMIN],
                password_hash=await hash_password(
                    settings.auth_bootstrap_admin_password.get_secret_value()
                ),
            )
        )


def demo_user_filter() -> dict[str, Any]:
    """The demo users: flagged at creation, or holding a demo address."""
    return {"$or": [{"demo": True}, {"email": {"$in": [demo_email(role) for role in Role]}}]}


async def demo_users(kit: AppKit) -> None:
    """Dev mode: the demo users exist and can log in. Otherwise: every demo user
    is disabled at start and its sessions are revoked, whatever an earlier dev-mode
    run left in this database."""
    parts = _parts(kit)
    settings = parts.settings
    if not settings.dev_mode:
        await disable_demo_users(parts)
        return
    await User.get_pymongo_collection().update_many(
        demo_user_filter(), {"$set": {"active": True, "updated_at": utcnow()}}
    )
    password_hash = await hash_password(settings.demo_password.get_secret_value())
    for role in Role:
        await _create_if_missing(
            User(
                email=demo_email(role),
                display_name=f"Demo {role.value}",
                roles=[role],
                distributor_id=DEMO_DISTRIBUTOR_FOR_USER if role is Role.DISTRIBUTOR else None,
                password_hash=password_hash,
                demo=True,
            )
        )


async def disable_demo_users(parts: AuthParts) -> None:
    active = await User.find({**demo_user_filter(), "active": True}).to_list()
    for user in active:
        await User.get_pymongo_collection().update_one(
            {"_id": user.id}, {"$set": {"active": False, "updated_at": utcnow()}}
        )
        await parts.refresh_tokens.revoke_user(user.id, "dev_mode_off")
        log.warning("demo user disabled: dev mode is off", extra={"email": user.email})
