"""The EKS-managed add-on versions for each Kubernetes version the program supports.

Add-ons and node groups follow the cluster's version: changing
``glosleep:kubernetesVersion`` moves the control plane, every node group and every
add-on to that version's row, in one `pulumi up` (control plane first, then add-ons
and nodes, which wait for it). A version without a row stops the program, so nobody
upgrades the cluster and leaves its add-ons behind. Refresh a row with
``aws eks describe-addon-versions --kubernetes-version <v> --addon-name <name>``.
"""

from __future__ import annotations

ADDON_VERSIONS: dict[str, dict[str, str]] = {
    "1.34": {
        "vpc-cni": "v1.21.1-eksbuild.3",
        "kube-proxy": "v1.34.3-eksbuild.2",
        "eks-pod-identity-agent": "v1.3.10-eksbuild.2",
        "coredns": "v1.13.2-eksbuild.1",
        "aws-ebs-csi-driver": "v1.55.0-eksbuild.2",
        "metrics-server": "v0.8.0-eksbuild.2",
    },
}

# Standard support only: a cluster left on an old version is upgraded by AWS at the end
# of standard support rather than billed for extended support.
SUPPORT_TYPE = "STANDARD"
