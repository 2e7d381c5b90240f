"""Exception handlers that answer every error as problem+json."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from apps.kit.problems import ProblemError, field_errors, problem_response
from apps.kit.service_client import UpstreamUnavailable

_TITLES = {
    400: ("Bad Request", "bad-request"),
    401: ("Unauthorized", "unauthorized"),
    403: ("Forbidden", "forbidden"),
    404: ("Not Found", "not-found"),
    405: ("Method Not Allowed", "method-not-allowed"),
    406: ("Not Acceptable", "not-acceptable"),
    409: ("Conflict", "conflict"),
    413: ("Content Too Large", "content-too-large"),
    415: ("Unsupported Media Type", "unsupported-media-type"),
    422: ("Unprocessable Content", "unprocessable"),
    429: ("Too Many Requests", "too-many-requests"),
    503: ("Service Unavailable", "unavailable"),
}


async def _problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    return problem_response(
        status=exc.status,
        title=exc.title,
        slug=exc.slug,
        detail=exc.detail,
        instance=request.url.path,
        headers=exc.headers,
        extensions=exc.extensions,
    )


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    title, slug = _TITLES.get(exc.status_code, ("Error", "http-error"))
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
    if exc.status_code == 404 and detail is None:
        detail = f"No resource at {request.url.path}."
    if exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}."
    if exc.status_code == 413:
        detail = "The request body is too large."
    return problem_response(
        status=exc.status_code,
        title=title,
        slug=slug,
        detail=detail,
        instance=request.url.path,
        headers=exc.headers,
    )


async def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(error.get("type") == "json_invalid" for error in errors):
        return problem_response(
            status=400,
            title="Bad Request",
            slug="malformed-json",
            detail="The request body is not valid JSON.",
            instance=request.url.path,
        )
    return problem_response(
        status=422,
        title="Unprocessable Content",
        slug="validation",
        detail="The request has invalid fields.",
        instance=request.url.path,
        extensions={"errors": field_errors(errors)},
    )


async def _upstream_unavailable(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, UpstreamUnavailable)
    return problem_response(
        status=503,
        title="Service Unavailable",
        slug="dependency-unavailable",
        detail=f"A service this request needs ({exc.service}) is unavailable; retry later.",
        instance=request.url.path,
        headers={"Retry-After": "5"},
    )


def not_ready_response(instance: str, detail: str) -> Response:
    """503 not-ready: the caller retries (the kit's service client does)."""
    return problem_response(
        status=503,
        title="Service Unavailable",
        slug="not-ready",
        detail=detail,
        instance=instance,
        headers={"Retry-After": "2"},
    )


async def _database_not_ready(request: Request, exc: Exception) -> Response:
    return not_ready_response(
        request.url.path, "The service is starting and its database is not ready yet."
    )


def install_error_handlers(app: FastAPI) -> None:
    from beanie.exceptions import CollectionWasNotInitialized
    from pymongo.errors import ConnectionFailure

    app.add_exception_handler(ProblemError, _problem)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(UpstreamUnavailable, _upstream_unavailable)
    app.add_exception_handler(CollectionWasNotInitialized, _database_not_ready)
    app.add_exception_handler(ConnectionFailure, _database_not_ready)
