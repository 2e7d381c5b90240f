"""What every stack runs on its cluster: MongoDB, monitoring, the Gateway, the services."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from glosleep_platform import k8s as kube
from glosleep_platform.catalogue import SERVICES
from glosleep_platform.credentials import Credentials
from glosleep_platform.gateway import Gateway, GatewayExposure, RouteRule, http_route
from glosleep_platform.mongodb import MongoDB
from glosleep_platform.monitoring import GRAFANA_PATH, GRAFANA_SERVICE, Monitoring, grafana_url
from glosleep_platform.network_policies import Peers
from glosleep_platform.services import Extras, Services
from glosleep_platform.settings import PlatformSettings

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Cluster:
    """What a stack's cluster component hands to the workloads."""

    provider: k8s.Provider
    kubeconfig: pulumi.Output[str]
    ready: list[pulumi.Resource]


def deploy_workloads(
    settings: PlatformSettings,
    cluster: Cluster,
    images: dict[str, pulumi.Output[str]],
    exposure: GatewayExposure,
    extras: Extras | None = None,
    storage_ready: list[pulumi.Resource] | None = None,
) -> None:
    on_cluster = pulumi.ResourceOptions(
        providers=[cluster.provider], depends_on=cluster.ready + (storage_ready or [])
    )
    # The services' namespace exists before anything is put in it: the Gateway lives
    # there too, and the Services component is only created once MongoDB is up.
    app_namespace = kube.namespace(
        "app-namespace",
        settings.namespace,
        "restricted",
        pulumi.ResourceOptions(
            providers=[cluster.provider],
            depends_on=cluster.ready,
            # It was the Services component's child "services-namespace" before.
            aliases=[
                pulumi.Alias(
                    name="services-namespace",
                    parent=pulumi.create_urn("services", "glosleep:platform:Services"),
                )
            ],
        ),
        gateway_access=True,
    )
    credentials = Credentials("credentials")
    mongodb = MongoDB("mongodb", settings.mongodb, credentials, settings.namespace, opts=on_cluster)
    monitoring = Monitoring(
        "monitoring",
        settings.monitoring,
        credentials,
        ROOT / "monitoring",
        exposure.public_url,
        opts=on_cluster,
    )
    gateway = Gateway(
        "gateway",
        settings.hostname,
        exposure,
        settings.charts.envoy_gateway,
        settings.namespace,
        app_namespace,
        opts=on_cluster,
    )
    Services(
        "services",
        settings,
        credentials,
        images,
        mongodb.endpoint,
        gateway.ref,
        app_namespace,
        Peers(
            gateway=gateway.namespace, monitoring=monitoring.namespace, mongodb=mongodb.namespace
        ),
        crds_ready=[monitoring.release],
        extras=extras,
        opts=pulumi.ResourceOptions(
            providers=[cluster.provider], depends_on=[*cluster.ready, mongodb.release]
        ),
    )
    grafana = f"kubectl -n {monitoring.namespace} port-forward svc/{GRAFANA_SERVICE} 3000:80"
    if settings.monitoring.expose_grafana:
        http_route(
            "grafana-route",
            name="grafana",
            namespace=monitoring.namespace,
            gateway=gateway.ref,
            backend=GRAFANA_SERVICE,
            port=80,
            rules=[RouteRule(GRAFANA_PATH, "PathPrefix")],
            opts=pulumi.ResourceOptions(
                providers=[cluster.provider], depends_on=[monitoring.release]
            ),
        )
        grafana = grafana_url(gateway.url)
    pulumi.export("gatewayUrl", gateway.url)
    pulumi.export("serviceUrls", {spec.name: gateway.url + spec.route_prefix for spec in SERVICES})
    pulumi.export("grafanaUrl", grafana)
    pulumi.export("kubeconfig", cluster.kubeconfig)
    # The first admin's password, for the operator (and the kind smoke test) to log in.
    pulumi.export("bootstrapAdminPassword", credentials.bootstrap_admin_password)
