"""MongoDB as a Helm release: Bitnami's chart, a replica set, persistence, one user per service."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from glosleep_platform import k8s as kube
from glosleep_platform.catalogue import SERVICES
from glosleep_platform.credentials import Credentials
from glosleep_platform.settings import MongoSettings

CHART = "oci://registry-1.docker.io/bitnamicharts/mongodb"
RELEASE_NAME = "mongodb"
REPLICA_SET_NAME = "rs0"
PORT = 27017
SECRET_NAME = "mongodb-credentials"  # noqa: S105 - a Secret object name


class MongoDB(pulumi.ComponentResource):
    """The database release and the Secret its credentials come from."""

    def __init__(
        self,
        name: str,
        settings: MongoSettings,
        credentials: Credentials,
        app_namespace: str,
        opts: pulumi.ResourceOptions,
        namespace: str = "mongodb",
    ) -> None:
        super().__init__("glosleep:platform:MongoDB", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.namespace = namespace
        ns = kube.namespace(f"{name}-namespace", namespace, "restricted", child)
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[ns])

        users = [spec.name for spec in SERVICES]
        passwords = pulumi.Output.all(*[credentials.mongo_user_passwords[u] for u in users])
        joined: pulumi.Output[str] = pulumi.Output.secret(passwords.apply(",".join))
        # The chart reads every password from this Secret (auth.existingSecret),
        # so the Helm values carry none.
        secret = k8s.core.v1.Secret(
            f"{name}-credentials",
            metadata={
                "name": SECRET_NAME,
                "namespace": namespace,
                "labels": kube.app_labels(RELEASE_NAME, "database"),
            },
            type="Opaque",
            string_data={
                "mongodb-root-password": credentials.mongo_root_password,
                "mongodb-replica-set-key": credentials.mongo_replica_set_key,
                "mongodb-passwords": joined,
            },
            opts=in_ns,
        )

        self.release = kube.release(
            f"{name}-release",
            name=RELEASE_NAME,
            chart=CHART,
            version=settings.chart_version,
            namespace=namespace,
            timeout=900,
            values=self.values(settings, users, app_namespace),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[ns, secret]),
        )
        self.hosts = [
            f"{RELEASE_NAME}-{i}.{RELEASE_NAME}-headless.{namespace}.svc.cluster.local:{PORT}"
            for i in range(settings.replica_count)
        ]
        self.register_outputs({"hosts": self.hosts})

    @staticmethod
    def values(settings: MongoSettings, users: list[str], app_namespace: str) -> dict[str, object]:
        image = {
            "registry": settings.image_registry,
            "repository": settings.image_repository,
            "tag": settings.image_tag,
        }
        os_shell = {
            "registry": settings.image_registry,
            "repository": settings.os_shell_repository,
            "tag": settings.os_shell_tag,
        }
        return {
            # Images outside the chart's allow-list (bitnamilegacy/*) need this opt-in.
            "global": {"security": {"allowInsecureImages": True}},
            "image": image,
            "volumePermissions": {"enabled": False, "image": os_shell},
            "architecture": "replicaset",
            "replicaSetName": REPLICA_SET_NAME,
            "replicaCount": settings.replica_count,
            "arbiter": {"enabled": False},
            "auth": {
                "enabled": True,
                "existingSecret": SECRET_NAME,
                "usernames": users,
                "databases": [f"glosleep_{user}" for user in users],
            },
            "persistence": {
                "enabled": True,
                "storageClass": settings.storage_class,
                "size": settings.storage_size,
                "resourcePolicy": "keep",
            },
            "resources": {
                "requests": {"cpu": "250m", "memory": "512Mi"},
                "limits": {"memory": "1Gi"},
            },
            "podAntiAffinityPreset": "soft" if settings.replica_count == 1 else "hard",
            "pdb": {"create": settings.replica_count > 1, "maxUnavailable": 1},
            "networkPolicy": {
                "enabled": True,
                "allowExternal": False,
                "ingressNSMatchLabels": {"kubernetes.io/metadata.name": app_namespace},
            },
            # The exporter's bitnamilegacy tag is not verified; see ADR 0012.
            "metrics": {"enabled": False},
        }


def mongo_url(
    user: str, password: pulumi.Input[str], hosts: list[str], database: str
) -> pulumi.Output[str]:
    """A connection string for one service's own user and database (a secret)."""
    return pulumi.Output.secret(
        pulumi.Output.concat(
            "mongodb://",
            user,
            ":",
            password,
            "@",
            ",".join(hosts),
            f"/{database}?replicaSet={REPLICA_SET_NAME}&authSource={database}",
        )
    )
