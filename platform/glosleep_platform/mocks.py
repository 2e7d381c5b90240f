"""Pulumi mocks that stand in for the engine and every provider the program uses.

They answer with the inputs plus the few computed outputs the program reads
(ARNs, URLs, digests, generated secrets), and they honour
``additional_secret_outputs`` the way the engine does, so secretness seen offline
is the secretness a real deployment would have. Generated secret values all
start with :data:`SECRET_MARKER`, so a test can search for any leak.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
from google.protobuf import struct_pb2  # type: ignore[import-untyped]  # no stubs installed
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs

SECRET_MARKER = "MockSecret"  # noqa: S105 - a marker, not a credential
ACCOUNT = "123456789012"
REGION = "ap-south-1"


def _hash(text: str, length: int = 16) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def mock_secret(name: str) -> str:
    return f"{SECRET_MARKER}{_hash(name, 24)}"


def _arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"


def _random_password(args: MockResourceArgs) -> dict[str, Any]:
    return {"result": mock_secret(args.name), "bcryptHash": mock_secret(args.name + "bcrypt")}


def _pem(label: str, body: str) -> str:
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n"


def _tls_key(args: MockResourceArgs) -> dict[str, Any]:
    pem = _pem
    secret = mock_secret(args.name)
    return {
        "privateKeyPem": pem("EC PRIVATE KEY", secret),
        "privateKeyPemPkcs8": pem("PRIVATE KEY", secret),
        "publicKeyPem": pem("PUBLIC KEY", _hash(args.name)),
    }


def _tls_certificate(args: MockResourceArgs) -> dict[str, Any]:
    return {"certPem": _pem("CERTIFICATE", _hash(args.name, 32))}


def _command(args: MockResourceArgs) -> dict[str, Any]:
    # Command output can hold credentials (a kubeconfig with client keys).
    return {"stdout": mock_secret(args.name), "stderr": ""}


def _image(args: MockResourceArgs) -> dict[str, Any]:
    digest = "sha256:" + hashlib.sha256(args.name.encode()).hexdigest()
    tags = args.inputs.get("tags") or [f"mock/{args.name}:latest"]
    return {"digest": digest, "ref": f"{tags[0]}@{digest}"}


def _ecr_repository(args: MockResourceArgs) -> dict[str, Any]:
    name = args.inputs.get("name", args.name)
    return {
        "arn": _arn("ecr", f"repository/{name}"),
        "registryId": ACCOUNT,
        "repositoryUrl": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{name}",
    }


def _eks_endpoint(name: str) -> str:
    return f"https://{_hash(name, 32).upper()}.gr7.{REGION}.eks.amazonaws.com"


def _eks_kubeconfig(name: str) -> dict[str, Any]:
    """The shape of pulumi-eks's kubeconfig: tokens from the AWS CLI, no credential in it."""
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "aws",
            "args": ["eks", "get-token", "--cluster-name", name, "--output", "json"],
            "env": [
                {
                    "name": "KUBERNETES_EXEC_INFO",
                    "value": '{"apiVersion": "client.authentication.k8s.io/v1beta1"}',
                }
            ],
        }
    }
    ca_data = base64.b64encode(b"mock-ca").decode()
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "kubernetes",
                "cluster": {"server": _eks_endpoint(name), "certificate-authority-data": ca_data},
            }
        ],
        "contexts": [{"name": "aws", "context": {"cluster": "kubernetes", "user": "aws"}}],
        "current-context": "aws",
        "users": [{"name": "aws", "user": user}],
    }


def _eks_component(args: MockResourceArgs) -> dict[str, Any]:
    """pulumi-eks's Cluster component: only the outputs the program reads."""
    config = _eks_kubeconfig(args.inputs.get("name", args.name))
    return {"kubeconfig": config, "kubeconfigJson": json.dumps(config)}


def _bucket(args: MockResourceArgs) -> dict[str, Any]:
    bucket = args.inputs.get("bucket") or f"{args.name}-{_hash(args.name, 7)}"
    return {"bucket": bucket, "arn": f"arn:aws:s3:::{bucket}"}


def _role(args: MockResourceArgs) -> dict[str, Any]:
    name = args.inputs.get("name") or f"{args.name}-{_hash(args.name, 7)}"
    return {"name": name, "arn": f"arn:aws:iam::{ACCOUNT}:role/{name}"}


COMPUTED: dict[str, Callable[[MockResourceArgs], dict[str, Any]]] = {
    "random:index/randomPassword:RandomPassword": _random_password,
    "tls:index/privateKey:PrivateKey": _tls_key,
    "tls:index/selfSignedCert:SelfSignedCert": _tls_certificate,
    "command:local:Command": _command,
    "docker-build:index:Image": _image,
    "aws:ecr/repository:Repository": _ecr_repository,
    "eks:index:Cluster": _eks_component,
    "aws:s3/bucket:Bucket": _bucket,
    "aws:iam/role:Role": _role,
    "aws:ec2/launchTemplate:LaunchTemplate": lambda _: {"latestVersion": 1},
}


def _ecr_token(_: MockCallArgs) -> dict[str, Any]:
    return {
        "id": REGION,
        "registryId": ACCOUNT,
        "userName": "AWS",
        "password": mock_secret("ecr-password"),
        "authorizationToken": mock_secret("ecr-token"),
        "proxyEndpoint": f"https://{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com",
        "expiresAt": "2030-01-01T00:00:00Z",
    }


CALLS: dict[str, Callable[[MockCallArgs], dict[str, Any]]] = {
    "aws:ecr/getAuthorizationToken:getAuthorizationToken": _ecr_token,
}


def _default_outputs(args: MockResourceArgs) -> dict[str, Any]:
    token = args.typ
    if token.startswith("aws:"):
        service = token.split(":")[1].split("/")[0]
        return {"arn": _arn(service, f"{args.name}")}
    if token.startswith("kubernetes:") and isinstance(args.inputs.get("metadata"), dict):
        metadata = dict(args.inputs["metadata"])
        # The Kubernetes provider auto-names objects without a name: name-<suffix>.
        metadata.setdefault("name", f"{args.name}-{_hash(args.name, 8)}")
        return {"metadata": metadata}
    return {}


@dataclass(frozen=True)
class RequestFacts:
    """What a RegisterResource request tells the engine beyond the inputs: its place
    in the wait graph (parent, provider, dependencies) and its lifecycle options."""

    urn: str = ""
    parent: str = ""
    # The provider reference as sent: "<provider urn>::<provider id>", or "" (default provider).
    provider_ref: str = ""
    remote: bool = False
    dependencies: tuple[str, ...] = ()
    property_dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    protect: bool = False
    retain_on_delete: bool = False
    delete_before_replace: bool = False
    replace_on_changes: tuple[str, ...] = ()
    ignore_changes: tuple[str, ...] = ()
    # URNs the resource had before (its aliases), in the same form as ``urn``.
    aliases: tuple[str, ...] = ()


def _alias_urns(
    request: Any, urn: str, make_urn: Callable[[str, str, str], str]
) -> tuple[str, ...]:
    out = [str(alias) for alias in request.aliasURNs]
    for alias in request.aliases:
        if alias.WhichOneof("alias") == "urn":
            out.append(str(alias.urn))
            continue
        spec = alias.spec
        parent = "" if spec.noParent else (spec.parentUrn or str(request.parent))
        out.append(make_urn(parent, spec.type or request.type, spec.name or request.name))
    return tuple(alias for alias in out if alias != urn)


def request_facts(request: Any, urn: str, make_urn: Callable[[str, str, str], str]) -> RequestFacts:
    return RequestFacts(
        urn=urn,
        parent=str(request.parent),
        provider_ref=str(request.provider),
        remote=bool(request.remote),
        dependencies=tuple(sorted(request.dependencies)),
        property_dependencies={
            key: tuple(sorted(value.urns)) for key, value in request.propertyDependencies.items()
        },
        protect=bool(request.protect),
        retain_on_delete=bool(request.retainOnDelete),
        delete_before_replace=bool(request.deleteBeforeReplace),
        replace_on_changes=tuple(request.replaceOnChanges),
        ignore_changes=tuple(request.ignoreChanges),
        aliases=_alias_urns(request, urn, make_urn),
    )


@dataclass
class Registration:
    """One RegisterResource call as the mock monitor saw it."""

    type: str
    name: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    provider: str | None
    custom: bool
    parent: str
    request: RequestFacts = field(default_factory=RequestFacts)


@dataclass
class RecordingMocks(pulumi.runtime.Mocks):
    registrations: list[Registration] = field(default_factory=list)
    invokes: list[str] = field(default_factory=list)
    # Set by RecordingMonitor just before each new_resource call on the same thread:
    # the SDK sends RegisterResource from a thread pool, so this is per thread.
    pending: threading.local = field(default_factory=threading.local)

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        outputs = dict(args.inputs)
        outputs.update(_default_outputs(args))
        computed = COMPUTED.get(args.typ)
        if computed is not None:
            outputs.update(computed(args))
        request: RequestFacts = self.pending.request
        for key in self.pending.secret_outputs:
            if key in outputs:
                outputs[key] = rpc.wrap_rpc_secret(outputs[key])
        self.registrations.append(
            Registration(
                type=args.typ,
                name=args.name,
                inputs=args.inputs,
                outputs=outputs,
                provider=args.provider,
                custom=bool(args.custom),
                parent=request.parent,
                request=request,
            )
        )
        return f"{args.name}-id", outputs

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        self.invokes.append(args.token)
        answer = CALLS.get(args.token)
        if answer is None:
            raise NotImplementedError(f"no mock for invoke {args.token}; add one to CALLS")
        return answer(args), []


class RecordingMonitor(MockMonitor):
    """The SDK's mock monitor, plus the engine's handling of additional secret outputs."""

    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.recording = mocks

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        urn = self.make_urn(request.parent, request.type, request.name)
        self.recording.pending.secret_outputs = list(request.additionalSecretOutputs)
        self.recording.pending.request = request_facts(request, urn, self.make_urn)
        _references_as_urns(request.object)
        return super().RegisterResource(request)  # type: ignore[no-untyped-call]  # untyped SDK


def _references_as_urns(value: Any) -> None:
    """Replace resource references in a protobuf Struct/Value by their URNs, in place.

    The SDK's mock monitor would otherwise rebuild a referenced resource (pulumi-eks
    takes the cluster and IAM roles as resources) on the monitor's own thread and
    event loop, which the program's loop then refuses to await.
    """
    if isinstance(value, struct_pb2.Struct):
        for item in value.fields.values():
            _references_as_urns(item)
    elif isinstance(value, struct_pb2.ListValue):
        for item in value.values:
            _references_as_urns(item)
    elif isinstance(value, struct_pb2.Value):
        kind = value.WhichOneof("kind")
        if kind == "struct_value":
            fields = value.struct_value.fields
            signature = fields.get(rpc._special_sig_key)
            if signature is not None and signature.string_value == rpc._special_resource_sig:
                value.string_value = fields["urn"].string_value
            else:
                _references_as_urns(value.struct_value)
        elif kind == "list_value":
            _references_as_urns(value.list_value)
