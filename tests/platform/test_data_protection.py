"""Data at rest and in transit on eks: exports are SSE-KMS with the bucket's own key
and the writer can do nothing but write them; MongoDB speaks TLS and the services
verify its certificate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pymongo import uri_parser

from glosleep_platform.catalogue import SERVICE_NAMES
from glosleep_platform.offline import DeclaredResource, OfflineRun
from tests.platform.helpers import container, env_of, k8s_object, release


def statements(resource: DeclaredResource) -> list[dict[str, Any]]:
    document = json.loads(resource.inputs["policy"])
    found: list[dict[str, Any]] = document["Statement"]
    return found


def as_list(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]


def test_the_export_writer_may_only_write_exports(eks_run: OfflineRun) -> None:
    (bucket,) = eks_run.of_type("aws:s3/bucket:Bucket")
    (key,) = [k for k in eks_run.of_type("aws:kms/key:Key") if k.name.startswith("exports")]
    (writer,) = [
        p for p in eks_run.of_type("aws:iam/rolePolicy:RolePolicy") if "exports-writer" in p.name
    ]
    granted = {
        (action, resource)
        for statement in statements(writer)
        if statement["Effect"] == "Allow"
        for action in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    }
    config, _ = env_of(eks_run, "analytics")
    prefix = config["EXPORT_PREFIX"]
    assert granted == {
        ("s3:PutObject", f"{bucket.outputs['arn']}/{prefix}/*"),
        ("kms:GenerateDataKey", key.outputs["arn"]),
    }
    # The key makes data keys for this role only when S3 asks, never for direct use.
    (kms,) = [s for s in statements(writer) if "kms:GenerateDataKey" in as_list(s["Action"])]
    assert kms["Condition"] == {"StringEquals": {"kms:ViaService": "s3.ap-south-1.amazonaws.com"}}


def test_the_bucket_refuses_writes_with_other_encryption(eks_run: OfflineRun) -> None:
    (bucket,) = eks_run.of_type("aws:s3/bucket:Bucket")
    (key,) = [k for k in eks_run.of_type("aws:kms/key:Key") if k.name.startswith("exports")]
    (encryption,) = eks_run.of_type(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )
    (rule,) = encryption.inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms",
        "kmsMasterKeyId": key.outputs["arn"],
    }
    (policy,) = eks_run.of_type("aws:s3/bucketPolicy:BucketPolicy")
    denied_puts = [
        s["Condition"]
        for s in statements(policy)
        if s["Effect"] == "Deny"
        and s["Principal"] == "*"
        and "s3:PutObject" in as_list(s["Action"])
        and f"{bucket.outputs['arn']}/*" in as_list(s["Resource"])
        and "aws:SecureTransport" not in json.dumps(s["Condition"])
    ]
    # A write that asks for AES256 or another key is refused; one that asks for
    # nothing gets the default above.
    assert {"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}} in (
        denied_puts
    )
    assert {
        "StringNotEqualsIfExists": {
            "s3:x-amz-server-side-encryption-aws-kms-key-id": key.outputs["arn"]
        }
    } in denied_puts
    # The app asks for that key itself (apps/analytics: EXPORT_KMS_KEY_ID).
    config, _ = env_of(eks_run, "analytics")
    assert config["EXPORT_KMS_KEY_ID"] == key.outputs["arn"]


def test_mongodb_requires_tls_with_certificates_from_the_programs_ca(
    stack_run: OfflineRun,
) -> None:
    values = release(stack_run, "mongodb").inputs["values"]
    tls = values["tls"]
    assert tls["enabled"] is True
    assert tls["mode"] == "requireTLS"  # no plain connections at all
    assert tls["mTLS"] == {"enabled": False}  # clients authenticate with passwords
    assert tls["existingSecret"] == "mongodb-tls-ca"
    # The chart's init container signs each member's certificate; it runs under the
    # namespace's restricted Pod Security like every other container.
    assert tls["image"]["repository"].startswith("bitnamilegacy/")
    assert tls["securityContext"]["runAsNonRoot"] is True
    assert tls["securityContext"]["allowPrivilegeEscalation"] is False
    assert tls["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert tls["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    # Members verify each other against the CA; clients need no certificate of their own.
    assert values["extraFlags"] == [
        "--tlsCAFile=/certs/mongodb-ca-cert",
        "--tlsAllowConnectionsWithoutCertificates",
    ]
    ca_secret = k8s_object(stack_run, "Secret", "mongodb-tls-ca", "mongodb")
    (ca,) = stack_run.of_type("tls:index/selfSignedCert:SelfSignedCert")
    assert ca.inputs["isCaCertificate"] is True
    assert ca_secret["stringData"]["mongodb-ca-cert"] == ca.outputs["certPem"]
    (declared,) = [
        r
        for r in stack_run.of_type("kubernetes:core/v1:Secret")
        if r.inputs["metadata"].get("name") == "mongodb-tls-ca"
    ]
    assert "stringData" in declared.secret_inputs  # the CA key never in plain state


def test_the_services_connect_with_tls_and_verify_mongodb(
    stack_run: OfflineRun, tmp_path: Path
) -> None:
    (ca,) = stack_run.of_type("tls:index/selfSignedCert:SelfSignedCert")
    ca_file = tmp_path / "ca.crt"
    ca_file.write_text(ca.outputs["certPem"])
    for service in SERVICE_NAMES:
        _, secret = env_of(stack_run, service)
        url = secret["MONGO_URL"]
        raw = uri_parser.parse_uri(url, validate=False)["options"]
        assert raw["tlsCAFile"] == "/etc/glosleep/mongodb-ca/ca.crt"
        # The driver accepts every option as given (the CA file at a path it can read).
        parsed = uri_parser.parse_uri(url.replace(raw["tlsCAFile"], str(ca_file)))
        options = parsed["options"]
        assert options["tls"] is True
        # Verification stays on: no option that would skip it.
        assert not {"tlsInsecure", "tlsAllowInvalidCertificates", "tlsAllowInvalidHostnames"} & {
            key for key, value in options.items() if value
        }
        # The hosts are the names the chart puts in each member's certificate.
        assert all(
            host.endswith(".mongodb-headless.mongodb.svc.cluster.local")
            for host, _ in parsed["nodelist"]
        )
        # The CA file is there: a read-only mount of a Secret holding the CA certificate.
        pod = k8s_object(stack_run, "Deployment", service, "glosleep")["spec"]["template"]["spec"]
        (mount,) = [
            m
            for m in container(stack_run, service)["volumeMounts"]
            if m["mountPath"] == "/etc/glosleep/mongodb-ca"
        ]
        assert mount["readOnly"] is True
        (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
        files = k8s_object(stack_run, "Secret", volume["secret"]["secretName"], "glosleep")
        assert files["stringData"] == {"ca.crt": ca.outputs["certPem"]}
