"""Which container engine the image tests use: podman by default (installed by
tools/podman-setup.sh when missing, with root or sudo), Docker where podman is not
installed but a Docker engine answers (macOS with Docker Desktop, or a Linux machine
without root where someone else runs dockerd). GLOSLEEP_CONTAINER_ENGINE=podman or
=docker decides instead.

Standard library only: tools/check-test-prereqs.sh runs this file before the
project's environment exists (`python3 tests/images/engine.py` prints the choice)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from typing import Literal

EngineName = Literal["podman", "docker"]
ENGINE_VARIABLE = "GLOSLEEP_CONTAINER_ENGINE"


def docker_engine_answers() -> bool:
    """`docker info` reaches a running Docker engine (a client alone is not enough)."""
    try:
        result = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0 and bool(result.stdout.strip())


def choose_engine(
    environ: Mapping[str, str] = os.environ,
    which: Callable[[str], str | None] = shutil.which,
    docker_answers: Callable[[], bool] = docker_engine_answers,
) -> EngineName:
    wanted = environ.get(ENGINE_VARIABLE, "").strip()
    if wanted == "podman":
        return "podman"
    if wanted == "docker":
        return "docker"
    if wanted:
        raise ValueError(f"{ENGINE_VARIABLE}={wanted!r}: use podman or docker")
    if which("podman") is not None:
        return "podman"
    if which("docker") is not None and docker_answers():
        return "docker"
    return "podman"  # tools/podman-setup.sh installs it (root or sudo)


if __name__ == "__main__":
    try:
        print(choose_engine())
    except ValueError as error:
        sys.exit(str(error))
