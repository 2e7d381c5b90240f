"""The Pulumi program cannot turn dev mode on (issue 14, item 6): no service's
ConfigMap or Secret carries DEV_MODE in either stack, and no stack setting can add
it (unknown keys, at the top or inside `services`, are errors)."""

from __future__ import annotations

import json

import pytest

from glosleep_platform.catalogue import SERVICE_NAMES
from glosleep_platform.offline import OfflineRun, run_offline
from glosleep_platform.settings import ConfigError
from tests.platform.helpers import env_of


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_no_service_gets_dev_mode(stack_run: OfflineRun, service: str) -> None:
    config, secret = env_of(stack_run, service)
    for variables in (config, secret):
        assert not any(name.upper() == "DEV_MODE" for name in variables)
        assert not any("DEMO" in name.upper() for name in variables)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("glosleep:devMode", "true"),
        (
            "glosleep:services",
            json.dumps(
                {
                    "minReplicas": 1,
                    "maxReplicas": 3,
                    "cpuUtilizationPercent": 70,
                    "shutdownDrainSeconds": 10,
                    "shutdownTimeoutSeconds": 20,
                    "logLevel": "INFO",
                    "env": {"DEV_MODE": "true"},
                }
            ),
        ),
    ],
)
def test_no_stack_setting_can_turn_dev_mode_on(key: str, value: str) -> None:
    with pytest.raises(ConfigError):
        run_offline("kind", overrides={key: value})
