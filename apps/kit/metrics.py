"""Prometheus metrics: RED metrics by route template, process metrics, and
get-or-create helpers for each service's business metrics."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI
from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_fastapi_instrumentator import Instrumentator

NAMESPACE = "glosleep"


def instrument(app: FastAPI) -> None:
    Instrumentator(
        should_group_status_codes=True,
        should_ignore_untemplated=True,
        should_group_untemplated=True,
        excluded_handlers=["/metrics"],
    ).instrument(app).expose(app, include_in_schema=False, should_gzip=True)


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
