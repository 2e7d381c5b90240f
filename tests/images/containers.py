"""The container engine of the image tests (tests/images/engine.py picks it): podman,
set up by tools/podman-setup.sh (installs podman, runc and debootstrap when missing,
and makes the stand-in base image once), or a running Docker engine where podman is
missing. Either builds apps/Dockerfile for each service and runs the images on the
host network."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from apps.devstack.stack import SERVICES
from tests.images.engine import EngineName, choose_engine, docker_engine_answers

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


class EngineUnavailable(RuntimeError):
    pass


@dataclass
class ImageReport:
    service: str
    total_bytes: int
    added_bytes: int
    build_seconds: float
    cached: bool


@dataclass
class Engine:
    name: EngineName
    env: dict[str, str]
    # The commit the images are labelled with (read once: others may commit meanwhile).
    revision: str = field(default_factory=lambda: git("rev-parse", "HEAD") or "unknown")
    reports: dict[str, ImageReport] = field(default_factory=dict)

    @classmethod
    def set_up(cls) -> Engine:
        """The chosen engine, ready; EngineUnavailable saying why when it is not."""
        name = choose_engine()
        if name == "docker":
            if not docker_engine_answers():
                raise EngineUnavailable("`docker info` does not reach a running Docker engine")
            return cls("docker", dict(os.environ))
        return cls._podman()

    @classmethod
    def _podman(cls) -> Engine:
        """Run the setup script; raise EngineUnavailable with its output when it fails."""
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
            raise EngineUnavailable(f"{SETUP_SCRIPT} did not finish: {error}") from error
        if result.returncode != 0:
            raise EngineUnavailable(
                f"{SETUP_SCRIPT} failed with {result.returncode}:\n{result.stderr[-4000:]}"
            )
        podman = cls("podman", {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)})
        info = podman("info", "--format", "{{.Host.OCIRuntime.Name}}", check=False)
        if info.returncode != 0:
            raise EngineUnavailable(f"`podman info` failed:\n{info.stderr[-4000:]}")
        return podman

    @property
    def command(self) -> list[str]:
        return ["podman", "--runtime", "runc"] if self.name == "podman" else ["docker"]

    def __call__(
        self, *args: str, timeout: float = 120.0, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [*self.command, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{self.name} {' '.join(args[:3])} ... failed with {result.returncode}:\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        return result

    def logs(self, container: str) -> str:
        result = self("logs", container, check=False)
        return (result.stdout + result.stderr)[-3000:]

    def image_exists(self, image: str) -> bool:
        if self.name == "podman":
            return self("image", "exists", image, check=False).returncode == 0
        return self("image", "inspect", image, check=False).returncode == 0

    def inspect_image(self, image: str) -> dict[str, Any]:
        """`image inspect` of one image; Docker's Healthcheck and Labels (under Config)
        are also where podman puts them, at the top."""
        found: dict[str, Any] = json.loads(self("image", "inspect", image).stdout)[0]
        config = found.get("Config") or {}
        found.setdefault("Healthcheck", config.get("Healthcheck"))
        found.setdefault("Labels", config.get("Labels"))
        return found

    def read_only_options(self) -> list[str]:
        """A read-only root with a small writable /tmp (podman would add more tmpfs)."""
        options = ["--read-only", "--tmpfs=/tmp:rw,size=64m,mode=1777"]
        return [*options, "--read-only-tmpfs=false"] if self.name == "podman" else options

    def healthcheck(self, container: str) -> subprocess.CompletedProcess[str]:
        """Run the image's HEALTHCHECK command in the running container once."""
        if self.name == "podman":
            return self("healthcheck", "run", container, check=False)
        test = json.loads(
            self("inspect", "--format", "{{json .Config.Healthcheck.Test}}", container).stdout
        )
        command = test[1:] if test[0] == "CMD" else ["/bin/sh", "-c", test[1]]
        return self("exec", container, *command, check=False)

    def compose_command(self) -> list[str]:
        """Compose for `config`: Docker's plugin where Docker is the engine and has it,
        otherwise docker-compose (Debian's, installed with podman)."""
        if self.name == "docker" and self("compose", "version", check=False).returncode == 0:
            return ["docker", "compose"]
        return ["docker-compose"]

    def image_size(self, image: str) -> int:
        return int(self("image", "inspect", "--format", "{{.Size}}", image).stdout.strip())

    def build(self, service: str) -> str:
        """Build glosleep/<service> from the unchanged Dockerfile; nothing is pulled.
        An image built from the same files before is used as it is."""
        tag = f"localhost/glosleep/{service}:src-{source_hash(service)}"
        started = time.monotonic()
        cached = self.image_exists(tag)
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
        args = ["build"]
        if self.name == "podman":
            # Never pulled: the stand-in base is local. The Docker image format keeps
            # HEALTHCHECK (OCI image configs have no field for it). Docker pulls the
            # official base image when it does not have it, and builds that format.
            args += ["--pull=never", "--format=docker"]
        args += [
            "--network=host",
            f"--file={DOCKERFILE}",
            f"--tag={tag}",
            f"--build-arg=SERVICE={service}",
            f"--build-arg=VERSION={project_version()}",
            f"--build-arg=REVISION={self.revision}",
            f"--build-arg=SOURCE={git('config', '--get', 'remote.origin.url')}",
        ]
        if CA_BUNDLE.is_file() and self.name == "podman":
            # This machine's TLS-intercepting proxy: its CA bundle for the build only
            # (Docker's build has no volumes; its machines need no such bundle).
            args += [
                f"--volume={CA_BUNDLE.parent}:{CA_BUNDLE.parent}:ro",
                f"--build-arg=SSL_CERT_FILE={CA_BUNDLE}",
                f"--build-arg=PIP_CERT={CA_BUNDLE}",
            ]
        self(*args, str(ROOT), timeout=900)


def wait_ready(engine: Engine, container: str, url: str, timeout_seconds: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        state = engine("inspect", "--format", "{{.State.Status}}", container).stdout.strip()
        if state != "running":
            raise AssertionError(f"{container} is {state}:\n{engine.logs(container)}")
        try:
            if httpx.get(url + "/readyz", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{container} not ready in {timeout_seconds} s:\n{engine.logs(container)}")
