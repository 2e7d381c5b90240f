"""The test platform: one database server (embedded SecantusDB, or the server at
MONGO_URL), throw-away databases, and real service processes over HTTP."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest

from apps.devstack.embedded_db import EmbeddedMongo
from tests.analytics.conftest import EXPORT_BUCKET, kms_encrypted_bucket
from tests.support.moto_server import MotoServer
from tests.support.platform import Platform, running_platform

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
    with running_platform(mongo_url, database_prefix, tmp_path_factory.mktemp("logs")) as running:
        yield running


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto's S3 and KMS as a real HTTP server on loopback, in its own process, with
    the export bucket."""
    server = MotoServer(log_path=tmp_path_factory.mktemp("moto") / "moto.log")
    server.spawn()
    try:
        server.wait_ready()
        kms_encrypted_bucket(server.url, EXPORT_BUCKET)
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def auth_platform(platform: Platform) -> Platform:
    platform.start()
    return platform
