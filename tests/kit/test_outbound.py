"""The kit's outbound HTTP (apps/kit/outbound.py), against a real server on loopback:
what a call sends, what it answers, connections kept alive, and no answer raised as
Unreachable."""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from apps.devstack.ports import free_port
from apps.kit.outbound import Http, Unreachable


class Recorder:
    """A loopback HTTP/1.1 server that keeps what it was sent and counts connections."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.connections = 0
        self.release = threading.Event()
        self.release.set()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                recorder.connections += 1

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                url = urlsplit(self.path)
                recorder.requests.append(
                    {
                        "method": self.command,
                        "path": url.path,
                        "query": parse_qsl(url.query),
                        "headers": dict(self.headers),
                        "body": self.rfile.read(length),
                    }
                )
                recorder.release.wait(timeout=10)
                status = (
                    int(url.path.rsplit("/", 1)[-1]) if url.path.startswith("/status/") else 200
                )
                body = json.dumps({"seen": len(recorder.requests)}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self._answer()

            def do_POST(self) -> None:
                self._answer()

            def do_PUT(self) -> None:
                self._answer()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def server() -> Iterator[Recorder]:
    recorder = Recorder()
    thread = threading.Thread(target=recorder.server.serve_forever, daemon=True)
    thread.start()
    yield recorder
    recorder.release.set()
    recorder.server.shutdown()
    recorder.server.server_close()


async def test_a_call_sends_its_json_query_and_headers(server: Recorder) -> None:
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


async def test_a_form_goes_with_basic_credentials(server: Recorder) -> None:
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


async def test_an_error_status_is_an_answer_not_an_exception(server: Recorder) -> None:
    http = Http("glosleep-test")
    try:
        answer = await http.request("GET", server.url + "/status/503", timeout_seconds=5.0)
    finally:
        await http.aclose()
    assert answer.status == 503
    assert answer.json() == {"seen": 1}


async def test_calls_one_after_another_share_one_connection(server: Recorder) -> None:
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


async def test_an_answer_later_than_the_timeout_is_unreachable(server: Recorder) -> None:
    server.release.clear()  # the server holds its answer until the test ends
    http = Http("glosleep-test")
    try:
        with pytest.raises(Unreachable) as raised:
            await http.request("GET", server.url + "/slow", timeout_seconds=0.2)
    finally:
        await http.aclose()
    assert raised.value.reason in {"TimeoutError", "ServerTimeoutError", "SocketTimeoutError"}
