"""Podman for the image tests: set up by tools/podman-setup.sh (installs podman, runc
and debootstrap when missing, and makes the stand-in base image once), then builds
apps/Dockerfile for each service and runs the images on the host network."""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from apps.devstack.stack import SERVICES

ROOT = Path(__file__).resolve().parents[2]
SETUP_SCRIPT = ROOT / "tools" / "podman-setup.sh"
DOCKERFILE = ROOT / "apps" / "Dockerfile"
CONTAINERS_CONF = ROOT / ".cache" / "podman" / "containers.conf"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
# What the Dockerfile may add on top of its base image (the stand-in base is not the
# size of the official one, so the whole image size says little).
MAX_ADDED_BYTES = 60_000_000


def built_services() -> list[str]:
    """The services whose code exists in this checkout, in start order."""
    return [name for name in SERVICES if (ROOT / "apps" / name / "main.py").is_file()]


def base_image() -> str:
    """The image the Dockerfile's first FROM line names, fully qualified."""
    for line in DOCKERFILE.read_text().splitlines():
        words = line.split()
        if words and words[0].upper() == "FROM":
            return f"docker.io/library/{words[1]}"
    raise AssertionError(f"no FROM line in {DOCKERFILE}")


def source_hash(service: str) -> str:
    """A hash over every file the service's image is built from (as .dockerignore
    leaves them): an image with this hash in its tag needs no rebuild."""
    digest = hashlib.sha256()
    inputs = [DOCKERFILE, ROOT / ".dockerignore", ROOT / "pyproject.toml", ROOT / "uv.lock"]
    for folder in ("apps/__init__.py", "apps/kit", f"apps/{service}"):
        path = ROOT / folder
        inputs += sorted(path.rglob("*")) if path.is_dir() else [path]
    for path in inputs:
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()


def project_version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as file:
        version: str = tomllib.load(file)["project"]["version"]
    return version


class PodmanUnavailable(RuntimeError):
    pass


@dataclass
class ImageReport:
    service: str
    total_bytes: int
    added_bytes: int
    build_seconds: float
    cached: bool


@dataclass
class Podman:
    env: dict[str, str]
    # The commit the images are labelled with (read once: others may commit meanwhile).
    revision: str = field(default_factory=lambda: git("rev-parse", "HEAD") or "unknown")
    reports: dict[str, ImageReport] = field(default_factory=dict)

    @classmethod
    def set_up(cls) -> Podman:
        """Run the setup script; raise PodmanUnavailable with its output when it fails."""
        try:
            result = subprocess.run(
                ["bash", str(SETUP_SCRIPT)],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=900,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise PodmanUnavailable(f"{SETUP_SCRIPT} did not finish: {error}") from error
        if result.returncode != 0:
            raise PodmanUnavailable(
                f"{SETUP_SCRIPT} failed with {result.returncode}:\n{result.stderr[-4000:]}"
            )
        podman = cls({**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)})
        info = podman("info", "--format", "{{.Host.OCIRuntime.Name}}", check=False)
        if info.returncode != 0:
            raise PodmanUnavailable(f"`podman info` failed:\n{info.stderr[-4000:]}")
        return podman

    def __call__(
        self, *args: str, timeout: float = 120.0, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["podman", "--runtime", "runc", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"podman {' '.join(args[:3])} ... failed with {result.returncode}:\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        return result

    def logs(self, container: str) -> str:
        result = self("logs", container, check=False)
        return (result.stdout + result.stderr)[-3000:]

    def image_size(self, image: str) -> int:
        return int(self("image", "inspect", "--format", "{{.Size}}", image).stdout.strip())

    def build(self, service: str) -> str:
        """Build glosleep/<service> from the unchanged Dockerfile; nothing is pulled.
        An image built from the same files before is used as it is."""
        tag = f"localhost/glosleep/{service}:src-{source_hash(service)}"
        started = time.monotonic()
        cached = self("image", "exists", tag, check=False).returncode == 0
        if not cached:
            self._build(service, tag)
            self._remove_older(service, tag)
        total = self.image_size(tag)
        self.reports[service] = ImageReport(
            service,
            total,
            total - self.image_size(base_image()),
            time.monotonic() - started,
            cached,
        )
        return tag

    def _remove_older(self, service: str, tag: str) -> None:
        """Untag this service's images built from older files (the layers they share
        with the new one stay); keeps the machine's image store from growing."""
        listed = self("images", "--format", "{{.Repository}}:{{.Tag}}", check=False).stdout
        for name in listed.split():
            if name.startswith(f"localhost/glosleep/{service}:src-") and name != tag:
                self("rmi", name, check=False)

    def _build(self, service: str, tag: str) -> None:
        args = [
            "build",
            "--pull=never",
            # The Docker image format keeps HEALTHCHECK (OCI image configs have no field for it).
            "--format=docker",
            "--network=host",
            f"--file={DOCKERFILE}",
            f"--tag={tag}",
            f"--build-arg=SERVICE={service}",
            f"--build-arg=VERSION={project_version()}",
            f"--build-arg=REVISION={self.revision}",
            f"--build-arg=SOURCE={git('config', '--get', 'remote.origin.url')}",
        ]
        if CA_BUNDLE.is_file():
            # This machine's TLS-intercepting proxy: its CA bundle for the build only.
            args += [
                f"--volume={CA_BUNDLE.parent}:{CA_BUNDLE.parent}:ro",
                f"--build-arg=SSL_CERT_FILE={CA_BUNDLE}",
                f"--build-arg=PIP_CERT={CA_BUNDLE}",
            ]
        self(*args, str(ROOT), timeout=900)


def wait_ready(podman: Podman, container: str, url: str, timeout_seconds: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        state = podman("inspect", "--format", "{{.State.Status}}", container).stdout.strip()
        if state != "running":
            raise AssertionError(f"{container} is {state}:\n{podman.logs(container)}")
        try:
            if httpx.get(url + "/readyz", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{container} not ready in {timeout_seconds} s:\n{podman.logs(container)}")
