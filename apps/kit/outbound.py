"""The service's outbound HTTP: one connection pool per process (aiohttp) for every
call the kit makes, to other services, to auth's keys and revocation list, and for
its own tokens (ADR 0029).

Answers are read whole and handed back as bytes with their status; a call that gets
no answer (refused, reset, timed out) raises `Unreachable`."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import aiohttp

# A query parameter given several values is repeated (`?sku=A&sku=B`).
Params = Mapping[str, str | int | Sequence[str]]


class Unreachable(Exception):
    """No answer: the connection failed or the call timed out."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class Answer:
    status: int
    content: bytes

    def json(self) -> Any:
        """The body as JSON; ValueError when it is not."""
        return json.loads(self.content)


def _query(params: Params) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for name, value in params.items():
        values = [value] if isinstance(value, str | int) else value
        pairs.extend((name, str(each)) for each in values)
    return pairs


class Http:
    """Keep-alive connections, opened on first use (inside the event loop) and
    closed with `aclose`. No cookies are kept: every call carries its own
    credentials."""

    def __init__(self, user_agent: str, *, max_connections: int = 100) -> None:
        self._user_agent = user_agent
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def _pool(self) -> aiohttp.ClientSession:
        # Imported by the first call, not with the kit: auth never calls out, and
        # aiohttp is 9.6 MB of its resident memory.
        import aiohttp

        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections),
                headers={"User-Agent": self._user_agent},
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    async def request(
        self,
        method: str,
        url: str,
        *,
        timeout_seconds: float,
        body: Any = None,
        form: Mapping[str, str] | None = None,
        params: Params | None = None,
        headers: Mapping[str, str] | None = None,
        basic_auth: tuple[str, str] | None = None,
    ) -> Answer:
        """`body` is sent as JSON, `form` as a URL-encoded form."""
        import aiohttp  # see _pool

        if basic_auth is not None:
            headers = {**(headers or {}), "Authorization": aiohttp.encode_basic_auth(*basic_auth)}
        try:
            async with self._pool().request(
                method,
                url,
                json=body,
                data=form,
                params=_query(params) if params else None,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=timeout_seconds),
                allow_redirects=False,
            ) as response:
                return Answer(response.status, await response.read())
        except (TimeoutError, aiohttp.ClientError) as error:
            raise Unreachable(url, type(error).__name__) from error

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
