"""The tests' platform with the bench's catalogue in it, shared by the bench's tests."""

from __future__ import annotations

import pytest

from bench.run import Setup
from bench.scale.platform import Platform as BenchPlatform
from tests.analytics.conftest import start_full_platform
from tests.support.platform import ADMIN_EMAIL, Platform


@pytest.fixture(scope="session")
def bench_platform(
    platform: Platform, s3_endpoint: str, mongo_url: str, database_prefix: str
) -> BenchPlatform:
    """The tests' platform with all five services, and the bench's catalogue
    (its own warehouse and products) and distributors in it."""
    start_full_platform(platform, s3_endpoint)
    setup = Setup(platform.stack, ADMIN_EMAIL, platform.admin_password, skus=3)
    setup.catalogue()
    setup.distributors(2)
    return BenchPlatform(platform.stack, setup, mongo_url, database_prefix)
