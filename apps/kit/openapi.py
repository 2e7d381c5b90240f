"""The OpenAPI every service publishes: the problem+json answers of each operation
(declared with examples: derived from the route's parameters and dependencies, plus
what a route declares with `problems(...)`), stable operation ids, and the one
`Problem` schema they all point to. The bearer scheme comes from `security.BEARER`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from apps.kit.problems import (
    PROBLEM_MEDIA_TYPE,
    BadRequest,
    Forbidden,
    NotFound,
    ProblemError,
    Unauthorized,
    UnprocessableContent,
    problem_type,
)
from apps.kit.security import authenticated

Responses = dict[int | str, dict[str, Any]]
PROBLEM_REF = "#/components/schemas/Problem"


class FieldError(BaseModel):
    path: str = Field(examples=["body.lines[0].quantity"])
    message: str = Field(examples=["Input should be greater than 0"])


class Problem(BaseModel):
    """An RFC 9457 problem: the body of every error answer (`application/problem+json`)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(
        description="The problem type; the URI opens its section of docs/problems.md."
    )
    title: str
    status: int
    detail: str | None = None
    instance: str | None = Field(default=None, description="The request path.")
    request_id: str | None = None
    trace_id: str | None = None
    errors: list[FieldError] | None = Field(
        default=None, description="For `validation`: each invalid field and why."
    )


def problem_example(error: ProblemError) -> dict[str, Any]:
    """The body `error` is answered with (request-specific fields left out)."""
    body: dict[str, Any] = {
        "type": problem_type(error.slug),
        "title": error.title,
        "status": error.status,
    }
    if error.detail:
        body["detail"] = error.detail
    body.update(error.extensions)
    return body


def problems(*errors: ProblemError) -> Responses:
    """`responses=` for a route: each error an example of its status's problem answer."""
    responses: Responses = {}
    for error in errors:
        entry = responses.setdefault(
            error.status,
            {
                "description": error.title,
                "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}, "examples": {}}},
            },
        )
        entry["content"][PROBLEM_MEDIA_TYPE]["examples"][error.slug] = {
            "summary": error.detail or error.title,
            "value": problem_example(error),
        }
    return responses


def _merge(into: Responses, extra: Mapping[int | str, Mapping[str, Any]]) -> None:
    for raw_status, response in extra.items():
        status: int | str = int(raw_status) if str(raw_status).isdigit() else raw_status
        current = into.get(status)
        if current is None:
            into[status] = dict(response)
            continue
        ours = current.get("content", {}).get(PROBLEM_MEDIA_TYPE, {}).get("examples")
        theirs = response.get("content", {}).get(PROBLEM_MEDIA_TYPE, {}).get("examples")
        if ours is not None and theirs is not None:
            ours.update(theirs)
        else:
            into[status] = {**current, **response}


def _walk(dependant: Dependant, depth: int = 0) -> Iterable[tuple[Dependant, int]]:
    yield dependant, depth
    for sub in dependant.dependencies:
        yield from _walk(sub, depth + 1)


def _query_names(dependant: Dependant) -> set[str]:
    """The query parameters' names, a pydantic model's fields (`Annotated[Model,
    Query()]`) included."""
    names = set()
    for param in dependant.query_params:
        model = param.field_info.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):
            names |= {info.alias or name for name, info in model.model_fields.items()}
        else:
            names.add(param.alias)
    return names


def derived_problems(route: APIRoute) -> list[ProblemError]:
    """The problems every route of this shape can answer, from what it declares."""
    tree = list(_walk(route.dependant))
    path = [p for dependant, _ in tree for p in dependant.path_params]
    query = [p for dependant, _ in tree for p in dependant.query_params]
    other = [
        p for dependant, _ in tree for p in [*dependant.header_params, *dependant.cookie_params]
    ]
    has_body = route.body_field is not None
    errors: list[ProblemError] = []
    if has_body:
        errors.append(BadRequest("The request body is not valid JSON.", slug="malformed-json"))
    if any("cursor" in _query_names(dependant) for dependant, _ in tree):
        errors.append(BadRequest("The cursor is not valid.", slug="bad-cursor"))
    # depth 1: a route parameter; deeper: under a role, scope or ownership check.
    depths = [depth for dependant, depth in tree if dependant.call is authenticated]
    if depths:
        errors.append(Unauthorized())
    if any(depth > 1 for depth in depths):
        errors.append(Forbidden("Your role does not allow this action."))
    if path and route.methods != {"PUT"}:
        errors.append(NotFound("No such resource."))
    if path or query or other or has_body:
        where = "body" if has_body else "query"
        errors.append(
            UnprocessableContent(
                "The request has invalid fields.",
                slug="validation",
                errors=[{"path": f"{where}.field", "message": "Field required"}],
            )
        )
    return errors


def operation_id(route: APIRoute) -> str:
    """`<tag>_<function>`: stable across releases, so generated clients keep their names."""
    tag = str(route.tags[0]) if route.tags else ""
    prefix = tag.replace(" ", "_").replace("-", "_").lower()
    return f"{prefix}_{route.name}" if prefix else route.name


def declare_problems(router: APIRouter) -> APIRouter:
    """Give every documented route of `router` its problem answers (before the app
    includes it): the derived ones, then what the route declares itself."""
    for route in router.routes:
        if isinstance(route, APIRoute) and route.include_in_schema:
            declared: Responses = {}
            _merge(declared, problems(*derived_problems(route)))
            _merge(declared, route.responses)
            route.responses = declared
    return router


def publish_problem_schema(app: FastAPI) -> None:
    """Add the `Problem` schema the declared answers refer to to the app's OpenAPI."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(problem.pop("$defs", {}))
        components["Problem"] = problem
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override
