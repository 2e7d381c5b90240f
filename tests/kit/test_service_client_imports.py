"""Calling another service does not search the disk for a module on every request."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

import pytest
from httpcore._synchronization import current_async_library

import apps.kit.service_client  # noqa: F401 - what every service imports


class Recorder:
    """A finder ahead of the others: sees every import sys.modules does not answer."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        self.names.append(name)
        return None


async def test_httpcore_tells_the_event_loop_without_an_import_search(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recorder = Recorder()
    monkeypatch.setattr(sys, "meta_path", [recorder, *sys.meta_path])
    for _ in range(3):
        assert current_async_library() == "asyncio"
    assert recorder.names == []
