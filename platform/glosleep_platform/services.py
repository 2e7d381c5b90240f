"""The five services in their namespace, wired to each other, MongoDB and auth.

Environment variables follow docs/architecture.md: plain settings go to a
ConfigMap, credentials (MONGO_URL, client secrets, the bootstrap password) to a
Secret, and auth's signing key is mounted as ``<kid>.pem`` files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from glosleep_platform import k8s as kube
from glosleep_platform import network_policies
from glosleep_platform.catalogue import (
    AUTH,
    AUTH_SIGNING_KEY_DIR,
    CONTAINER_PORT,
    JWT_AUDIENCE,
    JWT_ISSUER,
    SERVICES,
    URL_VARIABLES,
    ServiceSpec,
    internal_url,
    service_clients,
)
from glosleep_platform.credentials import Credentials
from glosleep_platform.gateway import GatewayRef
from glosleep_platform.mongodb import CA_FILE, CA_MOUNT_DIR, MongoEndpoint, mongo_url
from glosleep_platform.service import AppService, ServiceInputs
from glosleep_platform.settings import PlatformSettings

SIGNING_KEYS_VOLUME = "signing-keys"
MONGODB_CA_VOLUME = "mongodb-ca"
MAX_BODY_BYTES = 1_048_576


@dataclass(frozen=True)
class Extras:
    """Per-service additions a stack makes (e.g. analytics' export bucket on EKS)."""

    env: dict[str, dict[str, pulumi.Input[str]]] = field(default_factory=dict)
    egress: dict[str, list[network_policies.EgressRule]] = field(default_factory=dict)
    # What a service's pods need before they start (its Pod Identity association).
    ready: dict[str, list[pulumi.Resource]] = field(default_factory=dict)


def service_environment(
    spec: ServiceSpec, settings: PlatformSettings, namespace: str
) -> dict[str, str]:
    """The non-secret variables for one service."""
    scaling = settings.services
    env = {
        "PORT": str(CONTAINER_PORT),
        "MONGO_DATABASE": spec.database,
        "JWT_ISSUER": JWT_ISSUER,
        "JWT_AUDIENCE": JWT_AUDIENCE,
        "LOG_LEVEL": scaling.log_level,
        "MAX_BODY_BYTES": str(MAX_BODY_BYTES),
        "SHUTDOWN_DRAIN_SECONDS": str(scaling.shutdown_drain_seconds),
        "SHUTDOWN_TIMEOUT_SECONDS": str(scaling.shutdown_timeout_seconds),
        # Believe X-Forwarded-For only from pods (the Gateway's Envoy), so login
        # throttling and the audit see the client's address, not the Gateway's.
        "FORWARDED_ALLOW_IPS": settings.pod_network,
    }
    if spec.name == AUTH:
        env["AUTH_BOOTSTRAP_ADMIN_EMAIL"] = settings.bootstrap_admin_email
        env["AUTH_SIGNING_KEY_DIR"] = AUTH_SIGNING_KEY_DIR
    else:
        env["JWKS_URL"] = internal_url(AUTH, namespace) + "/.well-known/jwks.json"
    if spec.client is not None:
        env["SERVICE_CLIENT_ID"] = spec.client.client_id
    for callee in spec.calls:
        if callee != AUTH or spec.client is not None:
            env[URL_VARIABLES[callee]] = internal_url(callee, namespace)
    return env


def auth_service_clients(secrets: dict[str, str]) -> str:
    """AUTH_SERVICE_CLIENTS: the JSON list auth reads its service accounts from."""
    return json.dumps(
        [
            {
                "client_id": client.client_id,
                "client_secret": secrets[client.client_id],
                "scopes": list(client.scopes),
            }
            for client in service_clients()
        ]
    )


def secret_environment(
    spec: ServiceSpec, credentials: Credentials, mongo_hosts: list[str]
) -> dict[str, pulumi.Output[str]]:
    env = {
        "MONGO_URL": mongo_url(
            spec.name, credentials.mongo_user_passwords[spec.name], mongo_hosts, spec.database
        )
    }
    if spec.client is not None:
        env["SERVICE_CLIENT_SECRET"] = credentials.client_secrets[spec.client.client_id]
    if spec.name == AUTH:
        env["AUTH_BOOTSTRAP_ADMIN_PASSWORD"] = credentials.bootstrap_admin_password
        env["AUTH_SERVICE_CLIENTS"] = pulumi.Output.secret(
            pulumi.Output.all(**credentials.client_secrets).apply(auth_service_clients)
        )
    return env


class Services(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        settings: PlatformSettings,
        credentials: Credentials,
        images: dict[str, pulumi.Output[str]],
        mongodb: MongoEndpoint,
        gateway: GatewayRef,
        namespace_ready: k8s.core.v1.Namespace,
        peers: network_policies.Peers,
        crds_ready: list[pulumi.Resource],
        opts: pulumi.ResourceOptions,
        extras: Extras | None = None,
    ) -> None:
        super().__init__("glosleep:platform:Services", name, None, opts)
        more = extras or Extras()
        namespace = settings.namespace
        # The namespace is the stack's (stacks/common.py): the Gateway needs it first.
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[namespace_ready])
        shared_policies = {
            "default-deny": network_policies.default_deny(),
            "allow-dns": network_policies.allow_dns(),
            "allow-mongodb": network_policies.allow_mongodb(peers.mongodb),
        }
        for policy_name, policy in shared_policies.items():
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{policy_name}",
                metadata={
                    "name": policy_name,
                    "namespace": namespace,
                    "labels": kube.app_labels(policy_name, "network-policy"),
                },
                spec=policy,
                opts=in_ns,
            )
        signing_files: pulumi.Output[dict[str, str]] = pulumi.Output.secret(
            pulumi.Output.all(credentials.signing_key_id, credentials.signing_key_pem).apply(
                lambda pair: {f"{pair[0]}.pem": pair[1]}
            )
        )
        # The CA MongoDB's certificates chain to; MONGO_URL's tlsCAFile names this file.
        mongodb_ca = mongodb.ca_certificate.apply(lambda pem: {CA_FILE: pem})
        for spec in SERVICES:
            files = {MONGODB_CA_VOLUME: (CA_MOUNT_DIR, mongodb_ca)}
            if spec.name == AUTH:
                files[SIGNING_KEYS_VOLUME] = (AUTH_SIGNING_KEY_DIR, signing_files)
            AppService(
                ServiceInputs(
                    spec=spec,
                    namespace=namespace,
                    image=images[spec.name],
                    scaling=settings.services,
                    env={
                        **service_environment(spec, settings, namespace),
                        **more.env.get(spec.name, {}),
                    },
                    secret_env=secret_environment(spec, credentials, mongodb.hosts),
                    peers=peers,
                    secret_files=files,
                    extra_egress=more.egress.get(spec.name, []),
                    ready=more.ready.get(spec.name, []),
                ),
                gateway,
                crds_ready,
                opts=in_ns,
            )
        self.register_outputs({})
