"""Bad input on every route of a service, driven from its own OpenAPI document:
the bad bodies every service must refuse, the routes with their path parameters
filled in, and the check that each bad body is a 4xx problem+json everywhere.

Each service's test_bad_input.py adds its own bodies, path values, query cases
and tokens; what is here is the part that is the same for all of them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from tests.support.platform import Platform
from tests.support.problems import assert_client_error

# Not JSON, JSON that is not an object, an unknown field, a Mongo operator where
# a string belongs, and bytes that are not UTF-8: no route may answer them with
# anything but a 4xx problem.
COMMON_BAD_BODIES: list[bytes] = [
    b"{not json",
    b"[]",
    b'"a string"',
    b"null",
    b'{"unknown_field": 1}',
    b'{"name": {"$gt": ""}, "id": {"$ne": null}}',
    b"\xff\xfe\x00garbage",
]

PathValues = Mapping[str, str | Sequence[str]]


class Route(NamedTuple):
    method: str
    path: str
    operation: dict[str, Any]


def operations(platform: Platform, service: str) -> list[Route]:
    """Every (method, path template, operation) of the service's OpenAPI document."""
    spec = platform.http.get(platform.url(service, "/openapi.json")).json()
    return [
        Route(method.upper(), template, operation)
        for template, methods in spec["paths"].items()
        for method, operation in methods.items()
    ]


def fill_path(template: str, values: PathValues) -> list[str]:
    """`template` with each {parameter} replaced by its value from `values`; a
    parameter with several values gives one path per value. A parameter without
    a value fails the test, so a new route cannot slip past unchecked."""
    paths = [template]
    for name in re.findall(r"{(\w+)}", template):
        assert name in values, f"no test value for {{{name}}} in {template}"
        given = values[name]
        options = [given] if isinstance(given, str) else list(given)
        paths = [path.replace("{" + name + "}", option) for path in paths for option in options]
    return paths


def openapi_routes(
    platform: Platform, service: str, path_values: PathValues | None = None
) -> list[Route]:
    """Every (method, path with its parameters filled, operation) of the service."""
    return [
        Route(method, path, operation)
        for method, template, operation in operations(platform, service)
        for path in fill_path(template, path_values or {})
    ]


def assert_bad_body_refused(
    platform: Platform,
    service: str,
    routes: Iterable[Route],
    body: bytes,
    headers: Mapping[str, str],
) -> int:
    """Send `body` as JSON with `headers` to every route that takes a body: each
    must answer a 4xx problem. Answers how many routes took it (at least one)."""
    sent = 0
    for method, path, operation in routes:
        if "requestBody" not in operation:
            continue
        response = platform.http.request(
            method,
            platform.url(service, path),
            content=body,
            headers={**headers, "content-type": "application/json"},
        )
        try:
            assert_client_error(response)
        except AssertionError as error:
            raise AssertionError(f"{method} {path} with {body[:80]!r}: {error}") from None
        sent += 1
    assert sent, f"no route of {service} takes a body"
    return sent


def bad_query_values(operation: dict[str, Any]) -> list[tuple[str, str]]:
    """One value per query parameter of `operation` that its schema refuses."""
    bad = []
    for parameter in operation.get("parameters", []):
        if parameter["in"] != "query":
            continue
        schema = parameter.get("schema", {})
        options = schema.get("anyOf", [schema])
        kinds = {o.get("type") for o in options} | {o.get("format") for o in options}
        if "integer" in kinds or "boolean" in kinds:
            value = "many"
        elif "date" in kinds:
            value = "2026-13-45"
        elif any("enum" in o or "$ref" in o for o in options):
            value = "bogus-value"
        else:
            value = "x" * 600
        bad.append((parameter["name"], value))
    return bad


# Values at and beyond the edges that every service bounds (apps/kit/bounds.py):
# a sequence number past 64 bits, and dates whose time zone carries them past the
# calendar's ends. Each must be a 4xx problem, never a 500.
EDGE_VALUES: dict[str, list[str]] = {
    "integer": [str(2**63), str(2**64), str(-(2**63) - 1)],
    "date": ["9999-12-31", "0001-01-01"],
    "date-time": [
        "9999-12-31T23:59:59-14:00",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59Z",
        "0001-01-01T00:00:00Z",
    ],
}


def edge_query_values(operation: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, value) for each query parameter of `operation` and each of its
    kind's EDGE_VALUES."""
    edges = []
    for parameter in operation.get("parameters", []):
        if parameter["in"] != "query":
            continue
        schema = parameter.get("schema", {})
        for option in schema.get("anyOf", [schema]):
            kind = option.get("format") or option.get("type")
            edges += [(parameter["name"], value) for value in EDGE_VALUES.get(str(kind), [])]
    return edges


def assert_edges_refused(
    platform: Platform, service: str, routes: Iterable[Route], headers: Mapping[str, str]
) -> int:
    """Every edge value on every GET route's query parameters is a 4xx problem.
    Answers how many requests were checked."""
    checked = 0
    for method, path, operation in routes:
        if method != "GET":
            continue
        for name, value in edge_query_values(operation):
            response = platform.http.get(
                platform.url(service, path), params={name: value}, headers=headers
            )
            try:
                assert_client_error(response)
            except AssertionError as error:
                raise AssertionError(f"GET {path}?{name}={value}: {error}") from None
            checked += 1
    return checked
