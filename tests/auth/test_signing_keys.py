"""Signing keys kept in MongoDB are encrypted with a key from the environment
(issue 14, item 9): the database alone never yields a private key, keys stored in
plain text by older versions are encrypted at start, and another encryption key
cannot use them."""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path
from typing import Any

import httpx
import jwt
from pymongo import MongoClient
from pymongo.collection import Collection
from pymongo.database import Database

from apps.auth.keys import KeyCipher, _new_pem
from apps.devstack.ports import free_port
from apps.devstack.processes import ServiceProcess
from apps.devstack.stack import new_key_encryption_key
from tests.support.platform import ADMIN_EMAIL, Platform
from tests.support.waiting import wait_for


def _documents(mongo_url: str, database: str) -> dict[str, list[dict[str, Any]]]:
    client: MongoClient[dict[str, Any]]
    with MongoClient(mongo_url) as client:
        db: Database[dict[str, Any]] = client[database]
        return {name: list(db[name].find()) for name in db.list_collection_names()}


def test_the_database_holds_no_private_key_nor_the_key_that_encrypts_it(
    auth_platform: Platform, mongo_url: str
) -> None:
    stack = auth_platform.stack
    collections = _documents(mongo_url, stack.database("auth"))
    everything = json.dumps(collections, default=str)
    assert "PRIVATE KEY" not in everything
    assert stack.config.key_encryption_key not in everything
    (key, *_) = collections["signing_keys"]
    assert "private_pem" not in key
    # The configured key (and only with the key id it was sealed for) opens it.
    cipher = KeyCipher(base64.urlsafe_b64decode(stack.config.key_encryption_key))
    assert "BEGIN PRIVATE KEY" in cipher.decrypt(key["_id"], key["private_key_sealed"])


def test_plain_keys_are_encrypted_at_start_and_another_key_cannot_use_them(
    auth_platform: Platform, mongo_url: str, tmp_path: Path
) -> None:
    stack = auth_platform.stack
    database = stack.database(f"auth_keys_{secrets.token_hex(3)}")
    kid = "key_legacy" + secrets.token_hex(4)
    client: MongoClient[dict[str, Any]]
    with MongoClient(mongo_url) as client:  # as an older version stored it
        legacy: dict[str, Any] = {
            "_id": kid,
            "private_pem": _new_pem(),
            "public_jwk": {},
            "retired_at": None,
        }
        keys: Collection[dict[str, Any]] = client[database]["signing_keys"]
        keys.insert_one(legacy)
    upgraded = auth_platform.spawn("auth", MONGO_DATABASE=database)
    try:
        token = httpx.post(
            upgraded.url + "/v1/auth/login",
            json={"email": ADMIN_EMAIL, "password": auth_platform.admin_password},
        ).json()["access_token"]
    finally:
        upgraded.stop()
    assert jwt.get_unverified_header(token)["kid"] == kid  # the same key, still in use
    (stored,) = _documents(mongo_url, database)["signing_keys"]
    assert "private_pem" not in stored
    assert "PRIVATE KEY" not in json.dumps(stored, default=str)

    log = tmp_path / "auth-wrong-key.log"
    wrong = ServiceProcess(
        "auth",
        free_port(),
        {
            **stack.env_for("auth"),
            "MONGO_DATABASE": database,
            "AUTH_KEY_ENCRYPTION_KEY": new_key_encryption_key(),
        },
        log_path=log,
    )
    wrong.start()
    try:
        wait_for(lambda: log.exists() and "AUTH_KEY_ENCRYPTION_KEY" in log.read_text())
        assert httpx.get(wrong.url + "/readyz").status_code == 503
    finally:
        wrong.stop()
