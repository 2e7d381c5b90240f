"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from functools import cache
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from apps.kit.problems import UnprocessableContent

# argon2id at 12 MiB and 3 passes: one of OWASP's equal-strength settings beside its
# 19 MiB, 2-pass baseline, with less memory per hash for about the same CPU (ADR
# 0026). Hashes made with other settings are redone at the next login.
_hasher = PasswordHasher(time_cost=3, memory_cost=12_288, parallelism=1)
# Hashing runs off the event loop, so that a burst of logins never stalls the
# service's other requests, and two at a time: each holds its 12 MiB buffer, and
# more at once than the pod has cores would only hold more memory.
_HASHING_AT_ONCE = threading.BoundedSemaphore(2)

T = TypeVar("T")

MIN_LENGTH = 12
MAX_LENGTH = 128
_TOO_COMMON = frozenset(
    {
        "password1234",
        "123456789012",
        "qwertyuiop12",
        "glosleep1234",
        "letmein12345",
        "administrator",
        "passwordpassword",
    }
)


async def _hashing(work: Callable[[], T]) -> T:
    def limited() -> T:
        with _HASHING_AT_ONCE:
            return work()

    return await asyncio.to_thread(limited)


@cache
def _dummy_hash() -> str:
    """A valid hash to verify against when the account does not exist, so that a
    wrong email costs as much time as a wrong password."""
    return _hasher.hash("not-a-real-password-0000")


async def hash_password(password: str) -> str:
    return await _hashing(lambda: _hasher.hash(password))


def _matches(password_hash: str | None, password: str) -> bool:
    try:
        matched = _hasher.verify(password_hash or _dummy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return matched and password_hash is not None


async def verify_password(password_hash: str | None, password: str) -> bool:
    return await _hashing(lambda: _matches(password_hash, password))


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


# How a refusal looks (the OpenAPI example of the operations that set a password).
WEAK_PASSWORD = UnprocessableContent(
    f"The password must be at least {MIN_LENGTH} characters.",
    slug="weak-password",
    errors=[{"path": "body.password", "message": f"at least {MIN_LENGTH} characters"}],
)


def check_policy(password: str, *, email: str) -> None:
    """Length 12-128, not a well-known password, not the email's local part."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        problems.append(f"at most {MAX_LENGTH} characters")
    lowered = password.lower()
    if lowered in _TOO_COMMON or len(set(password)) < 4:
        problems.append("not a common or repetitive password")
    local_part = email.split("@", 1)[0].lower()
    if len(local_part) >= 4 and local_part in lowered:
        problems.append("not containing the email address")
    if problems:
        raise UnprocessableContent(
            "The password must be " + ", ".join(problems) + ".",
            slug="weak-password",
            errors=[{"path": "body.password", "message": "; ".join(problems)}],
        )
