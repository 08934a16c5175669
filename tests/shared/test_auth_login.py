"""Login cannot be turned against users: no lock-out from another address, no username oracle,
no throttle bypass through X-Forwarded-For, no memory blow-up from a login flood."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

import shared.auth
from shared.login_guard import hash_slots
from shared.network import client_address, parse_trusted_proxies
from shared.testing import add_account, assert_problem

RIGHT = "password-123"


def from_address(app: FastAPI, address: str) -> httpx.AsyncClient:
    """A client whose TCP peer is `address`."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(address, 40000)),
        base_url="http://test",
    )


async def attempt(
    app: FastAPI, username: str, password: str, address: str, **headers: str
) -> httpx.Response:
    async with from_address(app, address) as client:
        return await client.post(
            "/api/v1/auth/token",
            data={"username": username, "password": password},
            headers=headers,
        )


async def test_guessing_a_victims_password_does_not_lock_the_victim_out(make_app: Any) -> None:
    app = await make_app("hayu", login_max_failures=5)
    await add_account(app, "siti", ["business_owner"])
    guesses = [await attempt(app, "siti", f"tebakan-{i}", "198.51.100.66") for i in range(5)]
    stopped = await attempt(app, "siti", RIGHT, "198.51.100.66")
    victim = await attempt(app, "siti", RIGHT, "203.0.113.10")
    assert [r.status_code for r in guesses] == [401] * 5
    assert_problem(stopped, 429, "too-many-requests")  # the guesser's address is stopped
    assert victim.status_code == 200, victim.text  # the victim, elsewhere, is not


async def test_an_unknown_username_is_answered_exactly_like_a_known_one(
    make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = await make_app("hayu", login_max_failures=3)
    await add_account(app, "siti", ["business_owner"])
    hashed: list[str] = []
    verify = shared.auth._verify

    def counting_verify(stored: str, password: str) -> bool:
        hashed.append(stored)
        return verify(stored, password)

    monkeypatch.setattr(shared.auth, "_verify", counting_verify)

    async def run(username: str, address: str) -> list[tuple[int, str, str | None]]:
        answers = []
        for _ in range(5):
            r = await attempt(app, username, "salah-sekali", address)
            answers.append((r.status_code, r.json()["detail"], r.headers.get("retry-after")))
        return answers

    known = await run("siti", "198.51.100.1")
    unknown = await run("tidak-ada", "198.51.100.2")
    assert [a[0] for a in known] == [401, 401, 401, 429, 429]
    assert known == unknown  # same statuses, same words, same Retry-After
    assert len(hashed) == 6  # both verified a password hash for each of their three tries


async def test_failures_from_many_addresses_lock_the_account_but_not_where_it_logs_in(
    make_app: Any,
) -> None:
    app = await make_app("hayu", login_max_failures=5, login_lock_addresses=4)
    await add_account(app, "siti", ["business_owner"])
    assert (await attempt(app, "siti", RIGHT, "203.0.113.10")).status_code == 200  # her phone
    for i in range(4):  # a botnet: one guess from each of four addresses
        assert (await attempt(app, "siti", "tebakan", f"198.51.100.{i + 1}")).status_code == 401
    fresh_bot = await attempt(app, "siti", RIGHT, "198.51.100.99")
    owner = await attempt(app, "siti", RIGHT, "203.0.113.10")
    assert_problem(fresh_bot, 429, "too-many-requests")
    assert owner.status_code == 200, owner.text


async def test_rotating_x_forwarded_for_does_not_escape_the_address_throttle(
    make_app: Any,
) -> None:
    app = await make_app("hayu", login_max_failures_per_address=3)  # no trusted proxy
    await add_account(app, "siti", ["business_owner"])
    for i in range(3):
        r = await attempt(
            app, f"tebakan{i}", "x", "198.51.100.7", **{"X-Forwarded-For": f"10.9.8.{i}"}
        )
        assert r.status_code == 401
    sprayed = await attempt(
        app, "siti", RIGHT, "198.51.100.7", **{"X-Forwarded-For": "192.0.2.200"}
    )
    assert_problem(sprayed, 429, "too-many-requests")


async def test_citizens_behind_a_trusted_gateway_are_told_apart(make_app: Any) -> None:
    app = await make_app(
        "hayu", login_max_failures_per_address=3, trusted_proxies="10.0.0.0/8, 192.168.7.1"
    )
    await add_account(app, "siti", ["business_owner"])
    gateway = "10.1.2.3"
    for i in range(3):  # one citizen sprays through the gateway; she writes a fake hop first
        r = await attempt(
            app,
            f"tebakan{i}",
            "x",
            gateway,
            **{"X-Forwarded-For": f"192.0.2.{i}, 198.51.100.66"},
        )
        assert r.status_code == 401
    spammer = await attempt(
        app, "siti", RIGHT, gateway, **{"X-Forwarded-For": "192.0.2.50, 198.51.100.66"}
    )
    neighbour = await attempt(app, "siti", RIGHT, gateway, **{"X-Forwarded-For": "203.0.113.5"})
    assert_problem(spammer, 429, "too-many-requests")  # the fake left-hand hop changed nothing
    assert neighbour.status_code == 200, neighbour.text


def test_client_address_reads_forwarded_for_only_from_trusted_proxies() -> None:
    from starlette.requests import Request

    def address(peer: str, xff: str | None, trusted: str) -> str:
        class State:
            trusted_proxies = parse_trusted_proxies(trusted)

        class App:
            state = State()

        headers = [(b"x-forwarded-for", xff.encode())] if xff is not None else []
        scope = {"type": "http", "client": (peer, 1), "headers": headers, "app": App()}
        return client_address(Request(scope))

    assert address("198.51.100.1", "1.2.3.4", "") == "198.51.100.1"
    assert address("198.51.100.1", "1.2.3.4", "10.0.0.0/8") == "198.51.100.1"
    assert address("10.0.0.2", "1.2.3.4, 203.0.113.9", "10.0.0.0/8") == "203.0.113.9"
    assert address("10.0.0.2", "203.0.113.9, 10.0.0.7", "10.0.0.0/8") == "203.0.113.9"
    assert address("10.0.0.2", "garbage", "10.0.0.0/8") == "10.0.0.2"
    assert address("10.0.0.2", None, "10.0.0.0/8") == "10.0.0.2"
    assert address("2001:db8::5", "[2001:db8:1::9]:443", "2001:db8::/64") == "2001:db8:1::9"


def test_a_bad_trusted_proxy_stops_start_up() -> None:
    from hayu.settings import Settings

    with pytest.raises(ValueError, match="not-an-ip"):
        Settings(trusted_proxies="10.0.0.0/8, not-an-ip")


async def test_concurrent_password_hashes_are_bounded_and_overflow_gets_503(
    make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """40 simultaneous logins never run more than the configured number of argon2 hashes (64 MiB
    each) at once; those that cannot get a slot in time are told to retry."""
    app = await make_app("hayu", password_hash_concurrency=2, password_hash_wait_seconds=0.5)
    await add_account(app, "siti", ["business_owner"])
    release = threading.Event()
    running = 0
    most = 0
    lock = threading.Lock()
    verify = shared.auth._verify

    def held_verify(stored: str, password: str) -> bool:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        release.wait(5)
        with lock:
            running -= 1
        return verify(stored, password)

    monkeypatch.setattr(shared.auth, "_verify", held_verify)
    tasks = [
        asyncio.create_task(attempt(app, "siti", RIGHT, f"198.51.100.{i + 1}")) for i in range(40)
    ]
    # The two hashes are held until released; the others wait 0.5 s for a slot and are answered
    # 503. Release only once the first of them is answered (however slow the machine).
    deadline = time.monotonic() + 30
    while not any(t.done() for t in tasks) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    release.set()
    answers = await asyncio.gather(*tasks)
    statuses = sorted(r.status_code for r in answers)
    assert most == 2
    assert statuses.count(200) >= 2
    assert set(statuses) == {200, 503}
    busy = next(r for r in answers if r.status_code == 503)
    assert_problem(busy, 503, "service-unavailable")
    assert busy.headers["retry-after"] == "2"
    assert hash_slots.concurrency == 2


async def test_session_cookies_are_secure_behind_https(make_app: Any) -> None:
    async def cookie(app: FastAPI, peer: str, **headers: str) -> str:
        await add_account(app, "siti", ["business_owner"])
        async with from_address(app, peer) as client:
            r = await client.post(
                "/login", data={"username": "siti", "password": RIGHT}, headers=headers
            )
        assert r.status_code == 303, r.text
        return r.headers["set-cookie"].lower()

    public = await make_app("hayu", public_url="https://perizinan.example.go.id")
    proxied = await make_app("hayu", trusted_proxies="10.0.0.0/8")
    assert "; secure" in await cookie(public, "198.51.100.1")
    assert "; secure" in await cookie(proxied, "10.0.0.3", **{"X-Forwarded-Proto": "https"})
    untrusted = await make_app("hayu")
    assert "; secure" not in await cookie(
        untrusted, "198.51.100.1", **{"X-Forwarded-Proto": "https"}
    )
