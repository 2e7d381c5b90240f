"""RFC 9457 problem details: the one error model of every service."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi.responses import JSONResponse

from apps.kit.context import current_request_id
from apps.kit.tracing import current_trace_id

PROBLEM_MEDIA_TYPE = "application/problem+json"
# Each problem type is a heading of docs/problems.md, so a type URI opens the page
# that explains it (GitHub turns the heading `## insufficient-stock` into the anchor).
PROBLEM_TYPE_BASE = "https://github.com/glosleep/platform/blob/main/docs/problems.md#"


def problem_type(slug: str) -> str:
    """The `type` URI of a problem: its section of docs/problems.md."""
    return PROBLEM_TYPE_BASE + slug


def problem_slug(type_uri: str) -> str:
    """The slug a problem `type` URI names (the inverse of `problem_type`)."""
    return type_uri.rsplit("#", 1)[-1]


class ProblemError(Exception):
    """An error that is the caller's to see, answered as problem+json."""

    status: int = 500
    title: str = "Internal Server Error"
    slug: str = "internal"

    def __init__(
        self,
        detail: str | None = None,
        *,
        status: int | None = None,
        title: str | None = None,
        slug: str | None = None,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title or self.title)
        self.status = status or self.status
        self.title = title or self.title
        self.slug = slug or self.slug
        self.detail = detail
        self.headers = dict(headers or {})
        self.extensions = extensions


class BadRequest(ProblemError):
    status, title, slug = 400, "Bad Request", "bad-request"


class Unauthorized(ProblemError):
    status, title, slug = 401, "Unauthorized", "unauthorized"

    def __init__(self, detail: str = "A valid bearer token is required.", **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="glosleep"'})
        super().__init__(detail, **kw)


class Forbidden(ProblemError):
    status, title, slug = 403, "Forbidden", "forbidden"


class NotFound(ProblemError):
    status, title, slug = 404, "Not Found", "not-found"


class Conflict(ProblemError):
    status, title, slug = 409, "Conflict", "conflict"


class UnprocessableContent(ProblemError):
    status, title, slug = 422, "Unprocessable Content", "unprocessable"


class TooManyRequests(ProblemError):
    status, title, slug = 429, "Too Many Requests", "too-many-requests"

    def __init__(self, detail: str, *, retry_after_seconds: int, **kw: Any) -> None:
        kw.setdefault("headers", {"Retry-After": str(max(1, retry_after_seconds))})
        super().__init__(detail, retry_after_seconds=max(1, retry_after_seconds), **kw)


class ServiceUnavailable(ProblemError):
    status, title, slug = 503, "Service Unavailable", "unavailable"


def problem_body(
    *,
    status: int,
    title: str,
    slug: str,
    detail: str | None,
    instance: str | None,
    extensions: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": problem_type(slug),
        "title": title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    request_id = current_request_id()
    if request_id:
        body["request_id"] = request_id
    trace_id = current_trace_id()
    if trace_id:
        body["trace_id"] = trace_id
    body.update(extensions or {})
    return body


def problem_response(
    *,
    status: int,
    title: str,
    slug: str,
    detail: str | None = None,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> JSONResponse:
    return JSONResponse(
        problem_body(
            status=status,
            title=title,
            slug=slug,
            detail=detail,
            instance=instance,
            extensions=extensions,
        ),
        status_code=status,
        headers=dict(headers or {}),
        media_type=PROBLEM_MEDIA_TYPE,
    )


def field_errors(errors: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Pydantic errors as `{"path": "body.lines[0].quantity", "message": ...}`."""
    result = []
    for error in errors:
        path = ""
        for part in error.get("loc", ()):
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        result.append({"path": path or "body", "message": str(error.get("msg", "invalid"))})
    return result
