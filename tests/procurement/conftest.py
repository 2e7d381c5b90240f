from __future__ import annotations

import pytest

from tests.procurement.support import use_fast_loops
from tests.support.platform import Platform


@pytest.fixture(scope="session")
def procurement_platform(platform: Platform) -> Platform:
    use_fast_loops(platform)
    platform.start("procurement")
    return platform
