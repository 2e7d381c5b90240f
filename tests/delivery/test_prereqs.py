"""A first `make test` on a machine that lacks something stops at once with a list
naming what is missing (tools/check-test-prereqs.sh), not a stack trace later on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "check-test-prereqs.sh"
DEBIAN_TOOLS = ("podman", "runc", "debootstrap", "docker-compose", "prometheus", "promtool")


def fake_bin(folder: Path, uid: int, tools: tuple[str, ...]) -> Path:
    """A PATH with bash, python3, `id` answering `uid`, and stand-ins for `tools`."""
    folder.mkdir()
    for name in ("bash", "env"):
        (folder / name).symlink_to(
            next(Path(p) / name for p in ("/usr/bin", "/bin") if (Path(p) / name).exists())
        )
    (folder / "python3").symlink_to(sys.executable)
    (folder / "id").write_text(f"#!/bin/sh\necho {uid}\n")
    for tool in tools:
        (folder / tool).write_text("#!/bin/sh\nexit 0\n")
    for path in folder.iterdir():
        if not path.is_symlink():
            path.chmod(0o755)
    return folder


def check(path: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": str(path), "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(
        [str(path / "bash"), str(SCRIPT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_without_root_the_missing_tools_are_named(tmp_path: Path) -> None:
    result = check(fake_bin(tmp_path / "bin", 1000, ("git",)))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    for named in ("npm", "podman runc debootstrap docker-compose", "prometheus promtool"):
        assert named in result.stderr, result.stderr
    assert "README.md" in result.stderr


def test_as_root_the_debian_tools_are_installed_by_the_tests(tmp_path: Path) -> None:
    result = check(fake_bin(tmp_path / "bin", 0, ("git", "npm")))
    assert result.returncode == 0, result.stderr


def test_without_root_but_with_everything_installed_it_passes(tmp_path: Path) -> None:
    result = check(fake_bin(tmp_path / "bin", 1000, ("git", "npm", *DEBIAN_TOOLS)))
    assert result.returncode == 0, result.stderr


def test_an_unsupported_python_is_named(tmp_path: Path) -> None:
    folder = fake_bin(tmp_path / "bin", 0, ("git", "npm"))
    (folder / "python3").unlink()
    (folder / "python3").write_text(
        '#!/bin/sh\ncase "$2" in *version_info*) exit 1;; *) echo 3.10.12;; esac\n'
    )
    (folder / "python3").chmod(0o755)
    result = check(folder)
    assert result.returncode == 2
    assert "python3 is 3.10.12; the project needs 3.11, 3.12 or 3.13" in result.stderr


DOCKER = '#!/bin/sh\n[ "$1" = info ] && echo 27.3.1\nexit 0\n'  # an engine that answers


def test_without_root_a_running_docker_engine_stands_in_for_podman(tmp_path: Path) -> None:
    """No podman and no root, but Docker (with its Compose plugin) runs: the image
    tests will use it, so nothing for them is missing."""
    folder = fake_bin(tmp_path / "bin", 1000, ("git", "npm", "prometheus", "promtool"))
    (folder / "docker").write_text(DOCKER)
    (folder / "docker").chmod(0o755)
    result = check(folder)
    assert result.returncode == 0, result.stderr


def test_with_docker_but_no_compose_the_compose_is_named(tmp_path: Path) -> None:
    folder = fake_bin(tmp_path / "bin", 1000, ("git", "npm", "prometheus", "promtool"))
    (folder / "docker").write_text('#!/bin/sh\n[ "$1" = info ] && echo 27.3.1 && exit 0\nexit 1\n')
    (folder / "docker").chmod(0o755)
    result = check(folder)
    assert result.returncode == 2
    assert "Docker Compose for the image tests" in result.stderr
    assert "podman" not in result.stderr
