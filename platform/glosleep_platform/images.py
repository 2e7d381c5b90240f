"""The five service images, built from ``apps/Dockerfile`` (build argument SERVICE
picks the service) with the repo root as context, and pushed to a registry so
Deployments can pin them by digest.

Tags are content hashes of what goes into an image: an unchanged service keeps
its tag (no rebuild, no push), and immutable ECR tags are never reused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_docker_build as docker_build

from glosleep_platform.catalogue import SERVICES, ServiceSpec

# What every image is built from besides its own app folder.
DOCKERFILE = "apps/Dockerfile"
SHARED_INPUTS = (
    DOCKERFILE,
    "apps/__init__.py",
    "apps/kit",
    "pyproject.toml",
    "uv.lock",
    ".dockerignore",
)
IGNORED_PARTS = {"__pycache__", ".pytest_cache", ".mypy_cache"}


def _files(root: Path, relative: str) -> Iterator[Path]:
    path = root / relative
    if path.is_file():
        yield path
    elif path.is_dir():
        for candidate in sorted(path.rglob("*")):
            if candidate.is_file() and not IGNORED_PARTS.intersection(candidate.parts):
                yield candidate


def source_tag(root: Path, spec: ServiceSpec) -> str:
    """A short hash over every file the service's image is built from."""
    digest = hashlib.sha256()
    for relative in (f"apps/{spec.name}", *SHARED_INPUTS):
        for path in _files(root, relative):
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(b"\0")
            digest.update(path.read_bytes())
    return "src-" + digest.hexdigest()[:16]


@dataclass(frozen=True)
class ImageTarget:
    """Where images go: one repository address per service, and how to log in."""

    repositories: dict[str, pulumi.Input[str]]
    registry: docker_build.RegistryArgs | None = None
    platform: docker_build.Platform | None = None


class Images(pulumi.ComponentResource):
    """Builds and pushes every service image; ``refs`` are ``repo:tag@sha256:...``."""

    def __init__(
        self,
        name: str,
        root: Path,
        target: ImageTarget,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("glosleep:platform:Images", name, None, opts)
        self.refs: dict[str, pulumi.Output[str]] = {}
        self.digests: dict[str, pulumi.Output[str]] = {}
        for spec in SERVICES:
            tag = source_tag(root, spec)
            image = docker_build.Image(
                f"{name}-{spec.name}",
                context=docker_build.BuildContextArgs(location="."),
                dockerfile=docker_build.DockerfileArgs(location=DOCKERFILE),
                build_args={"SERVICE": spec.name},
                tags=[pulumi.Output.concat(target.repositories[spec.name], ":", tag)],
                platforms=[target.platform] if target.platform else None,
                push=True,
                # A preview must not need a Docker daemon; the digest is unknown until up.
                build_on_preview=False,
                registries=[target.registry] if target.registry else None,
                labels={
                    "org.opencontainers.image.title": f"glosleep-{spec.name}",
                    "org.opencontainers.image.version": tag,
                },
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.refs[spec.name] = image.ref
            self.digests[spec.name] = image.digest
        self.register_outputs({"digests": self.digests})
