from __future__ import annotations

from collections.abc import Iterator

import pytest

from apps.devstack.ports import free_port
from apps.devstack.processes import ServiceProcess
from tests.support.platform import Platform


def start_probe(platform: Platform, **extra_env: str) -> ServiceProcess:
    log_dir = platform.stack.config.log_dir
    probe = ServiceProcess(
        "probe",
        free_port(),
        {**platform.stack.env_for("probe"), **extra_env},
        log_path=log_dir / "probe.log" if log_dir else None,
        module="tests.support.probe_service",
    )
    probe.start()
    probe.wait_ready()
    return probe


@pytest.fixture(scope="module")
def probe(auth_platform: Platform) -> Iterator[ServiceProcess]:
    process = start_probe(auth_platform)
    yield process
    process.stop()
