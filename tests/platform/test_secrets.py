"""No generated credential appears in plain text in any resource input or stack output.

The mocks give every generated secret (passwords, keys, command output, registry
tokens) a value starting with SECRET_MARKER; wherever such a value reaches a
resource, it must arrive as a Pulumi secret.
"""

from __future__ import annotations

from glosleep_platform.mocks import SECRET_MARKER
from glosleep_platform.offline import DeclaredResource, OfflineRun, string_leaves
from tests.platform.helpers import RELEASE

# The generators themselves hold the value as an output, not an input.
GENERATORS = {
    "random:index/randomPassword:RandomPassword",
    "tls:index/privateKey:PrivateKey",
    "command:local:Command",
}


def plaintext_leaks(resource: DeclaredResource) -> list[str]:
    """Paths of inputs that hold a generated secret but did not arrive as a secret."""
    leaks = []
    for path, value in string_leaves(resource.inputs):
        if SECRET_MARKER not in value:
            continue
        covered = any(
            path == secret or path.startswith(secret + ".") for secret in resource.secret_inputs
        )
        if not covered:
            leaks.append(f"{resource.type} {resource.name}: {path}")
    return leaks


def test_the_mocks_generate_marked_secrets(stack_run: OfflineRun) -> None:
    passwords = stack_run.of_type("random:index/randomPassword:RandomPassword")
    assert len(passwords) >= 12
    assert all(p.outputs["result"].startswith(SECRET_MARKER) for p in passwords)


def test_no_secret_in_plaintext_in_any_input(stack_run: OfflineRun) -> None:
    leaks = [
        leak
        for resource in stack_run.resources
        if resource.type not in GENERATORS
        for leak in plaintext_leaks(resource)
    ]
    assert leaks == []


def test_secrets_do_reach_their_consumers_as_secrets(stack_run: OfflineRun) -> None:
    """The check above is not vacuous: the marked values are in the inputs."""
    carriers = {
        r.name
        for r in stack_run.resources
        if r.type not in GENERATORS and any(SECRET_MARKER in v for _, v in string_leaves(r.inputs))
    }
    for expected in ("auth-secret-env", "mongodb-credentials", "monitoring-grafana-admin"):
        assert expected in carriers
    provider = stack_run.of_type("pulumi:providers:kubernetes")[0]
    assert "kubeconfig" in provider.secret_inputs


def test_the_leak_check_catches_a_leak() -> None:
    leaky = DeclaredResource(
        type="kubernetes:core/v1:ConfigMap",
        name="oops",
        inputs={"data": {"PASSWORD": SECRET_MARKER + "abc"}},
        outputs={},
        secret_inputs=frozenset(),
        provider=None,
        custom=True,
        parent="",
    )
    assert plaintext_leaks(leaky) == ["kubernetes:core/v1:ConfigMap oops: data.PASSWORD"]
    covered = DeclaredResource(**{**leaky.__dict__, "secret_inputs": frozenset({"data"})})
    assert plaintext_leaks(covered) == []


def test_helm_values_hold_no_credentials(stack_run: OfflineRun) -> None:
    for release in stack_run.of_type(RELEASE):
        assert not [p for p, v in string_leaves(release.inputs) if SECRET_MARKER in v], release.name


def test_outputs_with_credentials_are_secret(stack_run: OfflineRun) -> None:
    for name, value in stack_run.exports.items():
        if any(SECRET_MARKER in v for _, v in string_leaves(value)):
            assert name in stack_run.secret_exports, name
    assert stack_run.secret_exports == {"kubeconfig", "bootstrapAdminPassword"}


def test_plain_config_values_are_not_in_secrets_by_accident(stack_run: OfflineRun) -> None:
    config_maps = [r for r in stack_run.resources if r.type == "kubernetes:core/v1:ConfigMap"]
    assert config_maps
    assert all(not r.secret_inputs for r in config_maps)
