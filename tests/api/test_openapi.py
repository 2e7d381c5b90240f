"""Every service's OpenAPI as its consumers meet it: the bearer scheme (/docs has
Authorize, generated clients send the token), the problem+json answers each operation
can give, with examples whose `type` opens a section of docs/problems.md, stable
operation ids, request examples that the service's own schema accepts, and the
package's version. Read from the running services over HTTP."""

from __future__ import annotations

import ast
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from apps.kit.problems import PROBLEM_MEDIA_TYPE, ProblemError, problem_slug, problem_type
from tests.support.platform import Platform, bearer

REPO = Path(__file__).resolve().parents[2]
METHODS = {"get", "put", "post", "patch", "delete"}
# Operations a caller uses before it has an access token.
PUBLIC = {
    ("auth", "post", "/v1/auth/login"),
    ("auth", "post", "/v1/auth/refresh"),
    ("auth", "post", "/v1/auth/logout"),
    ("auth", "post", "/v1/oauth/token"),
    ("auth", "get", "/.well-known/jwks.json"),
    ("auth", "get", "/v1/revocations"),  # digests only; every service polls it
}

Operation = tuple[str, str, str, dict[str, Any]]


def operations(specs: dict[str, dict[str, Any]]) -> Iterator[Operation]:
    for service, spec in specs.items():
        for path, item in spec["paths"].items():
            for method, operation in item.items():
                if method in METHODS:
                    yield service, method, path, operation


def documented_slugs() -> set[str]:
    """The problem names docs/problems.md has a section for (GitHub's heading anchors)."""
    text = (REPO / "docs" / "problems.md").read_text()
    return set(re.findall(r"^#{2,4} ([a-z0-9-]+)$", text, flags=re.MULTILINE))


def validator(spec: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator({**schema, "components": spec["components"]})


def test_each_spec_carries_the_package_version(specs: dict[str, dict[str, Any]]) -> None:
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert {service: spec["info"]["version"] for service, spec in specs.items()} == dict.fromkeys(
        specs, version
    )


def test_bearer_scheme_is_declared_and_every_private_operation_requires_it(
    specs: dict[str, dict[str, Any]],
) -> None:
    for service, spec in specs.items():
        schemes = spec["components"]["securitySchemes"]
        assert schemes == {
            "BearerToken": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": schemes["BearerToken"]["description"],
            }
        }, service
    for service, method, path, operation in operations(specs):
        public = (service, method, path) in PUBLIC
        expected: list[dict[str, list[str]]] = [] if public else [{"BearerToken": []}]
        assert operation.get("security", []) == expected, (service, method, path)


def test_problem_answers_point_at_the_problem_schema_with_documented_examples(
    specs: dict[str, dict[str, Any]],
) -> None:
    documented = documented_slugs()
    checked = 0
    for service, method, path, operation in operations(specs):
        spec = specs[service]
        problem = validator(spec, spec["components"]["schemas"]["Problem"])
        for status, answer in operation["responses"].items():
            if not status.startswith(("4", "5")):
                continue
            where = (service, method, path, status)
            assert set(answer["content"]) == {PROBLEM_MEDIA_TYPE}, where
            media = answer["content"][PROBLEM_MEDIA_TYPE]
            assert media["schema"] == {"$ref": "#/components/schemas/Problem"}, where
            assert media["examples"], where
            for slug, example in media["examples"].items():
                body = example["value"]
                problem.validate(body)
                assert body["status"] == int(status), where
                assert body["type"] == problem_type(slug), where
                assert slug in documented, f"{slug} has no section in docs/problems.md"
                checked += 1
    assert checked > 200


def test_errors_are_declared_where_they_apply(specs: dict[str, dict[str, Any]]) -> None:
    assert not any(
        "HTTPValidationError" in spec["components"]["schemas"] for spec in specs.values()
    )
    for service, method, path, operation in operations(specs):
        declared = set(operation["responses"])
        where = (service, method, path)
        if (service, method, path) not in PUBLIC:
            assert "401" in declared, where
        if operation.get("parameters") or "requestBody" in operation:
            assert "422" in declared, where
        if "requestBody" in operation:
            assert "400" in declared, where
        if "{" in path and method != "put":
            assert "404" in declared, where


def examples_of(operation: dict[str, Any], status: str) -> set[str]:
    answer = operation["responses"].get(status, {})
    return set(answer.get("content", {}).get(PROBLEM_MEDIA_TYPE, {}).get("examples", {}))


@pytest.mark.parametrize(
    ("service", "method", "path", "status", "slug"),
    [
        ("auth", "post", "/v1/auth/login", "429", "too-many-requests"),
        ("auth", "post", "/v1/oauth/token", "429", "too-many-requests"),
        ("auth", "post", "/v1/me/password", "429", "too-many-requests"),
        ("auth", "post", "/v1/users", "409", "email-taken"),
        ("auth", "get", "/v1/users", "403", "forbidden"),
        ("inventory", "put", "/v1/reservations/{reservation_id}", "409", "insufficient-stock"),
        ("inventory", "put", "/v1/reservations/{reservation_id}", "409", "reservation-mismatch"),
        ("inventory", "post", "/v1/reservations/{reservation_id}/release", "409",
         "reservation-committed"),
        ("inventory", "put", "/v1/receipts/{receipt_id}", "409", "receipt-mismatch"),
        ("inventory", "get", "/v1/products", "400", "bad-cursor"),
        ("order", "post", "/v1/orders", "400", "idempotency-key-required"),
        ("order", "post", "/v1/orders", "422", "idempotency-key-reused"),
        ("order", "post", "/v1/orders/{order_id}/cancel", "409", "illegal-transition"),
        ("procurement", "post", "/v1/purchase-orders/{po_id}/submit", "409", "concurrent-update"),
        ("procurement", "post", "/v1/purchase-orders/{po_id}/receipts", "409", "over-receipt"),
        ("analytics", "post", "/v1/exports", "503", "exports-not-configured"),
        ("analytics", "get", "/v1/reports/purchase-history", "400", "bad-cursor"),
    ],
)  # fmt: skip
def test_operation_declares_its_specific_problems(
    specs: dict[str, dict[str, Any]], service: str, method: str, path: str, status: str, slug: str
) -> None:
    assert slug in examples_of(specs[service]["paths"][path][method], status)


def test_any_client_error_a_service_answers_is_declared(
    specs: dict[str, dict[str, Any]], platform: Platform
) -> None:
    """Call every operation without a token, and as callers with too little access
    (a distributor; a service account with one scope), with placeholder ids and empty
    bodies: every 4xx answer must be a declared problem of that operation."""
    callers = {
        "anonymous": {},
        "distributor": platform.as_role("distributor", distributor_id="dst_openapi_probe"),
        "service": bearer(platform.service_token(["events:read"])),
    }
    seen: dict[str, set[str]] = {name: set() for name in callers}
    for service, method, path, operation in operations(specs):
        if (service, method, path) in PUBLIC:
            continue
        url = platform.url(service, re.sub(r"\{[^}]+\}", "zz-probe", path))
        for caller, headers in callers.items():
            if "requestBody" in operation:
                response = platform.http.request(method, url, headers=headers, json={})
            else:
                response = platform.http.request(method, url, headers=headers)
            where = (caller, service, method, path, response.status_code, response.text[:300])
            assert response.status_code < 500, where
            if response.status_code >= 400:
                assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE, where
                assert str(response.status_code) in operation["responses"], where
                slug = problem_slug(response.json()["type"])
                assert response.json()["type"] == problem_type(slug), where
                seen[caller].add(f"{response.status_code} {slug}")
    assert seen["anonymous"] == {"401 unauthorized"}
    assert "403 forbidden" in seen["distributor"]
    assert "403 forbidden" in seen["service"]


def test_operation_ids_are_unique_snake_case_tag_and_function(
    specs: dict[str, dict[str, Any]],
) -> None:
    for service, spec in specs.items():
        ids = [op["operationId"] for s, _, _, op in operations({service: spec}) if s == service]
        assert len(ids) == len(set(ids)), service
        for operation_id in ids:
            assert re.fullmatch(r"[a-z][a-z0-9_]*", operation_id), operation_id
    order = specs["order"]["paths"]
    assert order["/v1/orders"]["post"]["operationId"] == "orders_create_order"
    assert order["/v1/orders/{order_id}"]["get"]["operationId"] == "orders_read_order"


def test_request_bodies_have_examples_their_schema_accepts(
    specs: dict[str, dict[str, Any]],
) -> None:
    checked = 0
    for service, method, path, operation in operations(specs):
        body = operation.get("requestBody")
        if body is None:
            continue
        for media_type, media in body["content"].items():
            schema = media["schema"]
            refs = [s["$ref"] for s in [schema, *schema.get("anyOf", [])] if "$ref" in s]
            resolved = specs[service]["components"]["schemas"][refs[0].split("/")[-1]]
            examples = [media["example"]] if "example" in media else resolved.get("examples", [])
            assert examples, (service, method, path, media_type)
            for example in examples:
                validator(specs[service], schema).validate(example)
                checked += 1
    assert checked >= 25


def _problem_slugs_in_source() -> set[str]:
    """Every problem name the services can answer: literal `slug=` arguments, the
    kit's ProblemError classes, and the status titles of the kit's error handlers."""
    slugs: set[str] = set()
    for source in (REPO / "apps").rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.keyword) and node.arg == "slug":
                if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                    slugs.add(node.value.value)
                elif isinstance(node.value, ast.JoinedStr):  # f"{kind}-mismatch" in inventory
                    suffix = node.value.values[-1]
                    assert isinstance(suffix, ast.Constant), source
                    assert isinstance(suffix.value, str), source
                    kinds = ("receipt", "adjustment", "transfer")
                    slugs.update(kind + suffix.value for kind in kinds)
    classes: list[type[ProblemError]] = [ProblemError]
    while classes:
        cls = classes.pop()
        slugs.add(cls.slug)
        classes.extend(cls.__subclasses__())
    from apps.kit.error_handlers import _TITLES

    slugs.update(slug for _, slug in _TITLES.values())
    return slugs | {"http-error"}


def test_every_problem_type_has_a_section_in_docs() -> None:
    slugs = _problem_slugs_in_source()
    assert {"insufficient-stock", "validation", "unauthorized", "receipt-mismatch"} <= slugs
    assert sorted(slugs - documented_slugs()) == []
