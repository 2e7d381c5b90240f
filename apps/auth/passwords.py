"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from apps.kit.problems import UnprocessableContent

# OWASP's argon2id baseline (19 MiB, 2 passes): memory-hard, ~30 ms here.
_hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)

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

# A valid hash to verify against when the account does not exist, so that a
# wrong email costs as much time as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password-0000")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


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
