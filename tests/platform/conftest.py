"""The Pulumi program, run offline under mocks once per stack per session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _prepare_path() -> None:
    for path in (ROOT, ROOT / "platform"):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))


_prepare_path()

from glosleep_platform.offline import OfflineRun  # noqa: E402
from glosleep_platform.settings import PlatformSettings, load_settings_file  # noqa: E402
from tests.platform.helpers import STACKS, offline  # noqa: E402


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
