"""One shape per service (docs/architecture.md, "One service, one shape"): the same
file names for the same jobs, role and scope requirements declared once per service
(its access.py), and routes that use the kit's dependencies rather than their own."""

from __future__ import annotations

import ast
from pathlib import Path

from apps.devstack.stack import SERVICES

APPS = Path(__file__).resolve().parents[2] / "apps"
SHAPE = (
    "__main__.py",
    "main.py",
    "settings.py",
    "models.py",
    "schemas.py",
    "access.py",
    "metrics.py",
    "routes",
)
CHECKS = {"require_roles", "require_scopes", "require_roles_or_scopes"}


def calls(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    return {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }


def test_every_service_has_the_same_files_for_the_same_jobs() -> None:
    missing = {
        service: [name for name in SHAPE if not (APPS / service / name).exists()]
        for service in SERVICES
    }
    assert {service: names for service, names in missing.items() if names} == {}


def test_role_and_scope_requirements_are_declared_only_in_access_py() -> None:
    elsewhere = sorted(
        str(path.relative_to(APPS))
        for service in SERVICES
        for path in (APPS / service).rglob("*.py")
        if path.name != "access.py" and calls(path) & CHECKS
    )
    assert elsewhere == []
    for service in SERVICES:
        assert calls(APPS / service / "access.py") & CHECKS, service
