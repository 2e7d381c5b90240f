"""The address login throttling and the audit record is the connection's, unless a
trusted proxy (the Gateway) names the client: a forged X-Forwarded-For changes nothing."""

from __future__ import annotations

from tests.support.platform import Platform, bearer


def test_a_forged_forwarded_for_does_not_change_the_audited_address(
    auth_platform: Platform,
) -> None:
    user = auth_platform.create_user("sales")
    response = auth_platform.http.post(
        auth_platform.url("auth", "/v1/auth/login"),
        json={"email": user["email"], "password": "not-the-password"},
        headers={"X-Forwarded-For": "6.6.6.6"},
    )
    assert response.status_code == 401
    audit = auth_platform.http.get(
        auth_platform.url("auth", "/v1/audit"),
        params={"subject": user["email"], "limit": 50},
        headers=bearer(auth_platform.admin_token()),
    ).json()
    failures = [entry for entry in audit["items"] if entry["action"] == "login.failure"]
    assert [entry["address"] for entry in failures] == ["127.0.0.1"]
