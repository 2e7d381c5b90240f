"""The test platform: one database server (embedded SecantusDB, or the server at
MONGO_URL), throw-away databases, and real service processes over HTTP."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from pymongo import MongoClient

from apps.devstack.embedded_db import EmbeddedMongo
from apps.devstack.stack import LocalStack, StackConfig
from tests.support.platform import ADMIN_EMAIL, ALL_SCOPES, TEST_CLIENT_ID, Platform

RUN_ID = secrets.token_hex(3)


@pytest.fixture(scope="session")
def mongo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("MONGO_URL")
    if external:
        yield external
        return
    log = tmp_path_factory.mktemp("db") / "secantus.log"
    with EmbeddedMongo(storage=None, log=log) as url:
        yield url


@pytest.fixture(scope="session")
def database_prefix() -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return f"t{RUN_ID}{worker}_"


@pytest.fixture(scope="session")
def platform(
    mongo_url: str, database_prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    log_dir: Path = tmp_path_factory.mktemp("logs")
    admin_password = "admin-" + secrets.token_urlsafe(16)
    client_secret = secrets.token_urlsafe(32)
    stack = LocalStack(
        StackConfig(
            mongo_url=mongo_url,
            database_prefix=database_prefix,
            log_dir=log_dir,
            admin_email=ADMIN_EMAIL,
            admin_password=admin_password,
            extra_clients={TEST_CLIENT_ID: (client_secret, ALL_SCOPES)},
        )
    )
    running = Platform(stack, admin_password, client_secret)
    try:
        yield running
    finally:
        running.close()
        stack.stop()
        _drop_databases(mongo_url, database_prefix)


def _drop_databases(mongo_url: str, prefix: str) -> None:
    client: MongoClient[dict[str, object]]
    with MongoClient(mongo_url, serverSelectionTimeoutMS=5_000) as client:
        for name in client.list_database_names():
            if name.startswith(prefix):
                client.drop_database(name)


@pytest.fixture(scope="session")
def auth_platform(platform: Platform) -> Platform:
    platform.start()
    return platform
