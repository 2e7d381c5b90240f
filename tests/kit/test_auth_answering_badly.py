"""What a service does when auth answers badly or not at all, through the kit's
outbound HTTP: its revocation list is unreadable (the sync loop logs it and goes on,
the list's age keeps growing) and token keys already known keep verifying."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Iterator

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm
from prometheus_client import REGISTRY
from pydantic import SecretStr

from apps.kit.app import AppKit, _sync_revocations
from apps.kit.database import Database
from apps.kit.outbound import Http
from apps.kit.problems import ServiceUnavailable
from apps.kit.revocation import RevocationListUnreadable, http_source
from apps.kit.security import JwksTokenVerifier
from apps.kit.settings import ServiceSettings
from tests.support.http_stub import StubServer, stub_server

REVOCATIONS = "/v1/revocations"
JWKS = "/.well-known/jwks.json"


@pytest.fixture
def auth() -> Iterator[StubServer]:
    with stub_server() as stub:
        yield stub


async def test_a_revocation_page_is_read_after_the_last_number(auth: StubServer) -> None:
    page = {
        "revocations": [
            {"seq": 6, "kind": "session", "subject": "ab" * 32, "at": "2026-12-07T01:00:00Z"}
        ],
        "next_after": 6,
    }
    auth.answers[REVOCATIONS] = (200, json.dumps(page).encode())
    http = Http("glosleep-test")
    try:
        read = await http_source(auth.url + REVOCATIONS, http)(5)
    finally:
        await http.aclose()
    assert [entry.seq for entry in read.revocations] == [6]
    assert read.next_after == 6
    assert auth.requests[0]["query"] == [("after", "5")]


async def test_a_revocation_list_that_does_not_answer_is_unreadable(auth: StubServer) -> None:
    auth.answers[REVOCATIONS] = (503, b'{"title": "Service Unavailable"}')
    http = Http("glosleep-test")
    try:
        with pytest.raises(RevocationListUnreadable, match="answered 503"):
            await http_source(auth.url + REVOCATIONS, http)(0)
        with socket.socket() as reserved:  # a port nothing listens on
            reserved.bind(("127.0.0.1", 0))
            nobody = f"http://127.0.0.1:{reserved.getsockname()[1]}{REVOCATIONS}"
            with pytest.raises(RevocationListUnreadable, match="ClientConnectorError"):
                await http_source(nobody, http)(0)
    finally:
        await http.aclose()


@pytest.mark.parametrize(
    "answer",
    [(503, b"{}"), (200, b"<html>gateway</html>"), (200, b'{"revocations": "none"}')],
    ids=["unavailable", "not-json", "not-a-page"],
)
async def test_the_sync_loop_goes_on_when_the_list_is_unreadable(
    auth: StubServer, answer: tuple[int, bytes]
) -> None:
    auth.answers[REVOCATIONS] = answer
    settings = ServiceSettings(
        service_name="probe", mongo_url=SecretStr("mongodb://127.0.0.1:1"), mongo_database="probe"
    )
    kit = AppKit(settings, Database("mongodb://127.0.0.1:1", "probe", []))
    kit.started_at = time.monotonic() - 30
    kit.revocation_source = http_source(auth.url + REVOCATIONS, kit.http)
    try:
        await _sync_revocations(kit)  # logs a warning; raises nothing
    finally:
        await kit.http.aclose()
    assert kit.revocations.synced_at is None
    age = REGISTRY.get_sample_value("glosleep_revocation_list_age_seconds")
    assert age is not None
    assert age >= 30


def _signing_key() -> tuple[ec.EllipticCurvePrivateKey, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(ECAlgorithm.to_jwk(key.public_key()))
    return key, json.dumps({"keys": [{**jwk, "kid": "key-1"}]}).encode()


def _token(key: ec.EllipticCurvePrivateKey) -> str:
    now = int(time.time())
    claims = {
        "sub": "usr_1",
        "kind": "user",
        "roles": ["sales"],
        "iss": "glosleep-auth",
        "aud": "glosleep",
        "iat": now,
        "exp": now + 300,
        "jti": "t1",
    }
    return jwt.encode(claims, key, "ES256", headers={"kid": "key-1"})


async def test_known_keys_keep_verifying_while_the_jwks_does_not_answer(auth: StubServer) -> None:
    key, jwks = _signing_key()
    token = _token(key)
    auth.answers[JWKS] = (503, b"{}")
    http = Http("glosleep-test")
    verifier = JwksTokenVerifier(
        auth.url + JWKS,
        issuer="glosleep-auth",
        audience="glosleep",
        cache_seconds=0.2,
        http=http,
    )
    try:
        with pytest.raises(ServiceUnavailable):  # no keys yet: 503, not a 500
            await verifier.verify(token)
        auth.answers[JWKS] = (200, jwks)
        assert (await verifier.verify(token)).subject == "usr_1"
        fetched = len(auth.requests)
        auth.answers[JWKS] = (503, b"{}")
        async with asyncio.timeout(10):
            while len(auth.requests) == fetched:  # until the stale cache's refresh is sent
                assert (await verifier.verify(token)).subject == "usr_1"
                await asyncio.sleep(0.05)
            # Wait on the refresh itself (it failed on the 503), not on a sleep.
            refresh = verifier._refresh  # private: the only handle on the refresh task
            assert refresh is not None
            await refresh
        assert auth.requests[-1]["path"] == JWKS
        assert (await verifier.verify(token)).subject == "usr_1"
    finally:
        await http.aclose()
