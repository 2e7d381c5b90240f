"""The `eks` stack: VPC, EKS, ECR, the export bucket, then the same workloads."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_docker_build as docker_build

from glosleep_platform import network_policies
from glosleep_platform.catalogue import ANALYTICS, SERVICE_NAMES
from glosleep_platform.eks_addons import GP3, EksAddons
from glosleep_platform.eks_cluster import EksCluster
from glosleep_platform.export_bucket import EXPORT_PREFIX, ExportBucket
from glosleep_platform.gateway import TLS_OFFLOAD_PORT, GatewayExposure
from glosleep_platform.images import Images, ImageTarget
from glosleep_platform.network import Network
from glosleep_platform.registry import Registry
from glosleep_platform.services import Extras
from glosleep_platform.settings import EksSettings, PlatformSettings
from stacks.common import ROOT, Cluster, deploy_workloads

LB = "service.beta.kubernetes.io/aws-load-balancer-"
# TLS 1.3 and 1.2 with forward-secret ciphers only.
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


def gateway_exposure(settings: PlatformSettings, eks: EksSettings) -> GatewayExposure:
    """An internet-facing NLB (made by the AWS Load Balancer Controller) in front of Envoy:
    TLS terminated with the stack's ACM certificate, the client's address passed to Envoy
    by proxy protocol v2 (the NLB's own address would otherwise be all Envoy sees)."""
    certificate = eks.tls_certificate()
    annotations = {
        f"{LB}type": "external",
        f"{LB}scheme": "internet-facing",
        f"{LB}nlb-target-type": "ip",
        f"{LB}proxy-protocol": "*",
        f"{LB}additional-resource-tags": ",".join(
            f"{key}={value}" for key, value in sorted(settings.tags.items())
        ),
    }
    if certificate is not None:
        annotations[f"{LB}ssl-cert"] = certificate
        annotations[f"{LB}ssl-ports"] = str(TLS_OFFLOAD_PORT)
        annotations[f"{LB}ssl-negotiation-policy"] = TLS_POLICY
    return GatewayExposure(
        service_type="LoadBalancer",
        public_url=f"{'http' if certificate is None else 'https'}://{settings.hostname}",
        tls_offload=certificate is not None,
        proxy_protocol=True,
        proxy_replicas=2,
        annotations=annotations,
    )


def build(settings: PlatformSettings) -> None:
    eks = settings.require_eks()
    eks.tls_certificate()  # stop before any resource when TLS is not configured
    tags = settings.tags
    cluster_name = f"{settings.project}-{settings.stack}"
    network = Network("network", eks, cluster_name, tags)
    cluster = EksCluster(cluster_name, eks, settings.kubernetes_version, network, tags)
    addons = EksAddons(
        "addons",
        cluster.name,
        eks.region,
        network.vpc_id,
        eks.load_balancer_controller_chart_version,
        tags,
        opts=pulumi.ResourceOptions(providers=[cluster.provider], depends_on=cluster.ready),
    )
    registry = Registry("registry", tags)
    auth = aws.ecr.get_authorization_token_output()
    images = Images(
        "images",
        ROOT,
        ImageTarget(
            repositories=dict(registry.urls),
            registry=docker_build.RegistryArgs(
                address=auth.proxy_endpoint.apply(lambda url: url.removeprefix("https://")),
                username=auth.user_name,
                password=pulumi.Output.secret(auth.password),
            ),
            platform=docker_build.Platform(eks.image_platform),
            cache=dict(registry.cache_refs),
        ),
    )
    bucket = ExportBucket(
        "exports", cluster.name, settings.namespace, ANALYTICS, tags, region=eks.region
    )
    deploy_workloads(
        settings,
        Cluster(cluster.provider, cluster.kubeconfig, cluster.ready),
        images.refs,
        gateway_exposure(settings, eks),
        extras=Extras(
            env={
                ANALYTICS: {
                    "EXPORT_BUCKET": bucket.bucket_name,
                    "EXPORT_PREFIX": EXPORT_PREFIX,
                    # Exports ask for SSE-KMS with the bucket's key (its policy refuses others).
                    "EXPORT_KMS_KEY_ID": bucket.key_arn,
                    "AWS_REGION": eks.region,
                }
            },
            egress={
                ANALYTICS: [
                    network_policies.https_to_internet(),
                    network_policies.pod_identity_agent(),
                ]
            },
            ready={ANALYTICS: bucket.writer_ready},
        ),
        storage_ready=[addons.storage_class, addons.load_balancer_controller],
    )
    pulumi.export("clusterName", cluster.name)
    pulumi.export("vpcId", network.vpc_id)
    pulumi.export("exportBucket", bucket.bucket_name)
    pulumi.export("imageDigests", images.digests)
    pulumi.export("storageClass", GP3)
    pulumi.export("repositories", {name: registry.urls[name] for name in SERVICE_NAMES})
