"""Building blocks for request and response bodies, shared by every service."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

from apps.kit import bounds


class RequestModel(BaseModel):
    """A request body: unknown fields are an error, strings are trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        max_length=254,
        pattern=r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$",
    ),
]

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]

# Money is always integer paise (1 INR = 100 paise); the bounds of every number
# and date a client sends are in apps/kit/bounds.py.
Paise = bounds.Paise
Quantity = bounds.Quantity

# GSTIN: 15 characters, state code, PAN, entity number, Z, checksum.
Gstin = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_upper=True,
        pattern=r"^[0-9]{2}[A-Za-z]{5}[0-9]{4}[A-Za-z][1-9A-Za-z][Zz][0-9A-Za-z]$",
    ),
]


def _no_control_characters(value: str) -> str:
    if any(ord(ch) < 32 for ch in value):
        raise ValueError("must not contain control characters")
    return value


Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=2000),
    AfterValidator(_no_control_characters),
]
