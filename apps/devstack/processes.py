"""Service processes: start `python -m apps.<service>`, wait for /readyz, stop
with SIGTERM (or kill, for crash tests)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]


class ServiceProcess:
    def __init__(
        self,
        name: str,
        port: int,
        env: Mapping[str, str],
        log_path: Path | None = None,
        module: str | None = None,
    ) -> None:
        self.name = name
        self.module = module or f"apps.{name}"
        self.port = port
        self.env = dict(env)
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> None:
        env = {**os.environ, **self.env, "PORT": str(self.port), "HOST": "127.0.0.1"}
        env.setdefault("PYTHONPATH", str(REPO_ROOT))
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", self.module],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout_seconds: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                code = None if self._process is None else self._process.returncode
                raise RuntimeError(f"{self.name} exited with {code}; see {self.log_path}")
            try:
                if httpx.get(self.url + "/readyz", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} was not ready within {timeout_seconds} s")

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self, timeout_seconds: float = 20.0) -> int | None:
        """SIGTERM and wait; answers the exit code."""
        if self._process is None:
            return None
        process, self._process = self._process, None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=timeout_seconds)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        return process.returncode

    def kill(self) -> None:
        """SIGKILL: the crash a test wants to survive."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None
