"""A local Kind cluster and image registry, driven through the ``kind`` CLI.

There is no maintained Pulumi provider for Kind (docs/adr/0010-kind-via-pulumi-command.md):
``platform/kind/up.sh`` and ``down.sh`` do the work, run by pulumi-command so that
``pulumi up`` creates the cluster and ``pulumi destroy`` deletes it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pulumi
import pulumi_command as command
import pulumi_kubernetes as k8s

from glosleep_platform.settings import KindSettings
from glosleep_platform.triggers import every_update

REGISTRY_NAME = "glosleep-registry"


class KindCluster(pulumi.ComponentResource):
    """The cluster, the registry its nodes pull from, and a provider for it."""

    def __init__(
        self,
        name: str,
        settings: KindSettings,
        root: Path,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("glosleep:platform:KindCluster", name, None, opts)
        config_text = (root / settings.config_path).read_bytes()
        environment = {
            "CLUSTER_NAME": settings.cluster_name,
            "NODE_IMAGE": settings.node_image,
            "KIND_CONFIG": settings.config_path,
            "REGISTRY_NAME": REGISTRY_NAME,
            "REGISTRY_PORT": str(settings.registry_port),
        }
        cluster = command.local.Command(
            f"{name}-cluster",
            create="bash platform/kind/up.sh",
            delete="bash platform/kind/down.sh",
            environment=environment,
            # Recreate the cluster when its config, node image, name or registry change
            # (an update would run the new up.sh and orphan the old cluster). The old
            # one is deleted first, or the new up.sh would find it, keep it, and the old
            # resource's down.sh would then delete it (create-before-delete).
            triggers=[
                hashlib.sha256(config_text).hexdigest(),
                *(f"{key}={value}" for key, value in sorted(environment.items())),
            ],
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )
        # Runs up.sh on every `pulumi up` (it is idempotent and has no delete), so a
        # cluster or registry deleted by hand comes back; ADR 0010.
        ensure = command.local.Command(
            f"{name}-ensure",
            create="bash platform/kind/up.sh",
            environment=environment,
            triggers=[every_update()],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[cluster]),
        )
        kubeconfig = command.local.Command(
            f"{name}-kubeconfig",
            create=f"kind get kubeconfig --name {settings.cluster_name}",
            # Read again after every ensure: a recreated cluster has new certificates.
            triggers=[ensure.id],
            logging=command.local.Logging.NONE,
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[ensure], additional_secret_outputs=["stdout"]
            ),
        )
        self.kubeconfig: pulumi.Output[str] = pulumi.Output.secret(kubeconfig.stdout)
        self.registry = f"localhost:{settings.registry_port}"
        self.ready: list[pulumi.Resource] = [ensure]
        self.provider = k8s.Provider(
            f"{name}-provider",
            kubeconfig=self.kubeconfig,
            # The kubeconfig is read on every up (unknown in a preview, new certificates
            # after a rebuild by hand); only a replaced cluster replaces the provider and
            # the objects in it (pulumi-kubernetes DiffConfig).
            cluster_identifier=cluster.id,
            delete_unreachable=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[kubeconfig]),
        )
        self.register_outputs({"kubeconfig": self.kubeconfig})
