from __future__ import annotations

from collections.abc import Iterator

import pytest

from apps.devstack.processes import ServiceProcess
from tests.support.platform import Platform


def start_probe(platform: Platform, **extra_env: str) -> ServiceProcess:
    return platform.spawn("probe", module="tests.support.probe_service", **extra_env)


@pytest.fixture(scope="module")
def probe(auth_platform: Platform) -> Iterator[ServiceProcess]:
    process = start_probe(auth_platform)
    yield process
    process.stop()
