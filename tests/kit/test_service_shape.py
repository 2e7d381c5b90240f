"""One shape per service (docs/architecture.md, "One service, one shape"): the same
file names for the same jobs, role and scope requirements declared once per service
(its access.py), and routes that use the kit's dependencies rather than their own."""

from __future__ import annotations

import ast
import re
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


# Beanie's and PyMongo's query, write and transaction methods (on a document class,
# a document, a collection, a query or a session): a route that calls one does the
# database work itself instead of leaving it to its service's domain modules.
DATABASE_CALLS = {
    "aggregate",
    "bulk_write",
    "count",
    "count_documents",
    "delete",
    "delete_many",
    "delete_one",
    "distinct",
    "find",
    "find_all",
    "find_many",
    "find_one",
    "find_one_and_delete",
    "find_one_and_replace",
    "find_one_and_update",
    "get_motor_collection",
    "get_pymongo_collection",
    "in_transaction",
    "insert",
    "insert_many",
    "insert_one",
    "replace",
    "replace_one",
    "save",
    "start_session",
    "start_transaction",
    "to_list",
    "update_many",
    "update_one",
    "upsert",
    "with_transaction",
}
DATABASE_MODULES = ("beanie", "pymongo", "motor", "apps.kit.database", "apps.kit.outbox")
QUERY_OPERATOR = re.compile(r"^\$[a-zA-Z]+$")  # $in, $gte, $elemMatch, $set ...


def database_work(path: Path) -> list[str]:
    """What in a route module talks to the database itself: an import of a database
    library (or of the kit's transaction and outbox modules), a call of a query,
    write or transaction method, `.get(...)` on one of the service's documents, or a
    MongoDB query operator (a query built in the route)."""
    tree = ast.parse(path.read_text(), str(path))
    documents: set[str] = set()
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith(DATABASE_MODULES):
                found.append((node.lineno, f"imports {node.module}"))
            if node.module.endswith(".models"):
                documents |= {alias.asname or alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(DATABASE_MODULES):
                    found.append((node.lineno, f"imports {alias.name}"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            operator = QUERY_OPERATOR.match(node.value)
            if operator:
                found.append((node.lineno, f"names the query operator {operator.group()}"))
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        method, receiver = node.func.attr, node.func.value
        on_document = isinstance(receiver, ast.Name) and receiver.id in documents
        if method in DATABASE_CALLS or (method == "get" and on_document):
            found.append((node.lineno, f"calls .{method}(...)"))
    return [f"{path.name}:{line} {what}" for line, what in sorted(found)]


def test_routes_are_thin_and_leave_the_database_to_the_domain_modules() -> None:
    """Routes parse, authorize, call and answer; queries, writes and transactions
    live in the service's domain modules (the kit's get_or_404 and keyset_page
    read for a route by id and by page)."""
    found = {
        f"{service}/routes/{path.name}": work
        for service in SERVICES
        for path in sorted((APPS / service / "routes").glob("*.py"))
        if (work := database_work(path))
    }
    assert found == {}


def test_the_thin_route_check_finds_database_work(tmp_path: Path) -> None:
    """The check above is not blind: it names each kind of database work."""
    route = tmp_path / "routes.py"
    route.write_text(
        "from pymongo.errors import DuplicateKeyError\n"
        "from apps.order.models import Distributor\n"
        "async def a(kit, d):\n"
        "    await Distributor.get('x')\n"
        "    await Distributor.find({}).to_list()\n"
        "    await d.save()\n"
        "    await kit.database.in_transaction(None)\n"
        "    {}.get('x')\n"
        "    query = {'sku': {'$in': []}}\n"
    )
    assert database_work(route) == [
        "routes.py:1 imports pymongo.errors",
        "routes.py:4 calls .get(...)",
        "routes.py:5 calls .find(...)",
        "routes.py:5 calls .to_list(...)",
        "routes.py:6 calls .save(...)",
        "routes.py:7 calls .in_transaction(...)",
        "routes.py:9 names the query operator $in",
    ]
