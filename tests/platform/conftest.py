"""The Pulumi program, run offline under mocks once per stack per session."""

from __future__ import annotations

import pytest

from glosleep_platform.offline import OfflineRun
from glosleep_platform.settings import PlatformSettings, load_settings_file
from tests.platform.helpers import STACKS, offline


@pytest.fixture(scope="session")
def kind_run() -> OfflineRun:
    return offline("kind")


@pytest.fixture(scope="session")
def eks_run() -> OfflineRun:
    return offline("eks")


@pytest.fixture(scope="session", params=STACKS)
def stack_run(request: pytest.FixtureRequest) -> OfflineRun:
    return offline(str(request.param))


@pytest.fixture(scope="session")
def stack_settings(stack_run: OfflineRun) -> PlatformSettings:
    return load_settings_file(stack_run.stack)


def pytest_configure(config: pytest.Config) -> None:
    # pulumi-aws warns about its own deprecated modules when it loads them.
    config.addinivalue_line("filterwarnings", "ignore::DeprecationWarning:pulumi_aws.*")
    # pulumi-eks warns about its (unused) self-managed NodeGroup when it loads.
    config.addinivalue_line("filterwarnings", "ignore::DeprecationWarning:pulumi_eks.*")
