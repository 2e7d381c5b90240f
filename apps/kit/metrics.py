"""Prometheus metrics: RED metrics by route template, process metrics, and
get-or-create helpers for each service's business metrics."""

from __future__ import annotations

import gzip
from collections.abc import Sequence

from fastapi import FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_fastapi_instrumentator import Instrumentator

NAMESPACE = "glosleep"

# Buckets of http_request_duration_seconds{handler,method}. The SLO latency
# thresholds (docs/observability.md: login 0.5 s, order placement 1 s) must be
# bucket bounds, and per-route p95/p99 need more than the library's 0.1/0.5/1.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def instrument(app: FastAPI) -> None:
    Instrumentator(
        should_group_status_codes=True,
        should_ignore_untemplated=True,
        should_group_untemplated=True,
        excluded_handlers=["/metrics"],
        # http_requests_inprogress{handler,method}: the saturation signal.
        should_instrument_requests_inprogress=True,
        inprogress_labels=True,
    ).instrument(app, latency_lowr_buckets=LATENCY_BUCKETS)
    app.add_api_route("/metrics", metrics, include_in_schema=False)


async def metrics(request: Request) -> Response:
    """The exposition, on the event loop. The library's own endpoint is a plain
    function, which FastAPI runs on a worker thread: the first scrape cost each
    service about 4 MB (anyio's thread machinery and the thread) for microseconds
    of work."""
    body = generate_latest(REGISTRY)
    if "gzip" not in request.headers.get("accept-encoding", ""):
        return Response(body, media_type=CONTENT_TYPE_LATEST)
    return Response(
        gzip.compress(body), media_type=CONTENT_TYPE_LATEST, headers={"Content-Encoding": "gzip"}
    )


def _existing(name: str) -> object | None:
    return REGISTRY._names_to_collectors.get(name)  # prometheus_client has no public lookup by name


def counter(name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
    """`glosleep_<name>_total`; the same object on every call."""
    found = _existing(f"{NAMESPACE}_{name}_total")
    if isinstance(found, Counter):
        return found
    return Counter(name, documentation, labelnames=labels, namespace=NAMESPACE)


def histogram(
    name: str,
    documentation: str,
    labels: Sequence[str] = (),
    buckets: Sequence[float] = Histogram.DEFAULT_BUCKETS,
) -> Histogram:
    found = _existing(f"{NAMESPACE}_{name}")
    if isinstance(found, Histogram):
        return found
    return Histogram(name, documentation, labelnames=labels, namespace=NAMESPACE, buckets=buckets)


def gauge(name: str, documentation: str, labels: Sequence[str] = ()) -> Gauge:
    found = _existing(f"{NAMESPACE}_{name}")
    if isinstance(found, Gauge):
        return found
    return Gauge(name, documentation, labelnames=labels, namespace=NAMESPACE)
