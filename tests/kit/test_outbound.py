"""The kit's outbound HTTP (apps/kit/outbound.py), against a real server on loopback:
what a call sends, what it answers, connections kept alive, and no answer raised as
Unreachable."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Iterator

import pytest

from apps.kit.outbound import Http, Unreachable
from tests.support.http_stub import StubServer, stub_server


@pytest.fixture
def server() -> Iterator[StubServer]:
    with stub_server() as stub:
        yield stub


async def test_a_call_sends_its_json_query_and_headers(server: StubServer) -> None:
    http = Http("glosleep-test")
    try:
        answer = await http.request(
            "PUT",
            server.url + "/v1/things/1",
            body={"lines": [{"sku": "MAT-1", "quantity": 2}]},
            params={"sku": ["MAT-1", "PIL-2"], "after": 7},
            headers={"X-Request-ID": "req-1"},
            timeout_seconds=5.0,
        )
    finally:
        await http.aclose()
    assert (answer.status, answer.json()) == (200, {"seen": 1})
    (sent,) = server.requests
    assert sent["method"] == "PUT"
    assert sent["path"] == "/v1/things/1"
    assert sent["query"] == [("sku", "MAT-1"), ("sku", "PIL-2"), ("after", "7")]
    assert json.loads(sent["body"]) == {"lines": [{"sku": "MAT-1", "quantity": 2}]}
    assert sent["headers"]["Content-Type"] == "application/json"
    assert sent["headers"]["X-Request-ID"] == "req-1"
    assert sent["headers"]["User-Agent"] == "glosleep-test"


async def test_a_form_goes_with_basic_credentials(server: StubServer) -> None:
    http = Http("glosleep-test")
    try:
        await http.request(
            "POST",
            server.url + "/token",
            form={"grant_type": "client_credentials"},
            basic_auth=("svc-order", "s3cret"),
            timeout_seconds=5.0,
        )
    finally:
        await http.aclose()
    (sent,) = server.requests
    assert sent["body"] == b"grant_type=client_credentials"
    assert sent["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    credentials = base64.b64encode(b"svc-order:s3cret").decode()
    assert sent["headers"]["Authorization"] == f"Basic {credentials}"


async def test_an_error_status_is_an_answer_not_an_exception(server: StubServer) -> None:
    server.answers["/busy"] = (503, b'{"title": "Service Unavailable"}')
    http = Http("glosleep-test")
    try:
        answer = await http.request("GET", server.url + "/busy", timeout_seconds=5.0)
    finally:
        await http.aclose()
    assert answer.status == 503
    assert answer.json() == {"title": "Service Unavailable"}


async def test_calls_one_after_another_share_one_connection(server: StubServer) -> None:
    http = Http("glosleep-test")
    try:
        for _ in range(20):
            assert (await http.request("GET", server.url + "/", timeout_seconds=5.0)).status == 200
    finally:
        await http.aclose()
    assert len(server.requests) == 20
    assert server.connections == 1


async def test_no_listener_is_unreachable() -> None:
    with socket.socket() as reserved:
        reserved.bind(("127.0.0.1", 0))
        port = reserved.getsockname()[1]
        http = Http("glosleep-test")
        try:
            with pytest.raises(Unreachable) as raised:
                await http.request("GET", f"http://127.0.0.1:{port}/", timeout_seconds=5.0)
        finally:
            await http.aclose()
    assert raised.value.reason == "ClientConnectorError"


async def test_an_answer_later_than_the_timeout_is_unreachable(server: StubServer) -> None:
    server.release.clear()  # the server holds its answer until the test ends
    http = Http("glosleep-test")
    try:
        with pytest.raises(Unreachable) as raised:
            await http.request("GET", server.url + "/slow", timeout_seconds=0.2)
    finally:
        await http.aclose()
    assert raised.value.reason in {"TimeoutError", "ServerTimeoutError", "SocketTimeoutError"}
