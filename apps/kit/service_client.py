"""Calls to other GloSleep services: the calling service's own credentials,
timeouts, bounded retries of idempotent calls only, and request-id and W3C
trace context passed along."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Any

from opentelemetry.trace import SpanKind

from apps.kit.context import current_request_id
from apps.kit.outbound import Http, Params, Unreachable
from apps.kit.tracing import inject_trace_headers, tracer

log = logging.getLogger("glosleep.client")

RETRYABLE_STATUS = frozenset({502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


class UpstreamError(Exception):
    """Another service answered with an error (its problem body is kept)."""

    def __init__(self, service: str, status: int, problem: dict[str, Any]) -> None:
        super().__init__(f"{service} answered {status}: {problem.get('detail') or problem}")
        self.service = service
        self.status = status
        self.problem = problem


class UpstreamUnavailable(Exception):
    """Another service could not be reached or kept failing after retries."""

    def __init__(self, service: str, reason: str) -> None:
        super().__init__(f"{service} is unavailable: {reason}")
        self.service = service


class ClientCredentials:
    """OAuth2 client-credentials tokens for this service, cached until shortly
    before they expire."""

    def __init__(self, http: Http, token_url: str, client_id: str, client_secret: str) -> None:
        self._http = http
        self._token_url = token_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    async def token(self, *, renew: bool = False) -> str:
        async with self._lock:
            if renew or self._token is None or time.monotonic() > self._expires_at - 30:
                try:
                    answer = await self._http.request(
                        "POST",
                        self._token_url,
                        form={"grant_type": "client_credentials"},
                        basic_auth=(self._client_id, self._client_secret),
                        timeout_seconds=5.0,
                    )
                except Unreachable as error:
                    raise UpstreamUnavailable("auth", error.reason) from error
                if answer.status != 200:
                    raise UpstreamUnavailable("auth", f"token request answered {answer.status}")
                body = answer.json()
                self._token = str(body["access_token"])
                self._expires_at = time.monotonic() + float(body.get("expires_in", 300))
            return self._token


class ServiceClient:
    def __init__(
        self,
        service: str,
        base_url: str,
        *,
        http: Http,
        credentials: ClientCredentials | None,
        timeout_seconds: float = 5.0,
        max_attempts: int = 3,
    ) -> None:
        self.service = service
        self._base_url = base_url.rstrip("/")
        self._http = http
        self._credentials = credentials
        self._timeout = timeout_seconds
        self._max_attempts = max_attempts

    async def _headers(self, renew: bool) -> dict[str, str]:
        headers: dict[str, str] = {}
        request_id = current_request_id()
        if request_id:
            headers["X-Request-ID"] = request_id
        inject_trace_headers(headers)
        if self._credentials is not None:
            headers["Authorization"] = f"Bearer {await self._credentials.token(renew=renew)}"
        return headers

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Params | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        """Send a request; answer the decoded JSON body of a 2xx response.

        Only idempotent calls are retried: GET/PUT/DELETE, or a POST the caller
        marks idempotent because it carries its own key. The call is one CLIENT
        span, so the trace shows it (with its retries) between the two services."""
        method = method.upper()
        with tracer().start_as_current_span(
            f"{method} {self.service}",
            kind=SpanKind.CLIENT,
            attributes={"peer.service": self.service, "http.request.method": method},
        ):  # an exception leaving the span marks it as an error
            return await self._send(method, path, json, params, idempotent)

    async def _send(
        self,
        method: str,
        path: str,
        json: Any,
        params: Params | None,
        idempotent: bool | None,
    ) -> Any:
        retryable = idempotent if idempotent is not None else method in IDEMPOTENT_METHODS
        attempts = self._max_attempts if retryable else 1
        renewed = False
        attempt = 0
        while True:
            attempt += 1
            try:
                answer = await self._http.request(
                    method,
                    self._base_url + path,
                    body=json,
                    params=params,
                    headers=await self._headers(renew=False),
                    timeout_seconds=self._timeout,
                )
            except Unreachable as error:
                if attempt < attempts:
                    await self._backoff(attempt)
                    continue
                raise UpstreamUnavailable(self.service, error.reason) from error
            if answer.status == 401 and self._credentials is not None and not renewed:
                renewed = True
                await self._credentials.token(renew=True)
                attempt -= 1
                continue
            if answer.status in RETRYABLE_STATUS:
                if attempt < attempts:
                    await self._backoff(attempt)
                    continue
                raise UpstreamUnavailable(self.service, f"answered {answer.status}")
            if answer.status >= 400:
                try:
                    problem = answer.json()
                except ValueError:
                    problem = {"detail": answer.content[:200].decode("utf-8", "replace")}
                raise UpstreamError(self.service, answer.status, problem)
            if answer.status == 204 or not answer.content:
                return None
            return answer.json()

    @staticmethod
    async def _backoff(attempt: int) -> None:
        await asyncio.sleep(min(2.0, 0.1 * 2**attempt) * (0.5 + random.random()))  # noqa: S311
