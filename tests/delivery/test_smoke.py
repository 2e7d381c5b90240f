"""The smoke test the Kind workflow runs through the Gateway, run here against
the real services (their own URLs instead of the Gateway's prefixes)."""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest

from tests.support.platform import ADMIN_EMAIL, Platform


def _smoke_module() -> ModuleType:
    # tools/ is a folder of scripts on pytest's path, loaded by name as in test_workflows.
    return importlib.import_module("smoke")


@pytest.fixture(scope="module")
def smoke_args(platform: Platform) -> list[str]:
    platform.start("inventory", "order", "analytics")
    args = []
    for service in ("auth", "inventory", "order", "analytics"):
        args += ["--service-url", f"{service}={platform.url(service)}"]
    return args


def test_smoke_runs_the_whole_flow(
    platform: Platform,
    smoke_args: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SMOKE_EMAIL", ADMIN_EMAIL)
    monkeypatch.setenv("SMOKE_PASSWORD", platform.admin_password)
    assert _smoke_module().main([*smoke_args, "--timeout", "30"]) == 0
    out = capsys.readouterr().out
    for step in ("login: ok", "CONFIRMED", "stock fell", "sales report", "every step passed"):
        assert step in out


def test_smoke_fails_with_wrong_credentials(
    platform: Platform,
    smoke_args: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SMOKE_EMAIL", ADMIN_EMAIL)
    monkeypatch.setenv("SMOKE_PASSWORD", "not-the-password")
    assert _smoke_module().main([*smoke_args, "--timeout", "30"]) == 1
    assert "FAILED" in capsys.readouterr().err
