"""Login, access tokens, refresh rotation with reuse detection, logout, and key
rotation, against the real auth service."""

from __future__ import annotations

import httpx
import jwt

from tests.support.platform import Platform, bearer
from tests.support.problems import assert_problem


def _refresh(platform: Platform, token: str) -> httpx.Response:
    return platform.http.post(
        platform.url("auth", "/v1/auth/refresh"), json={"refresh_token": token}
    )


def test_login_gives_short_lived_signed_access_token_with_claims(auth_platform: Platform) -> None:
    user = auth_platform.create_user("distributor", distributor_id="dst_claims")
    pair = auth_platform.login(user["email"], user["password"])
    header = jwt.get_unverified_header(pair["access_token"])
    claims = jwt.decode(pair["access_token"], options={"verify_signature": False})
    assert header["alg"] == "ES256"
    assert header["kid"]
    assert claims["iss"] == "glosleep-auth"
    assert claims["aud"] == "glosleep"
    assert claims["sub"] == user["id"]
    assert claims["roles"] == ["distributor"]
    assert claims["distributor_id"] == "dst_claims"
    assert 0 < claims["exp"] - claims["iat"] <= 900
    assert pair["expires_in"] <= 900
    me = auth_platform.http.get(
        auth_platform.url("auth", "/v1/me"), headers=bearer(pair["access_token"])
    )
    assert me.status_code == 200
    assert me.json()["email"] == user["email"]
    assert "password_hash" not in me.text


def test_jwks_publishes_the_signing_key(auth_platform: Platform) -> None:
    token = auth_platform.admin_token()
    jwks = auth_platform.http.get(auth_platform.url("auth", "/.well-known/jwks.json")).json()
    kids = {key["kid"] for key in jwks["keys"]}
    assert jwt.get_unverified_header(token)["kid"] in kids
    for key in jwks["keys"]:
        assert key["kty"] == "EC"
        assert "d" not in key  # never the private part


def test_refresh_rotates_and_reuse_revokes_the_family(auth_platform: Platform) -> None:
    user = auth_platform.create_user("sales")
    first = auth_platform.login(user["email"], user["password"])
    second = _refresh(auth_platform, first["refresh_token"])
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert rotated["access_token"] != first["access_token"]

    reuse = _refresh(auth_platform, first["refresh_token"])
    assert_problem(reuse, 401)
    # The attacker's (or victim's) newer token of the same family is dead too.
    assert_problem(_refresh(auth_platform, rotated["refresh_token"]), 401)
    # Another session of the same user is a different family and still works.
    other = auth_platform.login(user["email"], user["password"])
    assert _refresh(auth_platform, other["refresh_token"]).status_code == 200


def test_logout_revokes_the_refresh_token(auth_platform: Platform) -> None:
    user = auth_platform.create_user("warehouse")
    pair = auth_platform.login(user["email"], user["password"])
    out = auth_platform.http.post(
        auth_platform.url("auth", "/v1/auth/logout"), json={"refresh_token": pair["refresh_token"]}
    )
    assert out.status_code == 204
    assert_problem(_refresh(auth_platform, pair["refresh_token"]), 401)


def test_unknown_refresh_token_is_401(auth_platform: Platform) -> None:
    assert_problem(_refresh(auth_platform, "x" * 43), 401)


def test_key_rotation_keeps_old_tokens_valid_and_signs_new_ones_with_the_new_key(
    auth_platform: Platform,
) -> None:
    user = auth_platform.create_user("analyst")
    old_token = auth_platform.login(user["email"], user["password"])["access_token"]
    old_kid = jwt.get_unverified_header(old_token)["kid"]

    rotated = auth_platform.http.post(
        auth_platform.url("auth", "/v1/keys/rotate"), headers=bearer(auth_platform.admin_token())
    )
    assert rotated.status_code == 200
    new_kid = rotated.json()["kid"]
    assert new_kid != old_kid

    new_token = auth_platform.login(user["email"], user["password"])["access_token"]
    assert jwt.get_unverified_header(new_token)["kid"] == new_kid
    jwks = auth_platform.http.get(auth_platform.url("auth", "/.well-known/jwks.json")).json()
    assert {old_kid, new_kid} <= {key["kid"] for key in jwks["keys"]}
    for token in (old_token, new_token):
        me = auth_platform.http.get(auth_platform.url("auth", "/v1/me"), headers=bearer(token))
        assert me.status_code == 200


def test_key_rotation_is_admin_only(auth_platform: Platform) -> None:
    response = auth_platform.http.post(
        auth_platform.url("auth", "/v1/keys/rotate"), headers=auth_platform.as_role("sales")
    )
    assert_problem(response, 403)


def test_client_credentials_grant(auth_platform: Platform) -> None:
    token = auth_platform.service_token(["catalog:read"])
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["kind"] == "service"
    assert claims["scope"] == "catalog:read"
    assert claims["sub"] == "svc-test"

    url = auth_platform.url("auth", "/v1/oauth/token")
    wrong = auth_platform.http.post(
        url, data={"grant_type": "client_credentials"}, auth=("svc-test", "wrong-secret")
    )
    assert assert_problem(wrong, 401)["error"] == "invalid_client"
    unknown = auth_platform.http.post(
        url,
        data={"grant_type": "client_credentials", "client_id": "svc-nobody", "client_secret": "x"},
    )
    assert_problem(unknown, 401)
    grant = auth_platform.http.post(url, data={"grant_type": "password"})
    assert assert_problem(grant, 400)["error"] == "unsupported_grant_type"
    overreach = auth_platform.http.post(
        url,
        data={"grant_type": "client_credentials", "scope": "users:admin"},
        auth=("svc-test", auth_platform.test_client_secret),
    )
    assert assert_problem(overreach, 400)["error"] == "invalid_scope"
    # A service token is not a person: it has no /v1/me.
    assert_problem(
        auth_platform.http.get(auth_platform.url("auth", "/v1/me"), headers=bearer(token)), 403
    )
