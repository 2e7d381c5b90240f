"""What EKS needs on top of the managed add-ons: the AWS Load Balancer Controller
(Pod Identity, least-privilege policy) and a default gp3 StorageClass for MongoDB.
"""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from glosleep_platform import iam
from glosleep_platform import k8s as kube

LB_CONTROLLER_CHART = "aws-load-balancer-controller"
LB_CONTROLLER_REPO = "https://aws.github.io/eks-charts"
LB_CONTROLLER_ACCOUNT = "aws-load-balancer-controller"
LB_CONTROLLER_POLICY = Path(__file__).parent / "policies" / "aws-load-balancer-controller.json"
GP3 = "gp3"


def load_balancer_controller_policy() -> str:
    return json.dumps(json.loads(LB_CONTROLLER_POLICY.read_text()))


class EksAddons(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        cluster_name: pulumi.Output[str],
        region: str,
        vpc_id: pulumi.Output[str],
        chart_version: str,
        tags: dict[str, str],
        opts: pulumi.ResourceOptions,
    ) -> None:
        super().__init__("glosleep:platform:EksAddons", name, None, opts)
        controller_identity = iam.pod_identity_role(
            f"{name}-lb-controller",
            cluster_name,
            "kube-system",
            LB_CONTROLLER_ACCOUNT,
            tags,
            self,
            inline_policy=load_balancer_controller_policy(),
        )
        self.load_balancer_controller = kube.release(
            f"{name}-lb-controller",
            chart=LB_CONTROLLER_CHART,
            version=chart_version,
            repository=LB_CONTROLLER_REPO,
            namespace="kube-system",
            values={
                "clusterName": cluster_name,
                "region": region,
                "vpcId": vpc_id,
                "replicaCount": 2,
                "serviceAccount": {"create": True, "name": LB_CONTROLLER_ACCOUNT},
                # Only Services that ask for it (the Gateway's) get an AWS load balancer.
                "enableServiceMutatorWebhook": False,
                "enableShield": False,
                "enableWaf": False,
                "enableWafv2": False,
                "defaultTags": tags,
            },
            # Its pods need AWS credentials from the start: wait for the association.
            opts=pulumi.ResourceOptions(parent=self, depends_on=controller_identity.ready),
        )
        self.storage_class = k8s.storage.v1.StorageClass(
            f"{name}-gp3",
            metadata={
                "name": GP3,
                "labels": kube.app_labels(GP3, "storage"),
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            },
            provisioner="ebs.csi.aws.com",
            parameters={
                "type": "gp3",
                "encrypted": "true",
                "csi.storage.k8s.io/fstype": "ext4",
                **{
                    f"tagSpecification_{index}": f"{key}={value}"
                    for index, (key, value) in enumerate(sorted(tags.items()), start=1)
                },
            },
            reclaim_policy="Retain",
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})
