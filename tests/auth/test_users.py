"""User administration, own-password changes, and login throttling."""

from __future__ import annotations

from tests.support.platform import Platform, bearer
from tests.support.problems import assert_problem


def _users(platform: Platform) -> str:
    return platform.url("auth", "/v1/users")


def test_admin_creates_lists_updates_and_deactivates_users(auth_platform: Platform) -> None:
    admin = bearer(auth_platform.admin_token())
    created = [auth_platform.create_user("procurement") for _ in range(3)]
    page = auth_platform.http.get(
        _users(auth_platform), params={"role": "procurement", "limit": 2}, headers=admin
    ).json()
    assert len(page["items"]) == 2
    rest = auth_platform.http.get(
        _users(auth_platform),
        params={"role": "procurement", "limit": 2, "cursor": page["next_cursor"]},
        headers=admin,
    ).json()
    listed = {u["id"] for u in page["items"] + rest["items"]}
    assert {u["id"] for u in created} <= listed

    target = created[0]
    changed = auth_platform.http.patch(
        f"{_users(auth_platform)}/{target['id']}",
        json={"display_name": "Priya Procurement", "roles": ["procurement", "analyst"]},
        headers=admin,
    )
    assert changed.status_code == 200
    assert changed.json()["roles"] == ["analyst", "procurement"]

    session = auth_platform.login(target["email"], target["password"])
    off = auth_platform.http.post(
        f"{_users(auth_platform)}/{target['id']}/deactivate", headers=admin
    )
    assert off.json()["active"] is False
    login = auth_platform.http.post(
        auth_platform.url("auth", "/v1/auth/login"),
        json={"email": target["email"], "password": target["password"]},
    )
    assert_problem(login, 401)
    refresh = auth_platform.http.post(
        auth_platform.url("auth", "/v1/auth/refresh"),
        json={"refresh_token": session["refresh_token"]},
    )
    assert_problem(refresh, 401)


def test_duplicate_email_is_409_and_weak_password_is_422(auth_platform: Platform) -> None:
    existing = auth_platform.create_user("sales")
    admin = bearer(auth_platform.admin_token())
    body = {
        "email": existing["email"].upper(),
        "display_name": "Again",
        "roles": ["sales"],
        "password": "another-good-pass-1",
    }
    assert_problem(auth_platform.http.post(_users(auth_platform), json=body, headers=admin), 409)
    weak = {**body, "email": "weak@tests.glosleep.test", "password": "short"}
    problem = assert_problem(
        auth_platform.http.post(_users(auth_platform), json=weak, headers=admin), 422
    )
    assert problem["errors"][0]["path"] == "body.password"


def test_distributor_users_need_a_distributor_and_others_must_not_have_one(
    auth_platform: Platform,
) -> None:
    admin = bearer(auth_platform.admin_token())
    base = {"display_name": "D", "password": "distributor-pass-1"}
    missing = {**base, "email": "d1@tests.glosleep.test", "roles": ["distributor"]}
    assert_problem(auth_platform.http.post(_users(auth_platform), json=missing, headers=admin), 422)
    stray = {
        **base,
        "email": "d2@tests.glosleep.test",
        "roles": ["sales"],
        "distributor_id": "dst_x_y",
    }
    assert_problem(auth_platform.http.post(_users(auth_platform), json=stray, headers=admin), 422)


def test_only_admins_manage_users(auth_platform: Platform) -> None:
    for role in ("sales", "distributor"):
        kwargs = {"distributor_id": "dst_nosy"} if role == "distributor" else {}
        headers = auth_platform.as_role(role, **kwargs)
        assert_problem(auth_platform.http.get(_users(auth_platform), headers=headers), 403)
    assert_problem(auth_platform.http.get(_users(auth_platform)), 401)


def test_change_own_password(auth_platform: Platform) -> None:
    user = auth_platform.create_user("warehouse")
    pair = auth_platform.login(user["email"], user["password"])
    url = auth_platform.url("auth", "/v1/me/password")
    headers = bearer(pair["access_token"])
    wrong = auth_platform.http.post(
        url,
        json={"current_password": "nope", "new_password": "a-brand-new-pass-9"},
        headers=headers,
    )
    assert_problem(wrong, 403)
    ok = auth_platform.http.post(
        url,
        json={"current_password": user["password"], "new_password": "a-brand-new-pass-9"},
        headers=headers,
    )
    assert ok.status_code == 204
    auth_platform.login(user["email"], "a-brand-new-pass-9")
    old = auth_platform.http.post(
        auth_platform.url("auth", "/v1/auth/login"),
        json={"email": user["email"], "password": user["password"]},
    )
    assert_problem(old, 401)


def test_twenty_wrong_passwords_are_throttled_while_another_account_logs_in(
    auth_platform: Platform,
) -> None:
    victim = auth_platform.create_user("sales")
    bystander = auth_platform.create_user("sales")
    login = auth_platform.url("auth", "/v1/auth/login")
    statuses = []
    for _ in range(20):
        response = auth_platform.http.post(
            login, json={"email": victim["email"], "password": "wrong-password-guess"}
        )
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert int(response.headers["retry-after"]) > 0
            assert_problem(response, 429)
    assert statuses[:5] == [401] * 5
    assert set(statuses[5:]) == {429}
    # Even the right password waits out the window now.
    right = auth_platform.http.post(
        login, json={"email": victim["email"], "password": victim["password"]}
    )
    assert right.status_code == 429
    # Another account from the same address is unaffected.
    auth_platform.login(bystander["email"], bystander["password"])

    audit = auth_platform.http.get(
        auth_platform.url("auth", "/v1/audit"),
        params={"subject": victim["email"], "limit": 200},
        headers=bearer(auth_platform.admin_token()),
    ).json()
    actions = [entry["action"] for entry in audit["items"]]
    assert actions.count("login.failure") == 5
    assert actions.count("login.throttled") == 16
