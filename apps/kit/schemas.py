"""Building blocks for request and response bodies, shared by every service."""

from __future__ import annotations

from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Strict,
    StringConstraints,
    field_validator,
)

from apps.kit import bounds


def _is_control(ch: str) -> bool:
    """C0 controls (NUL, bell, newline, ...), DEL and the C1 controls."""
    code = ord(ch)
    return code < 32 or 0x7F <= code <= 0x9F


def _no_control_characters(value: str) -> str:
    if any(_is_control(ch) for ch in value):
        raise ValueError("must not contain control characters")
    return value


def _check_text(value: Any) -> None:
    if isinstance(value, str):
        _no_control_characters(value)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _check_text(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)


def _strict_scalars(annotation: Any) -> bool:
    """An int or bool field (optional or not): JSON numbers and booleans only."""
    options = (
        set(get_args(annotation)) if get_origin(annotation) in (Union, UnionType) else {annotation}
    )
    return bool(options & {int, bool})


class RequestModel(BaseModel):
    """A request body, the same rules in every service: unknown fields are an
    error; strings are trimmed and refuse control characters (NUL, bell,
    newline, ...); integers take JSON numbers only and booleans JSON booleans
    only (no "5", no true as 1, no 1.0 as 1)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        loosened = [
            field
            for field in cls.model_fields.values()
            if _strict_scalars(field.annotation)
            and not any(isinstance(meta, Strict) for meta in field.metadata)
        ]
        for field in loosened:
            field.metadata.append(Strict())
        if loosened:
            cls.model_rebuild(force=True)

    @field_validator("*", mode="after")
    @classmethod
    def _plain_text(cls, value: Any) -> Any:
        _check_text(value)
        return value


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


Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=2000),
    AfterValidator(_no_control_characters),
]


def upper_code(value: Any) -> Any:
    """Codes are upper case: trimmed and upper-cased before the pattern is checked."""
    return value.strip().upper() if isinstance(value, str) else value


SKU_PATTERN = r"^[A-Z0-9][A-Z0-9-]{2,39}$"
Sku = Annotated[str, BeforeValidator(upper_code), StringConstraints(pattern=SKU_PATTERN)]
"""A catalogue SKU, one spelling rule in every service: `pil-mf-std` is `PIL-MF-STD`."""
