"""The `kind` stack: a local Kind cluster with a local registry."""

from __future__ import annotations

import pulumi

from glosleep_platform import k8s as kube
from glosleep_platform.catalogue import SERVICE_NAMES
from glosleep_platform.gateway import GatewayExposure
from glosleep_platform.images import Images, ImageTarget
from glosleep_platform.kind_cluster import KindCluster
from glosleep_platform.settings import ConfigError, PlatformSettings, host_architecture
from stacks.common import ROOT, Cluster, deploy_workloads

METRICS_SERVER_REPO = "https://kubernetes-sigs.github.io/metrics-server/"


def build(settings: PlatformSettings) -> None:
    kind = settings.require_kind()
    # Kind's nodes run on this machine's architecture: fail now, not in a crash-looping pod.
    problem = settings.mongodb.architecture_problem(host_architecture(), "this machine")
    if problem:
        raise ConfigError(f"the kind stack cannot run here: {problem}")
    cluster = KindCluster("kind", kind, ROOT)
    images = Images(
        "images",
        ROOT,
        ImageTarget(
            repositories={name: f"{cluster.registry}/glosleep/{name}" for name in SERVICE_NAMES}
        ),
        opts=pulumi.ResourceOptions(depends_on=cluster.ready),
    )
    # Kind has no metrics API; the HPAs need one. Kind's kubelets serve
    # self-signed certificates, hence --kubelet-insecure-tls (local only).
    metrics_server = kube.release(
        "metrics-server",
        chart="metrics-server",
        version=kind.metrics_server_chart_version,
        repository=METRICS_SERVER_REPO,
        namespace="kube-system",
        values={"args": ["--kubelet-insecure-tls"]},
        opts=pulumi.ResourceOptions(provider=cluster.provider, depends_on=cluster.ready),
    )
    deploy_workloads(
        settings,
        Cluster(cluster.provider, cluster.kubeconfig, [*cluster.ready, metrics_server]),
        images.refs,
        GatewayExposure(
            service_type="NodePort",
            node_port=kind.gateway_node_port,
            public_url=f"http://{settings.hostname}:{kind.gateway_host_port}",
        ),
    )
    pulumi.export("imageDigests", images.digests)
