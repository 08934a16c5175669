"""Tokens end with what they stand for: password change, deactivation, role removal, logout, and
a temporary password that must be changed first — on every replica, within seconds, without a
database round trip per request."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import event, update

from shared.testing import add_account, assert_problem, bearer, client_for

REFRESH = 0.3  # seconds between two reads of the revoked epochs, per process
DEADLINE = 5.0  # what the platform promises: refused within 5 s everywhere


@pytest.fixture
async def replicas(make_app: Any) -> AsyncIterator[Callable[..., Awaitable[list[FastAPI]]]]:
    """Two processes' worth of the same service on one database (as behind a load balancer)."""
    extra: list[FastAPI] = []

    async def make(service: str = "hayu", **overrides: Any) -> list[FastAPI]:
        overrides.setdefault("revocation_refresh_seconds", REFRESH)
        first = await make_app(service, **overrides)
        module = __import__(f"{service}.main", fromlist=["create_app"])
        second = module.create_app(first.state.settings.model_copy())
        extra.append(second)
        return [first, second]

    yield make
    for app in extra:
        await app.state.db.dispose()


async def refused_within(app: FastAPI, headers: dict[str, str], seconds: float) -> float:
    """Seconds until `app` refuses the token (fails the test past `seconds`)."""
    started = time.monotonic()
    async with client_for(app) as client:
        while True:
            response = await client.get("/api/v1/auth/me", headers=headers)
            if response.status_code == 401:
                assert_problem(response, 401, "session-ended")
                return time.monotonic() - started
            assert response.status_code == 200, response.text
            if time.monotonic() - started > seconds:
                pytest.fail(f"the token still works {seconds} s after it was revoked")
            await asyncio.sleep(0.05)


async def tokens_on_both(apps: list[FastAPI], username: str) -> dict[str, str]:
    async with client_for(apps[0]) as client:
        headers = await bearer(client, username)
    for app in apps:  # both replicas accept it (and have read the epochs once)
        async with client_for(app) as client:
            assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 200
    return headers


async def change_account(app: FastAPI, username: str, **values: Any) -> None:
    model = app.state.models.account
    async with app.state.db.sessionmaker.begin() as session:
        await session.execute(update(model).where(model.username == username).values(**values))


@pytest.mark.parametrize(
    "change",
    [
        {"active": False},
        {"roles": []},
        {"roles": ["business_owner"]},
        {"unit": "DPMPTSP"},
        {"password_hash": "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"},
    ],
    ids=["deactivated", "every-role-removed", "role-changed", "unit-changed", "password-reset"],
)
async def test_a_changed_account_loses_its_tokens_on_every_replica(
    replicas: Any, change: dict[str, Any]
) -> None:
    apps = await replicas("hayu")
    await add_account(apps[0], "petugas", ["officer"])
    headers = await tokens_on_both(apps, "petugas")
    # Changed directly in the database, as an administrator's SQL or another service would:
    # the trigger raises the epoch, whatever wrote the change.
    await change_account(apps[0], "petugas", **change)
    for app in apps:
        assert await refused_within(app, headers, DEADLINE) <= DEADLINE


async def test_an_unrelated_change_keeps_the_token(replicas: Any) -> None:
    apps = await replicas("hayu")
    await add_account(apps[0], "petugas", ["officer"])
    headers = await tokens_on_both(apps, "petugas")
    await change_account(apps[0], "petugas", full_name="Nama Baru")
    await asyncio.sleep(REFRESH * 2)
    async with client_for(apps[1]) as client:
        assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 200


async def test_logout_ends_the_token_here_at_once_and_on_other_replicas(replicas: Any) -> None:
    apps = await replicas("sabilulungan")
    await add_account(apps[0], "pemohon", ["applicant"])
    headers = await tokens_on_both(apps, "pemohon")
    async with client_for(apps[0]) as client:
        anonymous = await client.post("/api/v1/auth/logout")
        out = await client.post("/api/v1/auth/logout", headers=headers)
        again = await client.get("/api/v1/auth/me", headers=headers)
    assert_problem(anonymous, 401)
    assert out.status_code == 204
    assert_problem(again, 401, "session-ended")  # the replica that logged out: at once
    assert await refused_within(apps[1], headers, DEADLINE) <= DEADLINE
    async with client_for(apps[1]) as client:  # a new login works
        fresh = await bearer(client, "pemohon")
        assert (await client.get("/api/v1/auth/me", headers=fresh)).status_code == 200


async def test_a_password_change_ends_older_tokens_and_returns_a_new_one(make_app: Any) -> None:
    app = await make_app("erk", revocation_refresh_seconds=REFRESH)
    await add_account(app, "198503152010011001", ["employee"], password="sandi-lama-123")
    async with client_for(app) as client:
        old = await bearer(client, "198503152010011001", "sandi-lama-123")
        wrong = await client.post(
            "/api/v1/auth/password",
            json={"current_password": "bukan-ini", "new_password": "sandi-baru-456"},
            headers=old,
        )
        short = await client.post(
            "/api/v1/auth/password",
            json={"current_password": "sandi-lama-123", "new_password": "pendek"},
            headers=old,
        )
        changed = await client.post(
            "/api/v1/auth/password",
            json={"current_password": "sandi-lama-123", "new_password": "sandi-baru-456"},
            headers=old,
        )
        assert changed.status_code == 200, changed.text
        new = {"Authorization": f"Bearer {changed.json()['access_token']}"}
        old_me = await client.get("/api/v1/auth/me", headers=old)
        new_me = await client.get("/api/v1/auth/me", headers=new)
        old_password = await client.post(
            "/api/v1/auth/token",
            data={"username": "198503152010011001", "password": "sandi-lama-123"},
        )
    assert_problem(wrong, 422, "password-not-changed")
    assert_problem(short, 422, "password-not-changed")
    assert_problem(old_me, 401, "session-ended")
    assert new_me.status_code == 200
    assert_problem(old_password, 401)


async def test_a_temporary_password_gives_a_token_good_only_for_changing_it(
    make_app: Any,
) -> None:
    app = await make_app("erk")
    nip = "198503152010011001"
    await add_account(app, nip, ["employee"], password="sandi-awal-123")
    await change_account(app, nip, must_change_password=True)
    async with client_for(app) as client:
        temporary = await bearer(client, nip, "sandi-awal-123")
        me = await client.get("/api/v1/auth/me", headers=temporary)
        refused = [
            await client.get("/api/v1/activities", headers=temporary),
            await client.post("/api/v1/activities", json={}, headers=temporary),
            await client.get("/api/v1/audit/events", headers=temporary),
        ]
        changed = await client.post(
            "/api/v1/auth/password",
            json={"current_password": "sandi-awal-123", "new_password": "sandi-pribadi-9"},
            headers=temporary,
        )
        full = {"Authorization": f"Bearer {changed.json()['access_token']}"}
        listed = await client.get("/api/v1/activities", headers=full)
        after = await client.get("/api/v1/activities", headers=temporary)
    assert me.status_code == 200
    for response in refused:
        assert_problem(response, 403, "password-change-required")
    assert changed.status_code == 200
    # The full token reaches the service (which has no employee record for this account).
    assert_problem(listed, 404, "employee-not-found")
    assert_problem(after, 401, "session-ended")


async def test_checking_revocation_adds_no_query_to_requests(make_app: Any) -> None:
    """Requests cost no statement on the request pool; the process reads the revoked epochs at
    most once per interval, on its own connection, shared by every request."""
    app = await make_app("hayu", revocation_refresh_seconds=60)
    await add_account(app, "petugas", ["officer"])
    epochs = app.state.account_epochs
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    async with client_for(app) as client:
        headers = await bearer(client, "petugas")
        engine = app.state.db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", record)
        try:
            responses = [await client.get("/api/v1/auth/me", headers=headers) for _ in range(30)]
        finally:
            event.remove(engine, "before_cursor_execute", record)
    assert {r.status_code for r in responses} == {200}
    assert seen == []
    assert epochs.reads == 1


@pytest.mark.parametrize("service", ["hayu", "sabilulungan", "erk"])
async def test_a_hash_upgrade_at_login_keeps_other_sessions_a_new_password_ends_them(
    make_app: Any, monkeypatch: pytest.MonkeyPatch, service: str
) -> None:
    """New argon2 parameters re-hash a password at its next login; that is the same password,
    so the account's other tokens stay good. A new password still ends them."""
    from argon2 import PasswordHasher
    from sqlalchemy import select

    import shared.auth

    app = await make_app(service, revocation_refresh_seconds=REFRESH)
    await add_account(app, "akun", [])
    model = app.state.models.account

    async def stored() -> tuple[str, int, int]:
        async with app.state.db.sessionmaker() as session:
            row = (await session.execute(select(model).where(model.username == "akun"))).one()[0]
            return row.password_hash, row.token_epoch, row.password_rehashes

    async with client_for(app) as client:
        first = await bearer(client, "akun")
        hash_before, epoch_before, _ = await stored()
        # the regency raises the argon2 cost: the next login upgrades the stored hash
        stronger = PasswordHasher(time_cost=2, memory_cost=1024, parallelism=1)
        monkeypatch.setattr(shared.auth, "_hasher", stronger)
        assert stronger.check_needs_rehash(hash_before)
        second = await bearer(client, "akun")
        hash_after, epoch_after, rehashes = await stored()
        assert hash_after != hash_before
        assert not stronger.check_needs_rehash(hash_after)
        assert (epoch_after, rehashes) == (epoch_before, 1)
        await asyncio.sleep(REFRESH * 2)  # past the revocation refresh: nothing was revoked
        for headers in (first, second):
            assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 200
    # a real new password (here written as SQL would) still ends every earlier token, also when
    # it comes with the same parameters as the upgraded one
    await change_account(app, "akun", password_hash=stronger.hash("sandi-baru-456"))
    assert (await stored())[1] == epoch_before + 1
    for headers in (first, second):
        assert await refused_within(app, headers, DEADLINE) <= DEADLINE
