"""moto's S3 and KMS as their own process on loopback, as a real S3 endpoint would be:
its state is out of reach of the in-process `mock_aws` of other tests, which resets
moto's backends (and so emptied a bucket an in-process server held)."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx

from apps.devstack.ports import free_port
from apps.devstack.processes import ManagedProcess


class MotoServer(ManagedProcess):
    def __init__(self, log_path: Path | None = None) -> None:
        super().__init__("moto", log_path)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]

    def is_ready(self) -> bool:
        try:
            return httpx.get(self.url + "/moto-api/", timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False
