"""What `pulumi destroy` does to each stack (issue 13, B10; docs/deploy.md, "What
destroy keeps").

The engine deletes every resource in the state, except that a ``protect``ed one stops
the destroy and a ``retainOnDelete`` one is only dropped from the state. AWS refuses to
delete an ECR repository that still holds images unless ``forceDelete`` is set, and an
S3 bucket that holds objects (a versioned one keeps every version) unless
``forceDestroy`` is set.
"""

from __future__ import annotations

from glosleep_platform.offline import DeclaredResource, OfflineRun

REPOSITORY = "aws:ecr/repository:Repository"
BUCKET = "aws:s3/bucket:Bucket"
KEY = "aws:kms/key:Key"


def outcome(resource: DeclaredResource) -> str:
    if resource.request.protect:
        return "stops the destroy (protected)"
    if resource.request.retain_on_delete:
        return "kept"
    if resource.type == REPOSITORY and not resource.inputs.get("forceDelete"):
        return "fails: the repository holds images"
    if resource.type == BUCKET and not resource.inputs.get("forceDestroy"):
        return "fails: the bucket holds objects"
    return "deleted"


def outcomes(run: OfflineRun) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for resource in run.resources:
        if resource.custom:
            found.setdefault(outcome(resource), []).append(f"{resource.type}::{resource.name}")
    return found


def test_destroying_eks_succeeds_and_keeps_only_the_exports(eks_run: OfflineRun) -> None:
    results = outcomes(eks_run)
    assert set(results) == {"deleted", "kept"}, {k: v for k, v in results.items() if k != "deleted"}
    kept = results["kept"]
    (bucket,) = eks_run.of_type(BUCKET)
    assert f"{BUCKET}::{bucket.name}" in kept
    # The bucket's settings stay with it, and so does the key its objects need.
    assert all(item.split("::")[1].startswith(bucket.name) for item in kept)
    assert any(item.startswith(KEY) for item in kept)
    # Every other key is deleted (after its 30-day window), images included.
    assert all(not item.startswith(REPOSITORY) for item in kept)


def test_mongodb_volumes_outlive_the_cluster(eks_run: OfflineRun) -> None:
    """The database's EBS volumes are kept (StorageClass reclaimPolicy Retain, PVCs kept
    by the chart), for a restore; docs/deploy.md says how to find and delete them."""
    (storage_class,) = [o for o in eks_run.kubernetes_objects() if o["kind"] == "StorageClass"]
    assert storage_class["reclaimPolicy"] == "Retain"


def test_destroying_kind_deletes_everything(kind_run: OfflineRun) -> None:
    assert set(outcomes(kind_run)) == {"deleted"}
