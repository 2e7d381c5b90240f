"""The outermost ASGI layer: request id, trace span, body limit, access log, and
the last line of defence that turns any unexpected exception into a 500 problem."""

from __future__ import annotations

import logging
import time
from typing import Any

from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from apps.kit.context import accept_or_make_request_id, request_id_var
from apps.kit.problems import problem_response
from apps.kit.tracing import span_from_headers

access_log = logging.getLogger("glosleep.access")
error_log = logging.getLogger("glosleep.error")

QUIET_PATHS = frozenset({"/livez", "/readyz", "/metrics"})


class BodyTooLarge(HTTPException):
    """Raised while the body is read; an HTTPException so that FastAPI's body
    parsing passes it on as a 413 instead of a generic 400."""

    def __init__(self) -> None:
        super().__init__(status_code=413)


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "(unmatched)"


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        request_id = accept_or_make_request_id(headers.get("x-request-id"))
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status_holder: dict[str, Any] = {"status": 500, "started": False}

        async def send_with_request_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                status_holder["started"] = True
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", request_id.encode("latin-1")),
                ]
            await send(message)

        declared = headers.get("content-length")
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLarge
            return message

        method = scope["method"]
        with span_from_headers(f"{method} {scope['path']}", headers, SpanKind.SERVER) as span:
            try:
                if declared and declared.isdigit() and int(declared) > self.max_body_bytes:
                    raise BodyTooLarge
                await self.app(scope, limited_receive, send_with_request_id)
            except BodyTooLarge:
                await self._answer_too_large(scope, send_with_request_id, status_holder)
            except Exception:
                error_log.exception("unhandled error", extra={"path": route_template(scope)})
                span.set_status(Status(StatusCode.ERROR))
                if not status_holder["started"]:
                    await problem_response(
                        status=500,
                        title="Internal Server Error",
                        slug="internal",
                        detail="The request failed unexpectedly. Quote the request_id "
                        "when you report it.",
                    )(scope, receive, send_with_request_id)
            finally:
                template = route_template(scope)
                span.update_name(f"{method} {template}")
                span.set_attribute("http.route", template)
                span.set_attribute("http.response.status_code", status_holder["status"])
                duration_ms = round((time.perf_counter() - started) * 1000, 2)
                level = logging.DEBUG if scope["path"] in QUIET_PATHS else logging.INFO
                access_log.log(
                    level,
                    "request",
                    extra={
                        "method": method,
                        "route": template,
                        "status": status_holder["status"],
                        "duration_ms": duration_ms,
                    },
                )
                request_id_var.reset(token)

    async def _answer_too_large(
        self, scope: Scope, send: Send, status_holder: dict[str, Any]
    ) -> None:
        if status_holder["started"]:
            return
        response = problem_response(
            status=413,
            title="Content Too Large",
            slug="content-too-large",
            detail=f"The request body exceeds {self.max_body_bytes} bytes.",
            instance=scope["path"],
        )

        async def drained() -> Message:
            return {"type": "http.disconnect"}

        await response(scope, drained, send)
