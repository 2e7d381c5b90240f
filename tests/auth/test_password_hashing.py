"""Password hashing in a service process: argon2id's 12 MiB buffers go back to the
system once a hash is done, no more than two are held at a time, and a hash never
holds the event loop (a burst of logins must not stall auth's other requests)."""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from argon2 import PasswordHasher
from pymongo import MongoClient

from apps.auth.passwords import hash_password, needs_rehash, verify_password
from apps.devstack.processes import ServiceProcess
from tests.support.platform import ADMIN_EMAIL, Platform

BUFFER_MIB = 12
ROOT = Path(__file__).resolve().parents[2]

# A fresh process set up as the kit sets up every service (apps/kit/server.py), then
# a burst of 12 verifications at once; its memory read from /proc.
_BURST = """
import asyncio, json
from apps.kit.memory import return_large_buffers

return_large_buffers()
from apps.auth.passwords import hash_password, needs_rehash, verify_password


def memory():
    fields = dict(line.split(":", 1) for line in open("/proc/self/status"))
    return {name: int(fields[name].split()[0]) // 1024 for name in ("VmRSS", "VmHWM")}


async def burst():
    hashed = await hash_password("correct horse battery staple")
    before = memory()
    checks = [verify_password(hashed, "correct horse battery staple") for _ in range(6)]
    checks += [verify_password(hashed, "wrong horse battery staple") for _ in range(3)]
    checks += [verify_password(None, "no such account") for _ in range(3)]
    answers = await asyncio.gather(*checks)
    print(json.dumps({"before": before, "after": memory(), "answers": answers}))


asyncio.run(burst())
"""


def test_a_burst_of_hashes_leaves_no_buffer_resident_and_holds_at_most_two() -> None:
    run = subprocess.run(
        [sys.executable, "-c", _BURST], cwd=ROOT, capture_output=True, text=True, check=True
    )
    figures = json.loads(run.stdout)
    assert figures["answers"] == [True] * 6 + [False] * 6
    # Without a fixed mmap threshold every thread that hashed kept its buffer resident.
    retained = figures["after"]["VmRSS"] - figures["before"]["VmRSS"]
    assert retained < BUFFER_MIB // 2, figures
    # At most two buffers at a time: the six worker threads hashing at once would
    # peak at six buffers above the start.
    peak = figures["after"]["VmHWM"] - figures["before"]["VmRSS"]
    assert peak < 3 * BUFFER_MIB, figures


def _resident_mib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    raise AssertionError(f"no VmRSS for {pid}")


def _spawn_auth(platform: Platform) -> ServiceProcess:
    return platform.spawn(
        "auth",
        MONGO_DATABASE=platform.stack.database(f"auth_memory_{secrets.token_hex(3)}"),
        # Attempts in flight count against the limit until they succeed (ADR 0005).
        LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS="100",
    )


def test_a_running_auth_gives_back_the_buffers_of_a_burst_of_logins(
    auth_platform: Platform,
) -> None:
    """The service as `python -m apps.auth` runs it: without the kit's set-up at start
    (apps/kit/server.py), each thread that hashed keeps its buffer resident."""
    process = _spawn_auth(auth_platform)
    assert process.pid is not None
    credentials = {"email": ADMIN_EMAIL, "password": auth_platform.admin_password}

    def login() -> int:
        with httpx.Client(base_url=process.url, timeout=60.0) as http:
            return http.post("/v1/auth/login", json=credentials).status_code

    try:
        assert login() == 200  # the first request's own allocations, and one hash
        before = _resident_mib(process.pid)
        with ThreadPoolExecutor(12) as clients:
            answers = list(clients.map(lambda _: login(), range(12)))
        assert answers == [200] * 12
        assert _resident_mib(process.pid) - before < BUFFER_MIB // 2
    finally:
        process.stop()


def test_serving_auth_starts_no_worker_threads_of_the_framework(auth_platform: Platform) -> None:
    """A plain-function route or dependency runs on a worker thread, and the first one
    cost 6 MiB for good (anyio's thread machinery and the thread): the scrape of
    /metrics did, and so did every auth route (its `Auth` dependency)."""
    process = _spawn_auth(auth_platform)
    assert process.pid is not None
    try:
        with httpx.Client(base_url=process.url, timeout=60.0) as http:
            before = _resident_mib(process.pid)
            assert http.get("/metrics", headers={"Accept-Encoding": "gzip"}).status_code == 200
            assert http.get("/.well-known/jwks.json").status_code == 200
            wrong = {"email": ADMIN_EMAIL, "password": "not the password at all"}
            assert http.post("/v1/auth/login", json=wrong).status_code == 401
            right = {"email": ADMIN_EMAIL, "password": auth_platform.admin_password}
            assert http.post("/v1/auth/login", json=right).status_code == 200
            grown = _resident_mib(process.pid) - before
        assert grown < 3, f"{grown} MiB more resident after four requests"
    finally:
        process.stop()


def test_a_password_hashed_with_other_settings_is_hashed_again_at_login(
    auth_platform: Platform, mongo_url: str
) -> None:
    """Hashes made before ADR 0026 (19 MiB, 2 passes) still log in, and the login
    stores the password's hash with today's settings."""
    user = auth_platform.create_user("sales")
    earlier = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
    with MongoClient[dict[str, Any]](mongo_url) as client:
        users = client[auth_platform.stack.database("auth")]["users"]
        users.update_one(
            {"_id": user["id"]}, {"$set": {"password_hash": earlier.hash(user["password"])}}
        )
        auth_platform.login(user["email"], user["password"])
        stored = users.find_one({"_id": user["id"]})
    assert stored is not None
    assert "$m=12288,t=3,p=1$" in stored["password_hash"]
    assert not needs_rehash(stored["password_hash"])


async def test_a_hash_leaves_the_event_loop_free_for_other_requests() -> None:
    hashed = await hash_password("correct horse battery staple")
    turns = 0
    done = asyncio.Event()

    async def other_requests() -> None:
        nonlocal turns
        while not done.is_set():
            turns += 1
            await asyncio.sleep(0)

    others = asyncio.create_task(other_requests())
    await asyncio.sleep(0)
    counted_from = turns
    assert await verify_password(hashed, "correct horse battery staple")
    done.set()
    await others
    # A hash on the loop's own thread lets nothing else run until it is done.
    assert turns > counted_from
