"""docs/events/ holds the JSON Schema of each typed event (apps/kit/event_types.py),
generated, never edited: the committed files are what the models say."""

from __future__ import annotations

import json
from pathlib import Path

from jsonschema import Draft202012Validator

from apps.kit.event_types import EVENT_TYPES, SCHEMA_DIR, write_schemas


def test_committed_schemas_are_the_models(tmp_path: Path) -> None:
    write_schemas(tmp_path)
    generated = {path.name: path.read_text() for path in tmp_path.iterdir()}
    committed = {path.name: path.read_text() for path in SCHEMA_DIR.glob("*.json")}
    assert committed == generated, "run: .venv/bin/python -m apps.kit.event_types"


def test_each_schema_is_valid_json_schema_and_refuses_unknown_fields() -> None:
    for item in EVENT_TYPES:
        schema = json.loads((SCHEMA_DIR / f"{item.name}.v{item.version}.json").read_text())
        Draft202012Validator.check_schema(schema)
        assert schema["additionalProperties"] is False, item.name
