"""Scrub secret values from text before it leaves the job (a PR comment, a run summary).

Pulumi masks the values it knows are secret; this is the second line: every value of a
secret-looking environment variable of the job, every string in an optional JSON file
(``pulumi config --show-secrets --json``, ``pulumi stack output --show-secrets --json``),
and whatever has the shape of a credential (private keys, passwords in URLs, JWTs,
AWS access key ids) becomes ``[secret]``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

MASK = "[secret]"
# Shorter values would blank out ordinary words.
MIN_LENGTH = 6
SECRET_NAME = re.compile(r"PASSPHRASE|SECRET|TOKEN|PASSWORD|PRIVATE|CREDENTIAL", re.IGNORECASE)
SHAPES = (
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
    # user:password@ in any URL (mongodb://, https://, ...): keep the user, hide the password.
    re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]+):[^@\s]+(?=@)"),
    re.compile(r"\beyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}"),
    re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"),
)


def environment_secrets(environ: Mapping[str, str]) -> list[str]:
    return [value for name, value in environ.items() if SECRET_NAME.search(name) and value]


def json_strings(document: Any) -> Iterator[str]:
    if isinstance(document, str):
        yield document
    elif isinstance(document, dict):
        for value in document.values():
            yield from json_strings(value)
    elif isinstance(document, list):
        for value in document:
            yield from json_strings(value)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    # Longest first, so a secret that contains another is masked whole.
    for value in sorted({s for s in secrets if len(s) >= MIN_LENGTH}, key=len, reverse=True):
        text = text.replace(value, MASK)
    for shape in SHAPES:
        if shape.groups:
            text = shape.sub(lambda match: f"{match.group(1)}:{MASK}", text)
        else:
            text = shape.sub(MASK, text)
    return text


def values_from_file(text: str) -> list[str]:
    try:
        return list(json_strings(json.loads(text)))
    except ValueError:
        return [line.strip() for line in text.splitlines() if line.strip()]
