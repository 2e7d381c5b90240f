"""Shared fixtures: the program's declared resources, run offline once per session."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "platform") not in sys.path:
    sys.path.insert(0, str(ROOT / "platform"))

from glosleep_ops.resources import Resource, declared, to_json  # noqa: E402 - needs the path above


@pytest.fixture(scope="session")
def eks_resources() -> list[Resource]:
    return declared("eks")


@pytest.fixture(scope="session")
def eks_dump(eks_resources: list[Resource], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("declared") / "eks.json"
    path.write_text(json.dumps(to_json(eks_resources)))
    return path
