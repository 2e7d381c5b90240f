"""Traces: one trace id across services (W3C traceparent through ServiceClient
calls and the outbox), in every service's JSON logs, and exported over OTLP/HTTP
when OTEL_EXPORTER_OTLP_ENDPOINT is set."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from apps.devstack.ports import free_port
from apps.devstack.processes import ServiceProcess
from tests.support.logs import log_entries
from tests.support.platform import Platform
from tests.support.shop import Shop
from tests.support.waiting import wait_for


class OtlpReceiver:
    """An OTLP/HTTP trace receiver on loopback that keeps every export."""

    def __init__(self) -> None:
        self.requests: list[ExportTraceServiceRequest] = []
        self.paths: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.paths.append(self.path)
                receiver.requests.append(ExportTraceServiceRequest.FromString(body))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def spans(self) -> list[dict[str, Any]]:
        found = []
        for request in self.requests:
            for resource_spans in request.resource_spans:
                service = next(
                    a.value.string_value
                    for a in resource_spans.resource.attributes
                    if a.key == "service.name"
                )
                for scope in resource_spans.scope_spans:
                    for span in scope.spans:
                        found.append(
                            {
                                "service": service,
                                "name": span.name,
                                "kind": span.kind,
                                "trace_id": span.trace_id.hex(),
                                "span_id": span.span_id.hex(),
                                "parent_span_id": span.parent_span_id.hex(),
                            }
                        )
        return found


@pytest.fixture(scope="module")
def otlp() -> Iterator[OtlpReceiver]:
    receiver = OtlpReceiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()


@pytest.fixture(scope="module")
def relay(auth_platform: Platform, otlp: OtlpReceiver) -> Iterator[ServiceProcess]:
    stack = auth_platform.stack
    log_dir = stack.config.log_dir
    assert log_dir is not None
    process = ServiceProcess(
        "relay",
        free_port(),
        {
            **stack.env_for("relay"),
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp.url,
            "OTEL_BSP_SCHEDULE_DELAY": "100",
        },
        log_path=log_dir / "relay.log",
        module="tests.monitoring.relay_service",
    )
    process.start()
    process.wait_ready()
    yield process
    process.stop()


def _access(path: Path | None, route: str, trace_id: str) -> list[dict[str, Any]]:
    return [
        e
        for e in log_entries(path)
        if e.get("route") == route and e.get("trace_id") == trace_id and e["message"] == "request"
    ]


def test_one_trace_id_spans_the_caller_and_auth_in_their_logs(
    auth_platform: Platform, relay: ServiceProcess
) -> None:
    response = httpx.get(relay.url + "/v1/relay", timeout=10.0)
    assert response.status_code == 200, response.text
    trace_id = response.json()["trace_id"]
    assert len(trace_id) == 32
    auth_log = auth_platform.stack.process("auth").log_path
    assert wait_for(lambda: _access(relay.log_path, "/v1/relay", trace_id), timeout=30)
    assert wait_for(lambda: _access(auth_log, "/.well-known/jwks.json", trace_id), timeout=30)


def test_a_callers_traceparent_is_continued_through_the_service_client(
    auth_platform: Platform, relay: ServiceProcess
) -> None:
    trace_id = "0af7651916cd43dd8448eb211c80319c"
    response = httpx.get(
        relay.url + "/v1/relay",
        headers={"traceparent": f"00-{trace_id}-b7ad6b7169203331-01"},
        timeout=10.0,
    )
    assert response.json()["trace_id"] == trace_id
    auth_log = auth_platform.stack.process("auth").log_path
    assert wait_for(lambda: _access(auth_log, "/.well-known/jwks.json", trace_id), timeout=30)


def test_spans_are_exported_over_otlp_when_an_endpoint_is_set(
    relay: ServiceProcess, otlp: OtlpReceiver
) -> None:
    trace_id = httpx.get(relay.url + "/v1/relay", timeout=10.0).json()["trace_id"]

    def both_spans() -> list[dict[str, Any]] | None:
        spans = [s for s in otlp.spans() if s["trace_id"] == trace_id]
        return spans if len(spans) >= 2 else None

    spans = wait_for(both_spans, timeout=30, every=0.2)
    assert "/v1/traces" in otlp.paths
    relayed = [span for span in spans if span["service"] == "relay"]
    # One server span a request, the kit's: the framework adds none of its own
    # (FastAPI's native telemetry would add a second server span and one per
    # dependency, endpoint and serialization, at 0.28 ms a request).
    (server,) = [span for span in relayed if span["kind"] == 2]  # SPAN_KIND_SERVER
    (client,) = [span for span in relayed if span["kind"] == 3]  # SPAN_KIND_CLIENT
    assert len(relayed) == 2, relayed
    assert server["name"] == "GET /v1/relay"
    assert server["parent_span_id"] == ""  # the request came without a traceparent
    assert client["name"] == "GET auth"
    assert client["parent_span_id"] == server["span_id"]


def test_an_order_is_one_trace_from_order_to_inventory_and_its_events(platform: Platform) -> None:
    platform.start("inventory", "order")
    shop = Shop(platform)
    sku = shop.product(stock=2)
    distributor = shop.distributor()
    placed = shop.place(shop.as_distributor(distributor), [(sku, 1)])
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["id"]
    order_log = platform.stack.process("order").log_path
    inventory_log = platform.stack.process("inventory").log_path
    request_id = placed.headers["x-request-id"]

    def placing() -> list[dict[str, Any]]:
        # The access line is written once the answer has gone out: wait for it.
        return [
            e
            for e in log_entries(order_log)
            if e.get("request_id") == request_id
            and e.get("route") == "/v1/orders"
            and e.get("method") == "POST"
        ]

    lines = wait_for(placing, timeout=30)
    assert lines, "no access line for the order placement"
    trace_id = lines[-1]["trace_id"]
    assert wait_for(
        lambda: _access(inventory_log, "/v1/reservations/{reservation_id}", trace_id), timeout=30
    )
    events = wait_for(lambda: shop.events(order_id), timeout=30)
    assert events[0]["traceparent"].split("-")[1] == trace_id
