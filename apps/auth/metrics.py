"""The auth service's business metrics."""

from apps.kit.metrics import counter

LOGINS = counter("logins", "Password logins by outcome.", ["outcome"])
TOKENS_ISSUED = counter("tokens_issued", "Access tokens issued by grant.", ["grant"])
REFRESH_REUSE = counter(
    "refresh_reuse_detected", "Rotated refresh tokens presented again (family revoked)."
)
