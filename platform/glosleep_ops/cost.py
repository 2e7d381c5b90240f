"""Monthly cost of a stack from the resources the program declares, priced from the table.

Every line names the price-table key it used, so a lead can trace each figure.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from glosleep_ops.prices import PriceTable
from glosleep_ops.resources import OpsError, Resource, dig

EBS_PROVISIONERS = ("ebs.csi.aws.com", "kubernetes.io/aws-ebs")
GIB_UNITS = {"Ki": 1 / (1024 * 1024), "Mi": 1 / 1024, "Gi": 1.0, "Ti": 1024.0}


@dataclass(frozen=True)
class Line:
    component: str
    item: str
    detail: str
    quantity: float
    unit: str
    unit_price: float
    price_key: str

    @property
    def key(self) -> str:
        return f"{self.component} / {self.item}"

    @property
    def monthly(self) -> float:
        return round(self.quantity * self.unit_price, 2)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "monthly": self.monthly}


@dataclass(frozen=True)
class Estimate:
    stack: str
    region: str
    currency: str
    price_date: str
    lines: tuple[Line, ...]
    notes: tuple[str, ...]

    @property
    def total(self) -> float:
        return round(sum(line.monthly for line in self.lines), 2)

    def as_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "region": self.region,
            "currency": self.currency,
            "price_date": self.price_date,
            "total": self.total,
            "lines": [line.as_dict() for line in self.lines],
            "notes": list(self.notes),
        }


def gib(quantity: str) -> float:
    """A Kubernetes storage quantity (``20Gi``, ``500Mi``, ``1Ti``, ``10G``) in GiB."""
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)([KMGT]i?)?", str(quantity).strip())
    if match is None:
        raise OpsError(f"cannot read storage size {quantity!r}")
    number, unit = float(match.group(1)), match.group(2) or ""
    if unit in GIB_UNITS:
        return number * GIB_UNITS[unit]
    decimal = {"K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "": 1.0}[unit]
    return number * decimal / 2**30


def _of(resources: Iterable[Resource], *types: str) -> list[Resource]:
    return [r for r in resources if r.type in types]


def _is_k8s(resource: Resource, kind: str) -> bool:
    return resource.type.startswith("kubernetes:") and resource.inputs.get("kind") == kind


def estimate(stack: str, resources: list[Resource], table: PriceTable) -> Estimate:
    p, a, hours = table.prices, table.assumptions, table.hours_per_month
    lines: list[Line] = []
    notes: list[str] = []

    def add(
        component: str, item: str, detail: str, qty: float, unit: str, price: float, key: str
    ) -> None:
        if qty:
            lines.append(Line(component, item, detail, round(qty, 3), unit, price, key))

    # The program declares EKS through pulumi-eks components; price their inputs.
    clusters = _of(resources, "eks:index:Cluster")
    for cluster in clusters:
        add(
            "EKS control plane",
            cluster.name,
            "standard support",
            hours,
            "hour",
            p.eks_cluster_hour,
            "eks_cluster_hour",
        )

    templates = {r.name: r for r in _of(resources, "aws:ec2/launchTemplate:LaunchTemplate")}
    for group in _of(resources, "eks:index:ManagedNodeGroup"):
        types = dig(group.inputs, "instanceTypes") or []
        desired = int(dig(group.inputs, "scalingConfig", "desiredSize") or 0)
        if not types:
            raise OpsError(f"node group {group.name} declares no instance type")
        itype = str(types[0])
        if itype not in p.ec2_instance_hour:
            raise OpsError(
                f"no price for instance type {itype} in the table ({table.region}); "
                "add it or run `glosleep-ops cost refresh-prices`"
            )
        if len(types) > 1:
            notes.append(f"{group.name}: priced as {itype}, the first of {', '.join(types)}")
        if dig(group.inputs, "capacityType") == "SPOT":
            notes.append(f"{group.name}: SPOT capacity priced on demand (an upper bound)")
        add(
            "Node groups",
            group.name,
            f"{desired} x {itype} (desired size)",
            desired * hours,
            "instance-hour",
            p.ec2_instance_hour[itype],
            f"ec2_instance_hour.{itype}",
        )
        size, vtype = _root_volume(group, templates.get(group.name))
        add(
            "EBS volumes",
            f"{group.name} root volumes",
            f"{desired} x {size:g} GiB {vtype}",
            desired * size,
            "GiB-month",
            _ebs_price(table, vtype),
            f"ebs_gb_month.{vtype}",
        )

    classes = _ebs_storage_classes(resources)
    for item, detail, size, storage_class in _persistent_volumes(resources):
        volume_type = classes.get(storage_class or "(default)")
        if volume_type is None:
            notes.append(
                f"{item}: storage class {storage_class or '(default)'} is not EBS; "
                "not priced (local disk)"
            )
            continue
        # The class's own volume type (gp2, io1, st1 ...), never a node group's.
        add(
            "EBS volumes",
            item,
            f"{detail} {volume_type}",
            size,
            "GiB-month",
            _ebs_price(table, volume_type),
            f"ebs_gb_month.{volume_type}",
        )

    nats = _of(resources, "aws:ec2/natGateway:NatGateway")
    add(
        "NAT gateways",
        "gateways",
        f"{len(nats)} NAT gateway(s)",
        len(nats) * hours,
        "hour",
        p.nat_gateway_hour,
        "nat_gateway_hour",
    )
    if nats:
        add(
            "NAT gateways",
            "data processed",
            f"assumed {a.nat_processed_gb_month:g} GB/month",
            a.nat_processed_gb_month,
            "GB",
            p.nat_gateway_gb,
            "nat_gateway_gb",
        )
    eips = _of(resources, "aws:ec2/eip:Eip")
    add(
        "Public IPv4",
        "Elastic IPs",
        f"{len(eips)} address(es)",
        len(eips) * hours,
        "hour",
        p.public_ipv4_hour,
        "public_ipv4_hour",
    )

    nlbs, albs = _load_balancers(resources)
    add(
        "Load balancers",
        "network LBs",
        f"{nlbs} NLB(s) (the Gateway's Service)",
        nlbs * hours,
        "hour",
        p.nlb_hour,
        "nlb_hour",
    )
    add(
        "Load balancers",
        "NLB capacity units",
        f"assumed {a.load_balancer_lcu:g} NLCU each",
        nlbs * a.load_balancer_lcu * hours,
        "LCU-hour",
        p.nlb_lcu_hour,
        "nlb_lcu_hour",
    )
    add(
        "Load balancers",
        "application LBs",
        f"{albs} ALB(s)",
        albs * hours,
        "hour",
        p.alb_hour,
        "alb_hour",
    )
    add(
        "Load balancers",
        "ALB capacity units",
        f"assumed {a.load_balancer_lcu:g} LCU each",
        albs * a.load_balancer_lcu * hours,
        "LCU-hour",
        p.alb_lcu_hour,
        "alb_lcu_hour",
    )

    _managed_services(resources, table, add, bool(clusters or nlbs or albs))

    if not lines:
        notes.append("no AWS resources: this stack runs on the local machine")
    return Estimate(
        stack, table.region, table.currency, table.price_date, tuple(lines), tuple(notes)
    )


class _Add(Protocol):
    def __call__(
        self, component: str, item: str, detail: str, qty: float, unit: str, price: float, key: str
    ) -> None: ...


def _managed_services(
    resources: list[Resource], table: PriceTable, add: _Add, public: bool
) -> None:
    """ECR, KMS, CloudWatch Logs, S3 and internet egress."""
    p, a = table.prices, table.assumptions
    repositories = _of(resources, "aws:ecr/repository:Repository")
    kept = _images_kept(resources, a.ecr_images_kept_default)
    add(
        "ECR",
        "image storage",
        f"{len(repositories)} repositories x {kept} images x {a.ecr_image_gb:g} GB (assumed)",
        len(repositories) * kept * a.ecr_image_gb,
        "GB-month",
        p.ecr_storage_gb_month,
        "ecr_storage_gb_month",
    )

    keys = _of(resources, "aws:kms/key:Key")
    add(
        "KMS",
        "customer managed keys",
        f"{len(keys)} key(s)",
        len(keys),
        "key-month",
        p.kms_key_month,
        "kms_key_month",
    )

    groups = _of(resources, "aws:cloudwatch/logGroup:LogGroup")
    each = a.log_ingest_gb_month_per_group
    add(
        "CloudWatch Logs",
        "ingestion",
        f"{len(groups)} group(s) x {each:g} GB/month (assumed)",
        len(groups) * each,
        "GB",
        p.cloudwatch_logs_ingest_gb,
        "cloudwatch_logs_ingest_gb",
    )
    add(
        "CloudWatch Logs",
        "storage",
        "steady state under each group's retention",
        sum(each * _retained_months(g) for g in groups),
        "GB-month",
        p.cloudwatch_logs_storage_gb_month,
        "cloudwatch_logs_storage_gb_month",
    )

    buckets = _of(resources, "aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
    add(
        "S3",
        "storage",
        f"{len(buckets)} bucket(s) x {a.s3_exports_gb:g} GB (assumed)",
        len(buckets) * a.s3_exports_gb,
        "GB-month",
        p.s3_standard_gb_month,
        "s3_standard_gb_month",
    )

    if public:
        add(
            "Data transfer",
            "out to the internet",
            f"assumed {a.internet_egress_gb_month:g} GB/month",
            a.internet_egress_gb_month,
            "GB",
            p.data_transfer_out_gb,
            "data_transfer_out_gb",
        )


def _ebs_price(table: PriceTable, vtype: str) -> float:
    if vtype not in table.prices.ebs_gb_month:
        raise OpsError(f"no EBS price for volume type {vtype} in the table ({table.region})")
    return table.prices.ebs_gb_month[vtype]


def _root_volume(group: Resource, template: Resource | None) -> tuple[float, str]:
    if template is not None:
        ebs = dig(template.inputs, "blockDeviceMappings", 0, "ebs") or {}
        if ebs.get("volumeSize"):
            return float(ebs["volumeSize"]), str(ebs.get("volumeType") or "gp3")
    return float(dig(group.inputs, "diskSize") or 20), "gp3"


def _ebs_storage_classes(resources: list[Resource]) -> dict[str, str]:
    """EBS-backed StorageClass name -> volume type; ``(default)`` for the default class."""
    out: dict[str, str] = {}
    for r in resources:
        if not _is_k8s(r, "StorageClass"):
            continue
        if r.inputs.get("provisioner") not in EBS_PROVISIONERS:
            continue
        vtype = str(dig(r.inputs, "parameters", "type") or "gp3")
        out[str(dig(r.inputs, "metadata", "name") or r.name)] = vtype
        annotations = dig(r.inputs, "metadata", "annotations") or {}
        if annotations.get("storageclass.kubernetes.io/is-default-class") == "true":
            out["(default)"] = vtype
    return out


def _persistent_volumes(resources: list[Resource]) -> list[tuple[str, str, float, str | None]]:
    """Volumes the Helm releases ask for: (item, detail, GiB, storage class)."""
    out: list[tuple[str, str, float, str | None]] = []
    for release in _of(resources, "kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart"):
        values = release.inputs.get("values") or {}
        persistence = values.get("persistence") or {}
        if persistence.get("enabled") and persistence.get("size"):
            replicas = int(values.get("replicaCount") or 1)
            size = gib(persistence["size"])
            out.append(
                (
                    f"{release.name} volumes",
                    f"{replicas} x {persistence['size']}",
                    replicas * size,
                    persistence.get("storageClass"),
                )
            )
        claim = dig(
            values, "prometheus", "prometheusSpec", "storageSpec", "volumeClaimTemplate", "spec"
        )
        if isinstance(claim, dict) and dig(claim, "resources", "requests", "storage"):
            size_text = str(dig(claim, "resources", "requests", "storage"))
            replicas = int(dig(values, "prometheus", "prometheusSpec", "replicas") or 1)
            out.append(
                (
                    f"{release.name} prometheus volumes",
                    f"{replicas} x {size_text}",
                    replicas * gib(size_text),
                    claim.get("storageClassName"),
                )
            )
    return out


def _load_balancers(resources: list[Resource]) -> tuple[int, int]:
    """(network, application) load balancers: declared ones plus those Services will get."""
    nlb = alb = 0
    for r in _of(
        resources, "aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer"
    ):
        if r.inputs.get("loadBalancerType") == "network":
            nlb += 1
        else:
            alb += 1
    for r in resources:
        service: Any = None
        if _is_k8s(r, "Service"):
            service = r.inputs.get("spec")
        elif _is_k8s(r, "EnvoyProxy"):
            service = dig(r.inputs, "spec", "provider", "kubernetes", "envoyService")
        if isinstance(service, dict) and service.get("type") == "LoadBalancer":
            # The AWS Load Balancer Controller gives a LoadBalancer Service an NLB.
            nlb += 1
    if any(_is_k8s(r, "Ingress") for r in resources):
        alb += 1
    return nlb, alb


def _images_kept(resources: list[Resource], default: int) -> int:
    counts = []
    for policy in _of(resources, "aws:ecr/lifecyclePolicy:LifecyclePolicy"):
        try:
            rules = json.loads(str(policy.inputs.get("policy") or "{}")).get("rules", [])
        except ValueError:
            continue
        counts += [
            int(rule["selection"]["countNumber"])
            for rule in rules
            if dig(rule, "selection", "countType") == "imageCountMoreThan"
        ]
    return max(counts) if counts else default


def _retained_months(group: Resource) -> float:
    days = group.inputs.get("retentionInDays")
    return 12.0 if not days else min(float(days) / 30.0, 12.0)


@dataclass(frozen=True)
class DiffLine:
    key: str
    before: float
    after: float

    @property
    def delta(self) -> float:
        return round(self.after - self.before, 2)


def diff(before: Estimate, after: Estimate) -> list[DiffLine]:
    """Per line (component / item) and in the order of ``after``, then lines that went away."""
    old = {line.key: line.monthly for line in before.lines}
    new = {line.key: line.monthly for line in after.lines}
    keys = list(new) + [key for key in old if key not in new]
    return [DiffLine(key, old.get(key, 0.0), new.get(key, 0.0)) for key in keys]
