"""MongoDB as a Helm release: Bitnami's chart, a replica set, persistence, one user per service.

Every connection is TLS (``requireTLS``): the program makes a private CA, the chart's
init container signs each member's certificate with it (names: the member's headless
DNS names, the ones in the services' MONGO_URL), and the services verify the server
against that CA (``tlsCAFile``). Clients authenticate with their passwords (SCRAM),
not certificates.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumi_tls as tls

from glosleep_platform import k8s as kube
from glosleep_platform.catalogue import SERVICES
from glosleep_platform.credentials import Credentials
from glosleep_platform.settings import MongoSettings

CHART = "oci://registry-1.docker.io/bitnamicharts/mongodb"
RELEASE_NAME = "mongodb"
REPLICA_SET_NAME = "rs0"
PORT = 27017
SECRET_NAME = "mongodb-credentials"  # noqa: S105 - a Secret object name
CA_SECRET_NAME = "mongodb-tls-ca"  # noqa: S105 - a Secret object name
# Where the services find the CA certificate (a file in a mounted Secret).
CA_MOUNT_DIR = "/etc/glosleep/mongodb-ca"
CA_FILE = "ca.crt"
CA_VALIDITY_HOURS = 10 * 365 * 24
# The chart's scripts keep the CA at this path in the members' /certs volume.
MEMBER_CA_FILE = "/certs/mongodb-ca-cert"
# What the chart's restricted-PSA containers use (user 1001, the images' user: the
# init container's files must be readable by mongod); its TLS init container gets the
# same. Helm values, so not workload.container_security_context (user 10001).
RESTRICTED_CONTAINER = {
    "runAsUser": 1001,
    "runAsGroup": 1001,
    "runAsNonRoot": True,
    "privileged": False,
    "readOnlyRootFilesystem": True,
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


@dataclass(frozen=True)
class MongoEndpoint:
    """What a client needs: the members' addresses and the CA their certificates chain to."""

    hosts: list[str]
    ca_certificate: pulumi.Output[str]


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
        def chart_secret(
            resource_name: str, secret_name: str, data: dict[str, pulumi.Output[str]]
        ) -> k8s.core.v1.Secret:
            return k8s.core.v1.Secret(
                resource_name,
                metadata={
                    "name": secret_name,
                    "namespace": namespace,
                    "labels": kube.app_labels(RELEASE_NAME, "database"),
                },
                type="Opaque",
                string_data=data,
                opts=in_ns,
            )

        secret = chart_secret(
            f"{name}-credentials",
            SECRET_NAME,
            {
                "mongodb-root-password": credentials.mongo_root_password,
                "mongodb-replica-set-key": credentials.mongo_replica_set_key,
                "mongodb-passwords": joined,
            },
        )

        ca_key = tls.PrivateKey(f"{name}-tls-ca-key", algorithm="RSA", rsa_bits=3072, opts=child)
        ca = tls.SelfSignedCert(
            f"{name}-tls-ca",
            private_key_pem=ca_key.private_key_pem,
            is_ca_certificate=True,
            validity_period_hours=CA_VALIDITY_HOURS,
            allowed_uses=["cert_signing", "crl_signing"],
            subject={"common_name": "GloSleep MongoDB CA", "organization": "GloSleep"},
            opts=child,
        )
        ca_private_key: pulumi.Output[str] = pulumi.Output.secret(ca_key.private_key_pem)
        # The chart signs each member's certificate with this CA (tls.existingSecret).
        ca_secret = chart_secret(
            f"{name}-tls-ca",
            CA_SECRET_NAME,
            {"mongodb-ca-cert": ca.cert_pem, "mongodb-ca-key": ca_private_key},
        )

        self.release = kube.release(
            f"{name}-release",
            name=RELEASE_NAME,
            chart=CHART,
            version=settings.chart_version,
            namespace=namespace,
            timeout=900,
            values=self.values(settings, users, app_namespace),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[ns, secret, ca_secret]),
        )
        self.hosts = [
            f"{RELEASE_NAME}-{i}.{RELEASE_NAME}-headless.{namespace}.svc.cluster.local:{PORT}"
            for i in range(settings.replica_count)
        ]
        self.endpoint = MongoEndpoint(self.hosts, ca.cert_pem)
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
        tls_image = {
            "registry": settings.image_registry,
            "repository": settings.tls_image_repository,
            "tag": settings.tls_image_tag,
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
            "tls": {
                "enabled": True,
                "mode": "requireTLS",
                # Clients prove who they are with passwords, not certificates...
                "mTLS": {"enabled": False},
                "existingSecret": CA_SECRET_NAME,
                "image": tls_image,
                "securityContext": dict(RESTRICTED_CONTAINER),
                "resources": {
                    "requests": {"cpu": "50m", "memory": "64Mi"},
                    "limits": {"memory": "128Mi"},
                },
            },
            # ...but members verify each other against the CA, and clients without a
            # certificate (the services) are let in to authenticate.
            "extraFlags": [
                f"--tlsCAFile={MEMBER_CA_FILE}",
                "--tlsAllowConnectionsWithoutCertificates",
            ],
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
            f"/{database}?replicaSet={REPLICA_SET_NAME}&authSource={database}"
            f"&tls=true&tlsCAFile={CA_MOUNT_DIR}/{CA_FILE}",
        )
    )
