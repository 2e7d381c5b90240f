"""The fuzzed platform: its own databases and processes, so that what the fuzzer
creates (products, warehouses, users, orders) never meets the other tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.analytics.conftest import start_full_platform
from tests.support.platform import Platform, running_platform


@pytest.fixture(scope="session")
def fuzz_platform(
    mongo_url: str,
    database_prefix: str,
    s3_endpoint: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Platform]:
    log_dir = tmp_path_factory.mktemp("fuzz-logs")
    with running_platform(mongo_url, database_prefix + "fz_", log_dir) as platform:
        yield start_full_platform(platform, s3_endpoint)
