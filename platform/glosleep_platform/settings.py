"""Stack configuration, read once into typed, validated settings.

Every value the components use comes from here. A missing or bad value stops the
program before any resource is declared, with one line per problem naming the
Pulumi config key (``glosleep:<key>``) at fault.
"""

from __future__ import annotations

import ipaddress
import json
import platform
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import pulumi
import pulumi.runtime.config as _pulumi_config
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

CONFIG_NAMESPACE = "glosleep"
PROJECT = "glosleep"
REPO_ROOT = Path(__file__).resolve().parents[2]

Quantity = Annotated[str, Field(pattern=r"^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti)?$")]
DnsLabel = Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)]
RoleArn = Annotated[str, Field(pattern=r"^arn:aws:iam::[0-9]{12}:role/[\w+=,.@/-]+$")]
Hostname = Annotated[
    str, Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
]


class ConfigError(Exception):
    """The stack's config is missing or holds bad values; the message names each key."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def host_architecture() -> str:
    """This machine's CPU architecture, as the node groups name it: Kind's nodes are
    containers on it."""
    machine = platform.machine().lower()
    return "arm64" if machine in ("arm64", "aarch64") else "x86_64"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


class _CamelModel(_Model):
    """Config objects are written in camelCase in Pulumi.<stack>.yaml."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, alias_generator=_camel
    )


class ServiceScaling(_CamelModel):
    min_replicas: int = Field(ge=1, le=20)
    max_replicas: int = Field(ge=1, le=50)
    cpu_utilization_percent: int = Field(default=70, ge=10, le=95)
    # SIGTERM handling (docs/architecture.md): readiness turns false for the
    # drain period, then in-flight requests get up to the timeout to finish.
    shutdown_drain_seconds: int = Field(default=10, ge=0, le=60)
    shutdown_timeout_seconds: int = Field(default=20, ge=1, le=300)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @model_validator(mode="after")
    def _bounds(self) -> ServiceScaling:
        if self.max_replicas < self.min_replicas:
            raise ValueError("maxReplicas must be >= minReplicas")
        return self


class MongoSettings(_CamelModel):
    replica_count: int = Field(ge=1, le=7)
    storage_size: Quantity
    storage_class: DnsLabel
    chart_version: str = "16.5.45"
    # Bitnami's free images were frozen into bitnamilegacy/* in August 2025
    # (docs/adr/0012-mongodb-chart-and-images.md); these tags exist there.
    image_registry: str = "docker.io"
    image_repository: str = "bitnamilegacy/mongodb"
    image_tag: str = "8.0.13-debian-12-r0"
    os_shell_repository: str = "bitnamilegacy/os-shell"
    os_shell_tag: str = "12-debian-12-r51"
    # The chart's TLS init container (it signs each member's certificate); the tag the
    # chart pins, from before the freeze (ADR 0012).
    tls_image_repository: str = "bitnamilegacy/nginx"
    tls_image_tag: str = "1.29.1-debian-12-r0"

    def amd64_only_images(self) -> list[str]:
        """The images this release runs that are published for amd64 only (ADR 0012)."""
        return [
            repository
            for repository in (
                self.image_repository,
                self.os_shell_repository,
                self.tls_image_repository,
            )
            if repository.startswith("bitnamilegacy/")
        ]

    def architecture_problem(self, architecture: str, where: str) -> str | None:
        """Why MongoDB cannot run on ``architecture`` nodes, or None."""
        frozen = self.amd64_only_images()
        if architecture == "x86_64" or not frozen:
            return None
        return (
            f"{where} is {architecture}, but the MongoDB images ({', '.join(frozen)}) are "
            "published for amd64 only (ADR 0012): set mongodb.imageRepository, "
            "mongodb.osShellRepository and mongodb.tlsImageRepository (with their tags) to "
            "multi-arch images the chart accepts, or run on x86_64"
        )

    @model_validator(mode="after")
    def _odd_members(self) -> MongoSettings:
        if self.replica_count % 2 == 0:
            raise ValueError("replicaCount must be odd so the replica set can elect a primary")
        return self


class MonitoringSettings(_CamelModel):
    chart_version: str = "79.12.0"
    prometheus_retention: str = Field(default="7d", pattern=r"^[0-9]+[hdw]$")
    prometheus_storage_size: Quantity | None = None
    expose_grafana: bool = True


class KindSettings(_CamelModel):
    cluster_name: DnsLabel = "glosleep"
    node_image: str = Field(
        pattern=r"^kindest/node:v[0-9]+\.[0-9]+\.[0-9]+(@sha256:[0-9a-f]{64})?$"
    )
    config_path: str = "platform/kind/cluster.yaml"
    registry_port: int = Field(default=5001, ge=1024, le=65535)
    # The host port kind maps to the Gateway's NodePort (platform/kind/cluster.yaml).
    gateway_host_port: int = Field(default=8080, ge=1024, le=65535)
    gateway_node_port: int = Field(default=30080, ge=30000, le=32767)
    metrics_server_chart_version: str = "3.13.0"


KIND_POD_SUBNET = "10.244.0.0/16"


class NodeGroupSettings(_CamelModel):
    name: DnsLabel
    instance_types: list[str] = Field(min_length=1)
    min_size: int = Field(ge=1)
    desired_size: int = Field(ge=1)
    max_size: int = Field(ge=1)
    disk_size_gib: int = Field(default=50, ge=20, le=1000)
    capacity_type: Literal["ON_DEMAND", "SPOT"] = "ON_DEMAND"

    @model_validator(mode="after")
    def _sizes(self) -> NodeGroupSettings:
        if not self.min_size <= self.desired_size <= self.max_size:
            raise ValueError("need minSize <= desiredSize <= maxSize")
        return self


# CPU architecture -> (EKS node AMI type, image build platform).
ARCHITECTURES: dict[str, tuple[str, str]] = {
    "x86_64": ("AL2023_x86_64_STANDARD", "linux/amd64"),
    "arm64": ("AL2023_ARM_64_STANDARD", "linux/arm64"),
}
# EC2 families on AWS Graviton (arm64): a "g" among the letters after the generation
# (m7g, c7gn, r8g, t4g, x2gd, im4gn, is4gen), and the first-generation a1.
_GRAVITON = re.compile(r"^(a1|[a-z]+[0-9]+[a-z]*g[a-z]*)(-[a-z]+)?\.")


def instance_architecture(instance_type: str) -> str:
    return "arm64" if _GRAVITON.match(instance_type) else "x86_64"


class EksSettings(_CamelModel):
    region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]$")
    # The nodes' CPU architecture: the node groups' AMI type and the platform the service
    # images are built for (apps/Dockerfile builds for both). Every instance type of every
    # node group must be of this architecture.
    node_architecture: Literal["x86_64", "arm64"] = "x86_64"
    availability_zones: list[str] = Field(min_length=3, max_length=3)
    vpc_cidr: str = "10.0.0.0/16"
    nat_gateways: Literal["single", "per-az"] = "single"
    endpoint_public_access: bool = False
    public_access_cidrs: list[str] = Field(default_factory=list)
    # Who may reach the Kubernetes API (EKS access entries; the creator only, otherwise).
    # The role `pulumi up` runs as creates the cluster and so holds its admin entry.
    deploy_role_arn: RoleArn
    # The preview and drift roles: read-only access (they must read the live objects).
    read_only_role_arns: list[RoleArn] = Field(min_length=1)
    admin_role_arns: list[RoleArn] = Field(default_factory=list)
    node_groups: list[NodeGroupSettings] = Field(min_length=1)
    load_balancer_controller_chart_version: str = "1.14.0"
    log_retention_days: int = Field(default=30, ge=1)
    # The ACM certificate for the hostname; the load balancer terminates TLS with it.
    # Required: without it the program stops, unless allowPlainHttp says otherwise.
    certificate_arn: str | None = Field(
        default=None, pattern=r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]+$"
    )
    # For throw-away stacks only: serve the API over plain HTTP (the policy pack warns).
    allow_plain_http: bool = False

    def tls_certificate(self) -> str | None:
        """The certificate the load balancer serves; None only where plain HTTP is allowed."""
        if self.certificate_arn is None and not self.allow_plain_http:
            raise ConfigError(
                f"{CONFIG_NAMESPACE}:eks.certificateArn: required but not set. The eks "
                "stack serves the API over TLS only: request an ACM certificate for the "
                "hostname and set `pulumi config set --path "
                f"{CONFIG_NAMESPACE}:eks.certificateArn arn:aws:acm:<region>:<account>:"
                "certificate/<id>`; for a throw-away stack, `pulumi config set --path "
                f"{CONFIG_NAMESPACE}:eks.allowPlainHttp true` serves plain HTTP instead"
            )
        return self.certificate_arn

    @property
    def node_ami_type(self) -> str:
        return ARCHITECTURES[self.node_architecture][0]

    @property
    def image_platform(self) -> str:
        return ARCHITECTURES[self.node_architecture][1]

    @model_validator(mode="after")
    def _architecture(self) -> EksSettings:
        for group in self.node_groups:
            other = [
                instance_type
                for instance_type in group.instance_types
                if instance_architecture(instance_type) != self.node_architecture
            ]
            if other:
                raise ValueError(
                    f"nodeGroups {group.name!r}: {', '.join(other)} is not "
                    f"{self.node_architecture} (nodeArchitecture); pick instance types of "
                    "that architecture or change nodeArchitecture"
                )
        return self

    @model_validator(mode="after")
    def _network(self) -> EksSettings:
        if self.certificate_arn is not None and self.allow_plain_http:
            raise ValueError("allowPlainHttp contradicts certificateArn; remove one of them")
        network = ipaddress.ip_network(self.vpc_cidr)
        if network.prefixlen > 16:
            raise ValueError("vpcCidr must be a /16 or larger (three /20 private subnets)")
        if any(not zone.startswith(self.region) for zone in self.availability_zones):
            raise ValueError("every availability zone must be in the region")
        if self.endpoint_public_access:
            if not self.public_access_cidrs:
                raise ValueError(
                    "a public API endpoint needs publicAccessCidrs: the networks `pulumi up` "
                    "and kubectl run from (the deploy runner's egress addresses), or set "
                    "endpointPublicAccess: false and deploy from a runner inside the VPC "
                    "(docs/deploy.md, 'Reaching the cluster')"
                )
            for cidr in self.public_access_cidrs:
                problem = _public_cidr_problem(cidr)
                if problem:
                    raise ValueError(f"publicAccessCidrs: {cidr} {problem}")
        elif self.public_access_cidrs:
            raise ValueError("publicAccessCidrs is set but endpointPublicAccess is false")
        granted = set(self.read_only_role_arns) | set(self.admin_role_arns)
        if self.deploy_role_arn in granted:
            raise ValueError(
                "deployRoleArn creates the cluster and already holds its admin access entry; "
                "list it in neither readOnlyRoleArns nor adminRoleArns"
            )
        return self


DOCUMENTATION_NETWORKS = tuple(
    ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
)


def _public_cidr_problem(cidr: str) -> str | None:
    try:
        network = ipaddress.ip_network(cidr)
    except ValueError:
        return "is not a network address"
    if network.prefixlen == 0:
        return "opens the API to the whole internet"
    if any(network.overlaps(doc) for doc in DOCUMENTATION_NETWORKS):
        return "is a documentation range: nobody deploys from it"
    if network.is_private:
        return "is a private range: the public endpoint never sees it"
    return None


class ChartVersions(_CamelModel):
    envoy_gateway: str = "v1.7.4"


class PlatformSettings(_Model):
    """Everything one stack needs, validated."""

    project: str
    stack: Literal["kind", "eks"]
    owner: str = Field(min_length=1, max_length=128)
    cost_center: str = Field(min_length=1, max_length=128)
    kubernetes_version: str = Field(pattern=r"^1\.[0-9]{2}$")
    hostname: Hostname
    namespace: DnsLabel = "glosleep"
    bootstrap_admin_email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    services: ServiceScaling
    mongodb: MongoSettings
    monitoring: MonitoringSettings = Field(default_factory=MonitoringSettings)
    charts: ChartVersions = Field(default_factory=ChartVersions)
    kind: KindSettings | None = None
    eks: EksSettings | None = None

    @model_validator(mode="after")
    def _known_addon_versions(self) -> PlatformSettings:
        from glosleep_platform.eks_versions import ADDON_VERSIONS

        if self.eks is not None and self.kubernetes_version not in ADDON_VERSIONS:
            raise ValueError(
                f"kubernetesVersion {self.kubernetes_version} has no EKS add-on versions in "
                f"platform/glosleep_platform/eks_versions.py (known: {sorted(ADDON_VERSIONS)}); "
                "add its row before upgrading"
            )
        return self

    @model_validator(mode="after")
    def _one_cluster(self) -> PlatformSettings:
        wanted = {"kind": self.kind, "eks": self.eks}
        if wanted[self.stack] is None:
            raise ValueError(f"stack {self.stack!r} needs the {self.stack!r} config object")
        other = "eks" if self.stack == "kind" else "kind"
        if wanted[other] is not None:
            raise ValueError(f"stack {self.stack!r} must not set the {other!r} config object")
        if self.eks is not None:
            problem = self.mongodb.architecture_problem(
                self.eks.node_architecture, "eks.nodeArchitecture"
            )
            if problem:
                raise ValueError(problem)
        if self.kind is not None:
            # On kind the node image decides the Kubernetes version; the two must agree.
            minor = self.kind.node_image.split(":v", 1)[1].rsplit(".", 1)[0].split("@")[0]
            if minor != self.kubernetes_version:
                raise ValueError(
                    f"kind.nodeImage {self.kind.node_image} runs Kubernetes {minor}, but "
                    f"kubernetesVersion is {self.kubernetes_version}: set both to the same version"
                )
        return self

    @property
    def tags(self) -> dict[str, str]:
        """Tags on every AWS resource; cost and drift reports group by them."""
        return {
            "project": self.project,
            "stack": self.stack,
            "owner": self.owner,
            "cost-center": self.cost_center,
            "managed-by": "pulumi",
        }

    @property
    def pod_network(self) -> str:
        """Where pod addresses come from: kind's default pod subnet (cluster.yaml keeps
        it), or on EKS the VPC itself (the VPC CNI gives pods VPC addresses)."""
        if self.eks is not None:
            return self.eks.vpc_cidr
        return KIND_POD_SUBNET

    def require_kind(self) -> KindSettings:
        if self.kind is None:
            raise ConfigError("this stack has no kind settings")
        return self.kind

    def require_eks(self) -> EksSettings:
        if self.eks is None:
            raise ConfigError("this stack has no eks settings")
        return self.eks


_KEYS: dict[str, str] = {
    "owner": "owner",
    "costCenter": "cost_center",
    "kubernetesVersion": "kubernetes_version",
    "hostname": "hostname",
    "namespace": "namespace",
    "bootstrapAdminEmail": "bootstrap_admin_email",
    "services": "services",
    "mongodb": "mongodb",
    "monitoring": "monitoring",
    "charts": "charts",
    "kind": "kind",
    "eks": "eks",
}


def settings_from_values(
    project: str, stack: str, values: Mapping[str, Any], aws_region: str | None = None
) -> PlatformSettings:
    """Validate raw config values (keys as written in Pulumi.<stack>.yaml, no namespace)."""
    unknown = sorted(set(values) - set(_KEYS))
    problems = [f"{CONFIG_NAMESPACE}:{key}: not a known setting" for key in unknown]
    data: dict[str, Any] = {"project": project, "stack": stack}
    data.update({_KEYS[key]: value for key, value in values.items() if key in _KEYS})
    if isinstance(data.get("eks"), dict) and aws_region is not None:
        data["eks"] = {**data["eks"], "region": aws_region}
    try:
        settings = PlatformSettings.model_validate(data)
    except ValidationError as error:
        problems.extend(_describe(error))
        settings = None
    if problems or settings is None:
        raise ConfigError("bad stack configuration:\n  " + "\n  ".join(problems))
    return settings


REQUIRED_HINTS = {
    "eks.deployRoleArn": "the IAM role `pulumi up` runs as, the deploy workflow's "
    "AWS_DEPLOY_ROLE_ARN; docs/deploy.md, 'Before the first up'",
    "eks.readOnlyRoleArns": "the preview and drift roles, AWS_PREVIEW_ROLE_ARN and "
    "AWS_DRIFT_ROLE_ARN",
}


def _describe(error: ValidationError) -> list[str]:
    lines = []
    for item in error.errors():
        location = [str(part) for part in item["loc"]]
        key = ".".join([_alias(location[0]), *location[1:]]) if location else "(settings)"
        if item["type"] == "missing":
            hint = REQUIRED_HINTS.get(key)
            lines.append(
                f"{CONFIG_NAMESPACE}:{key}: required but not set" + (f" ({hint})" if hint else "")
            )
        else:
            lines.append(f"{CONFIG_NAMESPACE}:{key}: {item['msg']}")
    return lines


def _alias(field: str) -> str:
    reverse = {value: key for key, value in _KEYS.items()}
    return reverse.get(field, field)


def load_settings(
    config: pulumi.Config | None = None,
    reader: Callable[[str], Any] | None = None,
) -> PlatformSettings:
    """Read ``glosleep:*`` (and ``aws:region`` for eks) from the running stack's config."""
    cfg = config or pulumi.Config(CONFIG_NAMESPACE)
    read = reader or cfg.get
    values: dict[str, Any] = {}
    for key in _KEYS:
        raw = read(key)
        if raw is None:
            continue
        values[key] = _parse(raw)
    values.update(_unknown_keys())
    region = pulumi.Config("aws").get("region")
    return settings_from_values(pulumi.get_project(), pulumi.get_stack(), values, region)


def _parse(raw: str) -> Any:
    """Structured config (objects, lists) arrives as JSON text; scalars stay strings."""
    if raw.lstrip().startswith(("{", "[")):
        return json.loads(raw)
    return raw


def _unknown_keys() -> dict[str, Any]:
    """Keys under the namespace that no setting reads, so a typo is an error, not a no-op."""
    found: dict[str, Any] = {}
    prefix = f"{CONFIG_NAMESPACE}:"
    # The engine hands config to the language host via set_all_config (the CONFIG
    # context variable) or, in older hosts, the PULUMI_CONFIG environment bag.
    everything = {**pulumi.runtime.get_config_env(), **_pulumi_config.CONFIG.get()}
    for full_key, raw in everything.items():
        if not full_key.startswith(prefix):
            continue
        key = full_key[len(prefix) :]
        if key.startswith("config:"):
            key = key[len("config:") :]
        if key not in _KEYS:
            found[key] = raw
    return found


# What the offline runs (tests, manifests, cost, drift, preview) put where a stack file
# leaves an account-specific setting to the operator; `pulumi up` never reads it.
OFFLINE_STANDINS = REPO_ROOT / "stacks" / "offline-standins.yaml"


def _merged(base: Any, fill: Any) -> Any:
    """``base`` with what it lacks taken from ``fill`` (objects merged key by key)."""
    if isinstance(base, dict) and isinstance(fill, dict):
        return {**fill, **{key: _merged(value, fill.get(key)) for key, value in base.items()}}
    return base


def stack_config(stack: str, root: Path = REPO_ROOT, standins: bool = True) -> dict[str, str]:
    """``Pulumi.<stack>.yaml`` as the engine hands it over: structured values as JSON;
    with ``standins``, missing account-specific settings filled from OFFLINE_STANDINS."""
    path = root / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(path.read_text()) or {}
    config: Mapping[str, Any] = document.get("config") or {}
    standin_file = root / OFFLINE_STANDINS.relative_to(REPO_ROOT)
    if standins and standin_file.is_file():
        fills = (yaml.safe_load(standin_file.read_text()) or {}).get(stack) or {}
        config = _merged(dict(config), fills)
    out: dict[str, str] = {}
    for key, value in config.items():
        if isinstance(value, dict) and "secure" in value:
            raise ConfigError(f"{path}: {key} is encrypted; offline runs cannot read it")
        out[key] = value if isinstance(value, str) else json.dumps(value)
    return out


def with_setting(config: Mapping[str, str], key: str, value: Any) -> dict[str, str]:
    """``config`` (as :func:`stack_config` gives it) with one setting replaced; ``key``
    is a full key, optionally with a dotted path into a structured value
    (``glosleep:eks.nodeGroups.0.maxSize``); a missing last key is added."""
    out = dict(config)
    top, _, rest = key.partition(".")
    if not rest:
        out[top] = value if isinstance(value, str) else json.dumps(value)
        return out
    document = json.loads(out.get(top, "{}"))
    node: Any = document
    parts = rest.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    if isinstance(node, list):
        node[int(parts[-1])] = value
    else:
        node[parts[-1]] = value
    out[top] = json.dumps(document)
    return out


def load_settings_file(stack: str, root: Path = REPO_ROOT) -> PlatformSettings:
    """The settings a stack's config file gives, without running Pulumi."""
    config = stack_config(stack, root)
    prefix = f"{CONFIG_NAMESPACE}:"
    values = {
        key[len(prefix) :]: _parse(raw) for key, raw in config.items() if key.startswith(prefix)
    }
    return settings_from_values(PROJECT, stack, values, config.get("aws:region"))
