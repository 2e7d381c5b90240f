"""SecantusDB, a MongoDB-wire server from PyPI, as the embedded database for
development and tests when no `MONGO_URL` is given."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from pymongo import MongoClient
from pymongo.errors import PyMongoError

from apps.devstack.ports import free_port


def server_binary() -> str:
    found = Path(sys.executable).parent / "secantusd-py"
    if found.exists():
        return str(found)
    on_path = shutil.which("secantusd-py")
    if on_path is None:
        raise RuntimeError("secantusd-py is not installed; run `make install`")
    return on_path


class EmbeddedMongo:
    """A SecantusDB server process. `storage` is a folder that survives restarts,
    or None for a throw-away in-memory store."""

    def __init__(self, storage: Path | None, port: int | None = None, log: Path | None = None):
        self.storage = storage
        self.port = port or free_port()
        self._log_path = log
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def start(self, timeout_seconds: float = 30.0) -> str:
        if self.storage is not None:
            self.storage.mkdir(parents=True, exist_ok=True)
        log = open(self._log_path, "ab") if self._log_path else subprocess.DEVNULL  # noqa: SIM115
        self._process = subprocess.Popen(  # noqa: S603 - our own server binary, fixed arguments
            [
                server_binary(),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--storage-path",
                str(self.storage) if self.storage else ":memory:",
                "--log-level",
                "WARNING",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the embedded database exited with {self._process.returncode}")
            try:
                client: MongoClient[dict[str, Any]]
                with MongoClient(self.url, serverSelectionTimeoutMS=500) as client:
                    client.admin.command("ping")
                return self.url
            except PyMongoError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the embedded database did not answer within {timeout_seconds} s")

    def stop(self) -> None:
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
