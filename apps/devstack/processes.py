"""Child processes the local platform owns (the embedded database, Prometheus,
each service): started with their output in a log file, ready when their own
check passes, stopped with SIGTERM (SIGKILL after a timeout), or killed outright
for crash tests."""

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


class ManagedProcess:
    """One child process; subclasses say how to run it and when it is ready."""

    def __init__(self, name: str, log_path: Path | None) -> None:
        self.name = name
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def environment(self) -> dict[str, str] | None:
        """The child's environment; None inherits this process's."""
        return None

    def is_ready(self) -> bool:
        raise NotImplementedError

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def spawn(self) -> None:
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self._process = subprocess.Popen(  # noqa: S603 - the command is built by our own code
            self.command(),
            cwd=REPO_ROOT,
            env=self.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout_seconds: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                code = None if self._process is None else self._process.returncode
                raise RuntimeError(f"{self.name} exited with {code}; see {self.log_path}")
            if self.is_ready():
                return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} was not ready within {timeout_seconds} s")

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self, timeout_seconds: float = 20.0) -> int | None:
        """SIGTERM and wait (SIGKILL after the timeout); answers the exit code."""
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


class ServiceProcess(ManagedProcess):
    """`python -m apps.<service>` on a loopback port; ready when /readyz says so."""

    def __init__(
        self,
        name: str,
        port: int,
        env: Mapping[str, str],
        log_path: Path | None = None,
        module: str | None = None,
    ) -> None:
        super().__init__(name, log_path)
        self.module = module or f"apps.{name}"
        self.port = port
        self.env = dict(env)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [sys.executable, "-m", self.module]

    def environment(self) -> dict[str, str]:
        # `python -m` from REPO_ROOT (the working directory) finds apps and tests.
        return {**os.environ, **self.env, "PORT": str(self.port), "HOST": "127.0.0.1"}

    def is_ready(self) -> bool:
        try:
            return httpx.get(self.url + "/readyz", timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    def start(self) -> None:
        """Spawn without waiting, so several services can start side by side."""
        self.spawn()
