"""Shared fixtures: the program's declared resources, run offline once per session."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glosleep_ops.resources import Resource, declared, to_json


@pytest.fixture(scope="session")
def eks_resources() -> list[Resource]:
    return declared("eks")


@pytest.fixture(scope="session")
def eks_dump(eks_resources: list[Resource], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("declared") / "eks.json"
    path.write_text(json.dumps(to_json(eks_resources)))
    return path
