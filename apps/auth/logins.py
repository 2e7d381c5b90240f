"""Who may have tokens: a user by email and password, a session by its refresh
token, a service by its client credentials. Each failure is throttled and audited;
the routes turn what these answer into tokens."""

from __future__ import annotations

from apps.auth.audit import audit
from apps.auth.metrics import LOGINS, REFRESH_REUSE
from apps.auth.models import ServiceAccount, User
from apps.auth.passwords import hash_password, needs_rehash, verify_password
from apps.auth.service import AuthParts, admit_attempt, client_secret_matches
from apps.auth.tokens import IssuedRefreshToken, ReusedRefreshToken
from apps.kit.problems import BadRequest, TooManyRequests, Unauthorized


async def password_login(auth: AuthParts, email: str, password: str, address: str) -> User:
    """The active user with this email and password (a password hashed with old
    parameters is hashed again), or a 401."""
    try:
        attempt = await admit_attempt(auth, "login", email, address)
    except TooManyRequests:
        LOGINS.labels("throttled").inc()
        raise
    user = await User.find_one(User.email == email)
    valid = await verify_password(user.password_hash if user else None, password)
    # A demo user never logs in outside dev mode (they are also disabled at start).
    demo_off = user is not None and user.demo and not auth.settings.dev_mode
    if user is None or not valid or not user.active or demo_off:
        await auth.throttle.failed(attempt)
        LOGINS.labels("failure").inc()
        await audit("login.failure", subject=email, address=address)
        raise Unauthorized("The email or password is wrong, or the account is inactive.")
    await auth.throttle.succeeded(attempt)
    if needs_rehash(user.password_hash):
        user.password_hash = await hash_password(password)
        await user.save()
    LOGINS.labels("success").inc()
    await audit("login.success", actor=user.id, subject=user.email, address=address)
    return user


async def refreshed_session(
    auth: AuthParts, refresh_token: str, address: str
) -> tuple[User, IssuedRefreshToken]:
    """Rotate the refresh token: its user (still active) and the new token. A reused
    token revokes its family; an inactive user's sessions all end; both are 401."""
    try:
        user_id, fresh = await auth.refresh_tokens.rotate(refresh_token)
    except ReusedRefreshToken as reuse:
        REFRESH_REUSE.inc()
        await audit("token.reuse_detected", subject=reuse.user_id, address=address)
        raise Unauthorized(
            "This refresh token was already used; every session of its family is revoked."
        ) from None
    user = await User.get(user_id)
    if user is None or not user.active:
        await auth.refresh_tokens.revoke_user(user_id, "inactive")
        raise Unauthorized("The account is inactive.")
    return user, fresh


async def client_login(
    auth: AuthParts, client_id: str, secret: str, scope: str | None, address: str
) -> tuple[ServiceAccount, list[str]]:
    """The active service account with these credentials and the scopes it asks
    for (all of its scopes when it names none), or a 401 (a 400 for a scope it was
    not granted)."""
    attempt = await admit_attempt(auth, "client", client_id, address)
    account = await ServiceAccount.get(client_id) if client_id else None
    if (
        account is None
        or not account.active
        or not client_secret_matches(secret, account.secret_hash)
    ):
        await auth.throttle.failed(attempt)
        await audit("client.failure", subject=client_id or None, address=address)
        raise Unauthorized("The client credentials are not valid.", error="invalid_client")
    await auth.throttle.succeeded(attempt)
    requested = scope.split() if scope else account.scopes
    if not set(requested) <= set(account.scopes):
        raise BadRequest("A requested scope is not granted to this client.", error="invalid_scope")
    return account, requested
