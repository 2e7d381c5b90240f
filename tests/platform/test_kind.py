"""The kind stack: the cluster and registry through the kind CLI, images pushed locally."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

from glosleep_platform.offline import OfflineRun
from glosleep_platform.settings import load_settings_file
from tests.platform.helpers import container, release

ROOT = Path(__file__).resolve().parents[2]


def test_cluster_is_created_and_deleted_by_the_kind_scripts(kind_run: OfflineRun) -> None:
    settings = load_settings_file("kind").require_kind()
    commands = {c.name: c.inputs for c in kind_run.of_type("command:local:Command")}
    cluster = commands["kind-cluster"]
    assert cluster["create"] == "bash platform/kind/up.sh"
    assert cluster["delete"] == "bash platform/kind/down.sh"
    assert cluster["environment"] == {
        "CLUSTER_NAME": settings.cluster_name,
        "NODE_IMAGE": settings.node_image,
        "KIND_CONFIG": settings.config_path,
        "REGISTRY_NAME": "glosleep-registry",
        "REGISTRY_PORT": str(settings.registry_port),
    }
    # Every setting the scripts read recreates the cluster when it changes.
    for name, value in cluster["environment"].items():
        assert f"{name}={value}" in cluster["triggers"]
    assert (
        commands["kind-kubeconfig"]["create"]
        == f"kind get kubeconfig --name {settings.cluster_name}"
    )
    for script in ("up.sh", "down.sh"):
        text = (ROOT / "platform" / "kind" / script).read_text()
        for variable in ("CLUSTER_NAME", "REGISTRY_NAME"):
            assert f"${{{variable}:?}}" in text or f'"${{{variable}:?}}"' in text


def test_kind_config_maps_the_gateway_port(kind_run: OfflineRun) -> None:
    settings = load_settings_file("kind")
    kind = settings.require_kind()
    config = yaml.safe_load((ROOT / kind.config_path).read_text())
    assert config["kind"] == "Cluster"
    mappings = [m for node in config["nodes"] for m in node.get("extraPortMappings", [])]
    assert {"containerPort": kind.gateway_node_port, "hostPort": kind.gateway_host_port} in [
        {"containerPort": m["containerPort"], "hostPort": m["hostPort"]} for m in mappings
    ]
    assert sum(1 for node in config["nodes"] if node["role"] == "worker") >= 2
    assert any("certs.d" in patch for patch in config["containerdConfigPatches"])
    proxy = next(o for o in kind_run.kubernetes_objects() if o["kind"] == "EnvoyProxy")
    service = proxy["spec"]["provider"]["kubernetes"]["envoyService"]
    assert service["type"] == "NodePort"
    assert service["patch"]["value"]["spec"]["ports"] == [
        {"port": 80, "nodePort": kind.gateway_node_port}
    ]
    assert kind_run.exports["gatewayUrl"] == f"http://{settings.hostname}:{kind.gateway_host_port}"


def test_images_go_to_the_local_registry_by_digest(kind_run: OfflineRun) -> None:
    port = load_settings_file("kind").require_kind().registry_port
    images = kind_run.of_type("docker-build:index:Image")
    assert len(images) == 5
    for image in images:
        service = image.inputs["buildArgs"]["SERVICE"]
        assert image.inputs["dockerfile"] == {"location": "apps/Dockerfile"}
        assert image.inputs["context"] == {"location": "."}
        repository = f"localhost:{port}/glosleep/{service}"
        assert image.inputs["tags"][0].startswith(f"{repository}:ctx-")
        digest = image.outputs["digest"]
        assert container(kind_run, service)["image"] == f"{repository}@{digest}"
    assert set(kind_run.exports["imageDigests"]) == {
        i.inputs["buildArgs"]["SERVICE"] for i in images
    }


def test_kind_gets_a_metrics_api_for_the_hpas(kind_run: OfflineRun) -> None:
    metrics = release(kind_run, "metrics-server").inputs
    assert metrics["namespace"] == "kube-system"
    assert "--kubelet-insecure-tls" in metrics["values"]["args"]


def test_kind_kubeconfig_is_secret(kind_run: OfflineRun) -> None:
    assert "kubeconfig" in kind_run.secret_exports
    (provider,) = kind_run.of_type("pulumi:providers:kubernetes")
    assert "kubeconfig" in provider.secret_inputs


def test_kind_scripts_pass_shellcheck() -> None:
    shellcheck = shutil.which("shellcheck") or str(ROOT / ".venv" / "bin" / "shellcheck")
    scripts = sorted(str(p) for p in (ROOT / "platform" / "kind").glob("*.sh"))
    result = subprocess.run([shellcheck, *scripts], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout
