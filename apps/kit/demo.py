"""Demo identities that the dev-mode seeds of several services agree on.

Only used when DEV_MODE is set; no service creates demo data otherwise."""

from __future__ import annotations

DEMO_EMAIL_DOMAIN = "glosleep.test"

# Distributor accounts the order service seeds, and the distributor user of each.
DEMO_DISTRIBUTORS = {
    "dst_demo_sleepwell": "SleepWell Retail, Bengaluru",
    "dst_demo_dreamhome": "DreamHome Furnishings, Pune",
}
DEMO_DISTRIBUTOR_FOR_USER = "dst_demo_sleepwell"


def demo_email(role: str) -> str:
    return f"{role}@{DEMO_EMAIL_DOMAIN}"
