from __future__ import annotations

from typing import Any

import pytest

from apps.devstack.stack import SERVICES
from tests.support.platform import Platform


@pytest.fixture(scope="module")
def specs(platform: Platform) -> dict[str, dict[str, Any]]:
    """Each running service's OpenAPI document, as /docs and client generators read it."""
    platform.start(*SERVICES)
    documents = {}
    for service in SERVICES:
        response = platform.http.get(platform.url(service, "/openapi.json"))
        assert response.status_code == 200, response.text
        documents[service] = response.json()
    return documents
