"""Which container engine the image tests pick (tests/images/engine.py), given what is
on PATH and whether a Docker engine answers: the real script, run with a PATH of stand-in
commands (no container engine is started)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.images.containers import ROOT
from tests.images.engine import ENGINE_VARIABLE, choose_engine

SCRIPT = ROOT / "tests" / "images" / "engine.py"
DOCKER_UP = '#!/bin/sh\n[ "$1" = info ] && echo 27.3.1 && exit 0\nexit 0\n'
DOCKER_DOWN = (
    '#!/bin/sh\n[ "$1" = info ] && echo "Cannot connect to the Docker daemon" >&2 && exit 1\n'
    "exit 0\n"
)
PODMAN = "#!/bin/sh\nexit 0\n"


def chosen(
    tmp_path: Path, commands: dict[str, str], **environ: str
) -> subprocess.CompletedProcess[str]:
    """Run engine.py with only `commands` (name -> script) on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in commands.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    return subprocess.run(
        [sys.executable, str(SCRIPT)],
        env={"PATH": str(bin_dir), **environ},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("commands", "engine"),
    [
        ({"podman": PODMAN, "docker": DOCKER_UP}, "podman"),  # podman stays the default
        ({"docker": DOCKER_UP}, "docker"),  # macOS with Docker Desktop, Linux without root
        ({"docker": DOCKER_DOWN}, "podman"),  # a Docker client without an engine
        ({}, "podman"),  # nothing: podman-setup.sh installs podman (root or sudo)
    ],
)
def test_the_engine_follows_what_is_installed_and_works(
    tmp_path: Path, commands: dict[str, str], engine: str
) -> None:
    result = chosen(tmp_path, commands)
    assert (result.returncode, result.stdout.strip()) == (0, engine), result.stderr


def test_the_variable_decides_over_what_is_installed(tmp_path: Path) -> None:
    commands = {"podman": PODMAN, "docker": DOCKER_UP}
    assert chosen(tmp_path, commands, **{ENGINE_VARIABLE: "docker"}).stdout.strip() == "docker"


def test_an_unknown_engine_name_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="use podman or docker"):
        choose_engine({ENGINE_VARIABLE: "nerdctl"}, lambda name: None, lambda: False)


def test_docker_is_not_asked_while_podman_is_there() -> None:
    """Picking podman costs no `docker info` (which can hang on a stopped Docker Desktop)."""

    def asked() -> bool:
        raise AssertionError("docker info was run")

    assert choose_engine({}, lambda name: f"/usr/bin/{name}", asked) == "podman"
