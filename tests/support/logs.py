"""A service's JSON log as the tests read it: while the service runs, the last line
may be half-written, so a line that is not (yet) a JSON object is skipped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def log_entries(path: Path | None) -> list[dict[str, Any]]:
    assert path is not None, "the process was started without a log file"
    entries = []
    for line in path.read_text().splitlines():
        if line.startswith("{"):
            try:
                entries.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # the line being written right now
    return entries
