"""One GloSleep service on Kubernetes: every object it needs, and nothing shared."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.meta.v1 import ObjectMetaArgsDict

from glosleep_platform import k8s as kube
from glosleep_platform import network_policies, workload
from glosleep_platform.catalogue import CONTAINER_PORT, ServiceSpec, internal_url
from glosleep_platform.gateway import GatewayRef, RouteRule, http_route
from glosleep_platform.monitoring import RELEASE_LABEL
from glosleep_platform.settings import ServiceScaling


@dataclass(frozen=True)
class ServiceInputs:
    spec: ServiceSpec
    namespace: str
    image: pulumi.Input[str]
    scaling: ServiceScaling
    env: dict[str, pulumi.Input[str]]
    secret_env: dict[str, pulumi.Output[str]]
    peers: network_policies.Peers
    secret_files: dict[str, tuple[str, pulumi.Output[dict[str, str]]]] = field(default_factory=dict)
    extra_egress: list[network_policies.EgressRule] = field(default_factory=list)
    ready: list[pulumi.Resource] = field(default_factory=list)


def route_rules(spec: ServiceSpec) -> list[RouteRule]:
    """Public paths: the versioned API, the OpenAPI document, and auth's JWKS."""
    prefix = spec.route_prefix
    rules = [
        RouteRule(f"{prefix}/v1", "PathPrefix", "/v1"),
        RouteRule(f"{prefix}/openapi.json", "Exact", "/openapi.json"),
    ]
    if spec.name == "auth":
        rules.append(RouteRule(f"{prefix}/.well-known", "PathPrefix", "/.well-known"))
    return rules


class AppService(pulumi.ComponentResource):
    def __init__(
        self,
        inputs: ServiceInputs,
        gateway: GatewayRef,
        crds_ready: list[pulumi.Resource],
        opts: pulumi.ResourceOptions,
    ) -> None:
        spec = inputs.spec
        name = spec.name
        super().__init__("glosleep:platform:Service", name, None, opts)
        ns = inputs.namespace
        child = pulumi.ResourceOptions(parent=self)
        labels = kube.app_labels(name)

        def meta() -> ObjectMetaArgsDict:
            return {"name": name, "namespace": ns, "labels": labels}

        k8s.core.v1.ServiceAccount(
            f"{name}-sa", metadata=meta(), automount_service_account_token=False, opts=child
        )
        # ConfigMap and Secret are auto-named: a change gives a new name, so the
        # Deployment's template changes and the pods roll.
        config_map = k8s.core.v1.ConfigMap(
            f"{name}-env",
            metadata={"namespace": ns, "labels": labels},
            data=inputs.env,
            opts=child,
        )
        secret = k8s.core.v1.Secret(
            f"{name}-secret-env",
            metadata={"namespace": ns, "labels": labels},
            type="Opaque",
            string_data=inputs.secret_env,
            opts=child,
        )
        mounts = []
        for volume, (mount_path, files) in inputs.secret_files.items():
            mounted = k8s.core.v1.Secret(
                f"{name}-{volume}",
                metadata={"namespace": ns, "labels": labels},
                type="Opaque",
                string_data=files,
                opts=child,
            )
            mounts.append(workload.SecretMount(volume, mounted.metadata.name, mount_path))

        template = workload.pod_template(
            name,
            inputs.image,
            config_map.metadata.name,
            secret.metadata.name,
            inputs.scaling,
            mounts,
        )
        deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=meta(),
            spec=workload.deployment_spec(name, inputs.scaling, template),
            # The HPA changes replicas; Pulumi must not fight it.
            opts=pulumi.ResourceOptions(
                parent=self, ignore_changes=["spec.replicas"], depends_on=inputs.ready
            ),
        )
        service = k8s.core.v1.Service(
            f"{name}-service", metadata=meta(), spec=workload.service_spec(name), opts=child
        )
        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb", metadata=meta(), spec=workload.pdb_spec(name), opts=child
        )
        k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{name}-hpa",
            metadata=meta(),
            spec=workload.hpa_spec(name, inputs.scaling),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[deployment]),
        )
        k8s.apiextensions.CustomResource(
            f"{name}-service-monitor",
            api_version="monitoring.coreos.com/v1",
            kind="ServiceMonitor",
            metadata={**meta(), "labels": {**labels, **RELEASE_LABEL}},
            spec=workload.service_monitor_spec(name, ns),
            opts=pulumi.ResourceOptions(parent=self, depends_on=crds_ready),
        )
        self._policies(inputs, child)
        http_route(
            f"{name}-route",
            name=name,
            namespace=ns,
            gateway=gateway,
            backend=name,
            port=CONTAINER_PORT,
            rules=route_rules(spec),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[service]),
        )
        self.internal_url = internal_url(name, ns)
        self.register_outputs({"internal_url": self.internal_url})

    def _policies(self, inputs: ServiceInputs, opts: pulumi.ResourceOptions) -> None:
        name = inputs.spec.name
        policies = {
            "ingress": network_policies.service_ingress(inputs.spec, inputs.peers),
            "egress": network_policies.service_egress(inputs.spec, inputs.extra_egress),
        }
        for kind, policy in policies.items():
            if policy is None:
                continue
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{kind}",
                metadata={
                    "name": f"{name}-{kind}",
                    "namespace": inputs.namespace,
                    "labels": kube.app_labels(name),
                },
                spec=policy,
                opts=opts,
            )
