"""ECR repositories for the service images: immutable tags, scan on push, KMS, lifecycle;
and one mutable repository for the build cache (a cache is overwritten by design).

Images are rebuilt from git at any time, so `pulumi destroy` deletes the repositories
with their images (force_delete; docs/deploy.md, "What destroy keeps")."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from glosleep_platform.catalogue import SERVICE_NAMES
from glosleep_platform.kms import kms_key

KEEP_IMAGES = 30
CACHE_REPOSITORY = "glosleep/build-cache"


def lifecycle_policy() -> str:
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": "Drop untagged layers after a week",
                    "selection": {
                        "tagStatus": "untagged",
                        "countType": "sinceImagePushed",
                        "countUnit": "days",
                        "countNumber": 7,
                    },
                    "action": {"type": "expire"},
                },
                {
                    "rulePriority": 2,
                    "description": f"Keep the newest {KEEP_IMAGES} images",
                    "selection": {
                        "tagStatus": "any",
                        "countType": "imageCountMoreThan",
                        "countNumber": KEEP_IMAGES,
                    },
                    "action": {"type": "expire"},
                },
            ]
        }
    )


class Registry(pulumi.ComponentResource):
    """One repository per service; ``urls`` maps service name to repository URL."""

    def __init__(
        self,
        name: str,
        tags: dict[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("glosleep:platform:Registry", name, None, opts)
        key = kms_key(f"{name}-images", "Encryption of GloSleep container images", tags, self)
        self.urls: dict[str, pulumi.Output[str]] = {}
        self.registry_ids: dict[str, pulumi.Output[str]] = {}
        cache = aws.ecr.Repository(
            f"{name}-build-cache",
            name=CACHE_REPOSITORY,
            image_tag_mutability="MUTABLE",
            encryption_configurations=[{"encryption_type": "KMS", "kms_key": key.arn}],
            force_delete=True,
            tags={**tags, "Name": CACHE_REPOSITORY},
            opts=pulumi.ResourceOptions(parent=self),
        )
        # One cache tag per service, rewritten by every build.
        self.cache_refs: dict[str, pulumi.Output[str]] = {
            service: pulumi.Output.concat(cache.repository_url, ":", service)
            for service in SERVICE_NAMES
        }
        for service in SERVICE_NAMES:
            repository = aws.ecr.Repository(
                f"{name}-{service}",
                name=f"glosleep/{service}",
                image_tag_mutability="IMMUTABLE",
                image_scanning_configuration={"scan_on_push": True},
                encryption_configurations=[{"encryption_type": "KMS", "kms_key": key.arn}],
                force_delete=True,
                tags={**tags, "Name": f"glosleep/{service}"},
                opts=pulumi.ResourceOptions(parent=self),
            )
            aws.ecr.LifecyclePolicy(
                f"{name}-{service}",
                repository=repository.name,
                policy=lifecycle_policy(),
                opts=pulumi.ResourceOptions(parent=repository),
            )
            self.urls[service] = repository.repository_url
            self.registry_ids[service] = repository.registry_id
        self.register_outputs({"urls": self.urls})
