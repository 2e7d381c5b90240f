"""Token signing keys: ES256, created on first start (or loaded from a mounted
secret), rotated on demand; retired public keys stay published until every
token they signed has expired."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from jwt.algorithms import ECAlgorithm

from apps.auth.models import SigningKey
from apps.kit.clock import utcnow
from apps.kit.ids import new_id
from apps.kit.security import SIGNING_ALGORITHM

CACHE_SECONDS = 30.0
CIPHER_PREFIX = "aesgcm1:"


class KeyEncryptionError(RuntimeError):
    """A stored signing key cannot be decrypted with the configured key."""


class KeyCipher:
    """Signing keys kept in the database are encrypted at rest with AES-256-GCM under
    AUTH_KEY_ENCRYPTION_KEY, which lives in the environment (a Secret, .env, or dev's
    .data file), never in the database. The key id is bound as associated data, so
    a ciphertext moved to another key id does not decrypt."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def encrypt(self, kid: str, pem: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, pem.encode(), kid.encode())
        return CIPHER_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def decrypt(self, kid: str, stored: str) -> str:
        if not stored.startswith(CIPHER_PREFIX):
            raise KeyEncryptionError(f"signing key {kid} is not encrypted")
        raw = base64.urlsafe_b64decode(stored[len(CIPHER_PREFIX) :])
        try:
            return self._aead.decrypt(raw[:12], raw[12:], kid.encode()).decode()
        except InvalidTag:
            raise KeyEncryptionError(
                f"signing key {kid} does not decrypt with AUTH_KEY_ENCRYPTION_KEY "
                "(another key than the one it was stored with?)"
            ) from None


@dataclass(frozen=True)
class LoadedKey:
    kid: str
    private_key: ec.EllipticCurvePrivateKey
    public_jwk: dict[str, Any]


def _public_jwk(kid: str, private_key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(ECAlgorithm.to_jwk(private_key.public_key()))
    jwk.update({"kid": kid, "use": "sig", "alg": SIGNING_ALGORITHM})
    return jwk


def _load_pem(kid: str, pem: str) -> LoadedKey:
    private_key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(private_key, ec.EllipticCurvePrivateKey) or not isinstance(
        private_key.curve, ec.SECP256R1
    ):
        raise ValueError(f"signing key {kid} is not an EC P-256 key")
    return LoadedKey(kid, private_key, _public_jwk(kid, private_key))


def _new_pem() -> str:
    private_key = ec.generate_private_key(ec.SECP256R1())
    return private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


class KeyStore:
    """The active signing key and the published public keys."""

    def __init__(
        self, key_dir: Path | None, access_token_ttl_seconds: int, cipher: KeyCipher | None
    ) -> None:
        if key_dir is None and cipher is None:
            raise ValueError("signing keys kept in the database need an encryption key")
        self._key_dir = key_dir
        self._cipher = cipher
        self._grace = timedelta(seconds=access_token_ttl_seconds + 60)
        self._active: LoadedKey | None = None
        self._published: dict[str, Any] = {}
        self._loaded_at = 0.0
        self._lock = asyncio.Lock()

    @property
    def from_mounted_secret(self) -> bool:
        return self._key_dir is not None

    async def ensure_key(self) -> None:
        """Make sure a signing key exists (first start), and that every key in the
        database is encrypted (keys stored in plain text by older versions are
        encrypted in place)."""
        if self._key_dir is None:
            await self._encrypt_plain_keys()
            if await SigningKey.find({"retired_at": None}).count() == 0:
                await self._insert_new_key()
        await self._reload()

    def _sealer(self) -> KeyCipher:
        assert self._cipher is not None  # the constructor ensures it without a key dir
        return self._cipher

    async def _encrypt_plain_keys(self) -> None:
        collection = SigningKey.get_pymongo_collection()
        async for document in collection.find({"private_pem": {"$exists": True}}):
            kid = str(document["_id"])
            sealed = self._sealer().encrypt(kid, str(document["private_pem"]))
            await collection.update_one(
                {"_id": kid, "private_pem": document["private_pem"]},
                {"$set": {"private_key_sealed": sealed}, "$unset": {"private_pem": ""}},
            )

    async def rotate(self) -> str:
        if self._key_dir is not None:
            raise RuntimeError("keys come from a mounted secret; rotate them there")
        previous = await SigningKey.find({"retired_at": None}).to_list()
        kid = await self._insert_new_key()
        for key in previous:
            key.retired_at = utcnow()
            await key.save()
        await self._reload()
        return kid

    async def _insert_new_key(self) -> str:
        kid = new_id("key")
        pem = _new_pem()
        public_jwk = _load_pem(kid, pem).public_jwk
        sealed = self._sealer().encrypt(kid, pem)
        await SigningKey(id=kid, private_key_sealed=sealed, public_jwk=public_jwk).insert()
        return kid

    async def _reload(self) -> None:
        async with self._lock:
            if self._key_dir is not None:
                loaded = [
                    _load_pem(path.stem, path.read_text())
                    for path in sorted(self._key_dir.glob("*.pem"))
                ]
                if not loaded:
                    raise RuntimeError(f"no *.pem signing key in {self._key_dir}")
                self._active = loaded[-1]
                self._published = {key.kid: key.public_jwk for key in loaded}
            else:
                cutoff = utcnow() - self._grace
                keys = await SigningKey.find_all().sort("-created_at").to_list()
                live = [k for k in keys if k.retired_at is None]
                if not live:
                    raise RuntimeError("no active signing key")
                pem = self._sealer().decrypt(live[0].id, live[0].private_key_sealed)
                self._active = _load_pem(live[0].id, pem)
                self._published = {
                    k.id: k.public_jwk
                    for k in keys
                    if k.retired_at is None or k.retired_at > cutoff
                }
            self._loaded_at = time.monotonic()

    async def _fresh(self) -> None:
        if self._active is None or time.monotonic() - self._loaded_at > CACHE_SECONDS:
            await self._reload()

    async def active(self) -> LoadedKey:
        await self._fresh()
        assert self._active is not None
        return self._active

    async def public_key(self, kid: str) -> Any | None:
        await self._fresh()
        jwk = self._published.get(kid)
        if jwk is None and time.monotonic() - self._loaded_at > 1.0:
            await self._reload()  # another replica may have rotated
            jwk = self._published.get(kid)
        return None if jwk is None else ECAlgorithm.from_jwk(json.dumps(jwk))

    async def jwks(self) -> dict[str, Any]:
        await self._fresh()
        return {"keys": list(self._published.values())}
