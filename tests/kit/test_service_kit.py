"""What every service inherits from the app kit, proved on a kit-built service
running as its own process, verifying tokens against the real auth service."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
from prometheus_client.parser import text_string_to_metric_families

from apps.devstack.processes import REPO_ROOT, ServiceProcess
from apps.kit.problems import problem_type
from tests.kit.conftest import start_probe
from tests.support.logs import log_entries
from tests.support.platform import Platform, bearer
from tests.support.problems import assert_problem
from tests.support.waiting import wait_for


def test_token_from_auth_is_verified_by_another_service(
    auth_platform: Platform, probe: ServiceProcess
) -> None:
    response = httpx.get(probe.url + "/v1/whoami", headers=auth_platform.as_role("sales"))
    assert response.status_code == 200
    assert response.json()["roles"] == ["sales"]
    assert response.json()["kind"] == "user"


def test_token_signed_right_after_a_key_rotation_is_accepted(
    auth_platform: Platform, probe: ServiceProcess
) -> None:
    # The probe has just fetched auth's keys; then auth rotates and signs with the
    # new key. The probe must fetch again for the new kid, not refuse the token.
    assert httpx.get(probe.url + "/v1/whoami", headers=auth_platform.as_role("sales")).is_success
    rotated = auth_platform.http.post(
        auth_platform.url("auth", "/v1/keys/rotate"), headers=bearer(auth_platform.admin_token())
    )
    assert rotated.status_code == 200
    user = auth_platform.create_user("analyst")
    fresh = auth_platform.login(user["email"], user["password"])["access_token"]
    assert jwt.get_unverified_header(fresh)["kid"] == rotated.json()["kid"]
    response = httpx.get(probe.url + "/v1/whoami", headers=bearer(fresh))
    assert response.status_code == 200, response.text


def test_a_forged_forwarded_for_does_not_change_the_client_address(
    auth_platform: Platform, probe: ServiceProcess
) -> None:
    # By default no peer is a trusted proxy: the connection's address counts.
    headers = {**auth_platform.as_role("sales"), "X-Forwarded-For": "6.6.6.6"}
    answer = httpx.get(probe.url + "/v1/whoami", headers=headers).json()
    assert answer["address"] == "127.0.0.1"


def test_behind_a_trusted_proxy_only_the_hop_it_appended_counts(
    auth_platform: Platform,
) -> None:
    behind_gateway = start_probe(auth_platform, FORWARDED_ALLOW_IPS="127.0.0.0/8")
    try:

        def address(forwarded_for: str) -> str:
            headers = {**auth_platform.as_role("sales"), "X-Forwarded-For": forwarded_for}
            answer = httpx.get(behind_gateway.url + "/v1/whoami", headers=headers).json()
            return str(answer["address"])

        # The proxy appended 203.0.113.7; what the client wrote before it is not read.
        assert address("6.6.6.6, 203.0.113.7") == "203.0.113.7"
        # Even when the appended address is itself in the trusted network (a load
        # balancer's address inside the VPC), the client's entries stay unread.
        assert address("6.6.6.6, 127.0.0.9") == "127.0.0.9"
        assert address("not-an-address") == "127.0.0.1"
    finally:
        behind_gateway.stop()
    distrustful = start_probe(auth_platform, FORWARDED_ALLOW_IPS="10.9.9.0/24")
    try:
        headers = {**auth_platform.as_role("sales"), "X-Forwarded-For": "203.0.113.7"}
        answer = httpx.get(distrustful.url + "/v1/whoami", headers=headers).json()
        assert answer["address"] == "127.0.0.1"  # a header from an untrusted peer
    finally:
        distrustful.stop()


def test_tampered_expired_and_missing_tokens_are_401(
    auth_platform: Platform, probe: ServiceProcess
) -> None:
    token = auth_platform.token("sales")
    header, payload, signature = token.split(".")
    claims = json.loads(jwt.utils.base64url_decode(payload))
    claims["roles"] = ["admin"]
    forged_payload = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    forged = f"{header}.{forged_payload}.{signature}"
    for headers in ({}, bearer(forged), bearer("not-a-jwt"), {"Authorization": "Basic abc"}):
        response = httpx.get(probe.url + "/v1/admin-only", headers=headers)
        body = assert_problem(response, 401)
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert "request_id" in body


def test_token_signed_by_a_foreign_key_is_rejected(
    auth_platform: Platform, probe: ServiceProcess
) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    real = jwt.decode(auth_platform.token("sales"), options={"verify_signature": False})
    kid = jwt.get_unverified_header(auth_platform.token("sales"))["kid"]
    forged = jwt.encode(
        {**real, "roles": ["admin"]},
        ec.generate_private_key(ec.SECP256R1()),
        "ES256",
        headers={"kid": kid},
    )
    assert_problem(httpx.get(probe.url + "/v1/admin-only", headers=bearer(forged)), 401)


def test_wrong_role_is_403_and_right_role_passes(
    auth_platform: Platform, probe: ServiceProcess
) -> None:
    assert_problem(
        httpx.get(probe.url + "/v1/admin-only", headers=auth_platform.as_role("warehouse")), 403
    )
    response = httpx.get(probe.url + "/v1/admin-only", headers=bearer(auth_platform.admin_token()))
    assert response.status_code == 200


def test_service_tokens_do_not_pass_role_checks(
    auth_platform: Platform, probe: ServiceProcess
) -> None:
    token = auth_platform.service_token()
    assert httpx.get(probe.url + "/v1/whoami", headers=bearer(token)).json()["kind"] == "service"
    assert_problem(httpx.get(probe.url + "/v1/admin-only", headers=bearer(token)), 403)


def test_distributor_reaches_only_its_own_data(
    auth_platform: Platform, probe: ServiceProcess
) -> None:
    own = auth_platform.as_role("distributor", distributor_id="dst_alpha")
    ok = httpx.get(probe.url + "/v1/distributors/dst_alpha/statement", headers=own)
    assert ok.status_code == 200
    other = httpx.get(probe.url + "/v1/distributors/dst_beta/statement", headers=own)
    assert_problem(other, 403)
    staff = httpx.get(
        probe.url + "/v1/distributors/dst_beta/statement", headers=auth_platform.as_role("sales")
    )
    assert staff.status_code == 200


def test_errors_are_problem_json(probe: ServiceProcess) -> None:
    url = probe.url
    assert_problem(httpx.get(url + "/no/such/route"), 404)
    assert_problem(httpx.delete(url + "/v1/echo"), 405)
    malformed = httpx.post(
        url + "/v1/echo", content=b'{"name": ', headers={"content-type": "application/json"}
    )
    assert_problem(malformed, 400)
    invalid = assert_problem(
        httpx.post(url + "/v1/echo", json={"name": 5, "amount": -1, "colour": "red"}), 422
    )
    paths = {error["path"] for error in invalid["errors"]}
    assert paths == {"body.name", "body.amount", "body.colour"}
    too_big = httpx.post(url + "/v1/echo", json={"name": "x" * 2_000_000, "amount": 1})
    assert_problem(too_big, 413)


def test_chunked_oversize_body_is_413(probe: ServiceProcess) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b" " * 65_536

    response = httpx.post(
        probe.url + "/v1/echo", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_problem(response, 413)


def test_unexpected_error_is_500_with_correlation_id_and_no_internals(
    probe: ServiceProcess,
) -> None:
    response = httpx.get(probe.url + "/v1/boom", headers={"X-Request-ID": "req-boom-1"})
    body = assert_problem(response, 500)
    assert body["request_id"] == "req-boom-1"
    assert response.headers["x-request-id"] == "req-boom-1"
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text


def test_logs_are_json_with_request_ids_and_no_secrets(
    auth_platform: Platform, probe: ServiceProcess
) -> None:
    token = auth_platform.token("sales")
    httpx.get(probe.url + "/v1/whoami", headers={**bearer(token), "X-Request-ID": "req-log-7"})
    httpx.post(
        auth_platform.url("auth", "/v1/auth/login"),
        json={"email": "nobody@tests.glosleep.test", "password": "very-secret-pw-123"},
        headers={"X-Request-ID": "req-log-8"},
    )
    assert probe.log_path is not None
    log_path = probe.log_path

    def access_lines() -> list[dict[str, Any]]:
        return [e for e in log_entries(log_path) if e.get("request_id") == "req-log-7"]

    access = wait_for(access_lines)  # written after the answer: wait for it, not for a while
    entry = access[-1]
    assert entry["route"] == "/v1/whoami"
    assert entry["method"] == "GET"
    assert entry["status"] == 200
    assert len(entry["trace_id"]) == 32
    auth_log = auth_platform.stack.process("auth").log_path
    assert auth_log is not None
    everything = probe.log_path.read_text() + auth_log.read_text()
    assert token not in everything
    assert "very-secret-pw-123" not in everything
    wait_for(lambda: any(e.get("request_id") == "req-log-8" for e in log_entries(auth_log)))


def test_traceparent_is_continued(probe: ServiceProcess) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    response = httpx.get(
        probe.url + "/v1/boom",
        headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"},
    )
    assert response.json()["trace_id"] == trace_id


def test_metrics_use_route_templates(auth_platform: Platform, probe: ServiceProcess) -> None:
    headers = auth_platform.as_role("sales")
    httpx.get(probe.url + "/v1/distributors/dst_one/statement", headers=headers)
    httpx.get(probe.url + "/v1/distributors/dst_two/statement", headers=headers)
    metrics = httpx.get(probe.url + "/metrics").text
    assert 'handler="/v1/distributors/{distributor_id}/statement"' in metrics
    assert "dst_one" not in metrics
    assert "process_resident_memory_bytes" in metrics
    assert "glosleep_database_up 1.0" in metrics


def test_a_ready_service_has_frozen_its_start_up_objects_and_times_its_collections(
    probe: ServiceProcess,
) -> None:
    families = {
        family.name: family
        for family in text_string_to_metric_families(httpx.get(probe.url + "/metrics").text)
    }
    frozen = families["glosleep_gc_frozen_objects"].samples[0].value
    assert frozen > 10_000, (
        "start-up's modules, models and routes are walked by every full collection"
    )
    full_collections = [
        sample.value
        for sample in families["glosleep_gc_pause_seconds"].samples
        if sample.name.endswith("_count") and sample.labels["generation"] == "2"
    ]
    assert full_collections[0] >= 1


def test_sigterm_drains_then_exits_cleanly(auth_platform: Platform) -> None:
    # The drain must outlast a busy machine's slowest readiness probe below; the slow
    # request ends inside it, so the exit comes at the end of the drain.
    probe = start_probe(auth_platform, SHUTDOWN_DRAIN_SECONDS="5")
    results: dict[str, int] = {}

    def slow_request() -> None:
        results["slow"] = httpx.get(probe.url + "/v1/slow?seconds=2.5", timeout=10).status_code

    worker = threading.Thread(target=slow_request)
    worker.start()
    assert probe.log_path is not None
    log_path = probe.log_path
    wait_for(lambda: "slow request started" in log_path.read_text())  # in flight now
    assert probe.pid is not None
    started = time.monotonic()
    subprocess.run(["kill", "-TERM", str(probe.pid)], check=True)
    readiness = wait_for(
        lambda: (r := httpx.get(probe.url + "/readyz")).status_code == 503 and r, timeout=5
    )
    assert_problem(readiness, 503)
    assert httpx.get(probe.url + "/livez").status_code == 200
    code = probe.stop(timeout_seconds=30)
    worker.join()
    assert code == 0, "killed: the drain did not end"
    assert results["slow"] == 200, "the in-flight request did not finish"
    assert time.monotonic() - started < 20


def test_bad_settings_stop_the_service_with_a_message_naming_the_variable() -> None:
    env = {"PATH": "/usr/bin:/bin", "PORT": "not-a-port"}
    result = subprocess.run(
        [sys.executable, "-m", "apps.auth"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "MONGO_URL: required but not set" in result.stderr
    assert "PORT:" in result.stderr
    assert "Traceback" not in result.stderr


def test_service_waits_for_its_database_instead_of_crashing(auth_platform: Platform) -> None:
    from apps.devstack.ports import free_port

    # A port held (bound, never listening) for the whole test: nothing answers there,
    # and the probe's own port cannot be given the same number.
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    dead_port = dead.getsockname()[1]
    probe = ServiceProcess(
        "probe",
        free_port(),
        {
            **auth_platform.stack.env_for("probe"),
            "MONGO_URL": f"mongodb://127.0.0.1:{dead_port}/?directConnection=true",
        },
        module="tests.support.probe_service",
    )
    probe.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(probe.url + "/livez").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert httpx.get(probe.url + "/livez").status_code == 200
        readiness = assert_problem(httpx.get(probe.url + "/readyz"), 503)
        assert readiness["checks"]["database"] is False
        assert probe.running()
    finally:
        stopped = probe.stop()
        dead.close()
        assert stopped == 0


def test_requests_before_start_up_completes_are_503_not_ready(auth_platform: Platform) -> None:
    """Between the database connecting and the start-up hooks finishing (indexes,
    backfills), a service answering its API would act on half-built state: a caller
    must get a retryable 503 instead, as it does while the database is down."""
    from apps.devstack.ports import free_port

    probe = ServiceProcess(
        "probe",
        free_port(),
        {**auth_platform.stack.env_for("probe"), "PROBE_HOLD_STARTUP": "true"},
        module="tests.support.probe_service",
    )
    probe.start()
    try:

        def readiness() -> dict[str, Any] | None:
            try:
                answer = httpx.get(probe.url + "/readyz")
            except httpx.HTTPError:
                return None
            checks: dict[str, Any] = answer.json().get("checks", {})
            return checks if checks.get("database") else None

        checks = wait_for(readiness, timeout=30)
        assert checks["startup"] is False
        echo = {"name": "early", "amount": 1}
        early = assert_problem(httpx.post(probe.url + "/v1/echo", json=echo), 503)
        assert early["type"] == problem_type("not-ready")
        assert httpx.get(probe.url + "/metrics").status_code == 200
        assert probe.pid is not None
        os.kill(probe.pid, signal.SIGUSR1)  # start-up may finish
        wait_for(lambda: httpx.get(probe.url + "/readyz").status_code == 200, timeout=30)
        assert httpx.post(probe.url + "/v1/echo", json=echo).json() == echo
    finally:
        assert probe.stop() == 0
