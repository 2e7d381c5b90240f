"""The five service images, built from ``apps/Dockerfile`` (build argument SERVICE
picks the service) with the repo root as context, and pushed to a registry so
Deployments can pin them by digest.

Each tag is a digest of everything the build reads: the Dockerfile, the build
arguments and every file the context sends (build_context.py). That is the set
pulumi-docker-build diffs, so whenever the provider rebuilds an image its tag is new,
and ECR's immutable tags never refuse a push. Builds are reproducible
(SOURCE_DATE_EPOCH) and cached, so an image whose layers did not change keeps its
digest, and Deployments, which pin the digest alone, do not roll.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_docker_build as docker_build

from glosleep_platform.build_context import BuildContext
from glosleep_platform.catalogue import SERVICES, ServiceSpec

DOCKERFILE = "apps/Dockerfile"
CONTEXT = "."
# Image timestamps fixed, so an unchanged build gives the same digest.
REPRODUCIBLE = {"SOURCE_DATE_EPOCH": "0"}


def build_context(root: Path, spec: ServiceSpec) -> BuildContext:
    return BuildContext(
        root=root,
        context=CONTEXT,
        dockerfile=DOCKERFILE,
        build_args={"SERVICE": spec.name, **REPRODUCIBLE},
    )


def source_tag(root: Path, spec: ServiceSpec) -> str:
    """The image's tag: a short digest of everything its build reads."""
    return "ctx-" + build_context(root, spec).digest()[:20]


@dataclass(frozen=True)
class ImageTarget:
    """Where images go: one repository address per service, and how to log in."""

    repositories: dict[str, pulumi.Input[str]]
    registry: docker_build.RegistryArgs | None = None
    platform: docker_build.Platform | None = None
    # Where build layers are cached between deploys (a mutable repository; the image
    # repositories' tags are immutable): one cache reference per service.
    cache: dict[str, pulumi.Input[str]] = field(default_factory=dict)


class Images(pulumi.ComponentResource):
    """Builds and pushes every service image; ``refs`` are ``repo@sha256:...``."""

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
            build = build_context(root, spec)
            tag = source_tag(root, spec)
            cache = target.cache.get(spec.name)
            image = docker_build.Image(
                f"{name}-{spec.name}",
                context=docker_build.BuildContextArgs(location=build.context),
                dockerfile=docker_build.DockerfileArgs(location=build.dockerfile),
                build_args=dict(build.build_args),
                tags=[pulumi.Output.concat(target.repositories[spec.name], ":", tag)],
                platforms=[target.platform] if target.platform else None,
                push=True,
                # A preview must not need a Docker daemon; the digest is unknown until up.
                build_on_preview=False,
                registries=[target.registry] if target.registry else None,
                cache_from=(
                    [
                        docker_build.CacheFromArgs(
                            registry=docker_build.CacheFromRegistryArgs(ref=cache)
                        )
                    ]
                    if cache is not None
                    else None
                ),
                cache_to=(
                    [
                        docker_build.CacheToArgs(
                            registry=docker_build.CacheToRegistryArgs(
                                ref=cache,
                                mode=docker_build.CacheMode.MAX,
                                image_manifest=True,
                                oci_media_types=True,
                            )
                        )
                    ]
                    if cache is not None
                    else None
                ),
                # No per-build label: an unchanged build must keep its digest.
                labels={"org.opencontainers.image.title": f"glosleep-{spec.name}"},
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.refs[spec.name] = pulumi.Output.concat(
                target.repositories[spec.name], "@", image.digest
            )
            self.digests[spec.name] = image.digest
        self.register_outputs({"digests": self.digests})
