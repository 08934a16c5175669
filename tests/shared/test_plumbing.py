"""The common behaviour every service gets from the shared app factory."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from sqlalchemy import func, select

from shared.auth import SESSION_COOKIE
from shared.pagination import encode_cursor
from shared.testing import (
    BACKEND,
    PROBE_SECRET,
    SERVICES,
    add_account,
    assert_problem,
    bearer,
    client_for,
    probe_router,
)


async def hayu_with_test_routes(make_app: Any) -> FastAPI:
    """The HAYU app with the probe routes: body validation, idempotency and a crash."""
    app: FastAPI = await make_app("hayu", extra_routers=[probe_router()])
    return app


@pytest.mark.parametrize("service", SERVICES)
async def test_health_ready_and_landing_page(make_app: Any, service: str) -> None:
    app = await make_app(service)
    async with client_for(app) as client:
        assert (await client.get("/health")).json()["status"] == "ok"
        ready = await client.get("/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json()["status"] == "ready"
        page = await client.get("/")
        assert page.status_code == 200
        assert '<html lang="id">' in page.text
        metrics = await client.get("/metrics")
        assert "http_requests_total" in metrics.text
        assert 'route="/health"' in metrics.text


async def test_metrics_are_valid_prometheus_text(make_app: Any) -> None:
    parser = pytest.importorskip("prometheus_client.parser")
    app = await make_app("sabilulungan")
    async with client_for(app) as client:
        for _ in range(3):
            await client.get("/health")
        await client.get("/no-such-page")
        response = await client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    families = {f.name: f for f in parser.text_string_to_metric_families(response.text)}
    assert families["http_requests"].type == "counter"
    health = [
        s
        for s in families["http_requests"].samples
        if s.labels
        == {"service": "sabilulungan", "method": "GET", "route": "/health", "status": "200"}
    ]
    assert [s.value for s in health] == [3.0]
    latency = families["http_request_duration_seconds"]
    assert latency.type == "histogram"
    buckets = [
        s
        for s in latency.samples
        if s.name.endswith("_bucket") and s.labels.get("route") == "/health"
    ]
    assert buckets[-1].labels["le"] == "+Inf"
    assert buckets[-1].value == 3.0
    assert [b.value for b in buckets] == sorted(b.value for b in buckets)  # cumulative
    counts = [s for s in latency.samples if s.name.endswith("_count")]
    assert any(s.labels.get("route") == "unmatched" for s in counts)


async def test_ready_is_503_when_migrations_are_behind(make_app: Any) -> None:
    app = await make_app("hayu")
    app.state.migration_head = "a-revision-not-applied"
    async with client_for(app) as client:
        response = await client.get("/ready")
    body = assert_problem(response, 503, "service-unavailable")
    assert "a-revision-not-applied" in body["detail"]
    assert response.headers["retry-after"]


async def test_missing_path_and_wrong_method_are_problems(make_app: Any) -> None:
    app = await make_app("erk")
    async with client_for(app) as client:
        missing = await client.get("/api/v1/no-such-thing")
        wrong_method = await client.delete("/health")
    assert assert_problem(missing, 404)["instance"] == "/api/v1/no-such-thing"
    assert_problem(wrong_method, 405)


async def test_browser_gets_an_indonesian_error_page(make_app: Any) -> None:
    app = await make_app("sabilulungan")
    async with client_for(app) as client:
        response = await client.get("/tidak-ada", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert "Halaman tidak ditemukan" in response.text


async def test_malformed_json_is_a_422_problem_and_nothing_is_written(make_app: Any) -> None:
    app = await hayu_with_test_routes(make_app)
    async with client_for(app) as client:
        malformed = await client.post(
            "/api/v1/probe/things",
            content=b"{not json",
            headers={"content-type": "application/json"},
        )
        invalid = await client.post("/api/v1/probe/things", json={"name": "", "amount_idr": -1})
    body = assert_problem(malformed, 422, "validation-error")
    assert body["errors"][0]["type"] == "json_invalid"
    body = assert_problem(invalid, 422, "validation-error")
    assert {tuple(e["loc"]) for e in body["errors"]} == {("body", "name"), ("body", "amount_idr")}
    from hayu.models import AuditEvent

    async with app.state.db.sessionmaker() as session:
        written = await session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.entity_type == "thing")
        )
    assert written == 0


async def test_unexpected_error_is_a_500_that_leaks_nothing(make_app: Any) -> None:
    app = await hayu_with_test_routes(make_app)
    async with client_for(app) as client:
        response = await client.get("/api/v1/probe/boom")
    body = assert_problem(response, 500)
    assert PROBE_SECRET not in response.text
    assert "RuntimeError" not in response.text
    assert body["request_id"] == response.headers["x-request-id"]
    # answered by the request frame outside the app, yet with the protective headers
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_idempotency_key_replays_without_a_second_write(make_app: Any) -> None:
    app = await hayu_with_test_routes(make_app)
    from hayu.models import AuditEvent

    payload = {"name": "lampu", "amount_idr": 1500000}
    async with client_for(app) as client:
        first = await client.post(
            "/api/v1/probe/things", json=payload, headers={"Idempotency-Key": "k-1"}
        )
        again = await client.post(
            "/api/v1/probe/things", json=payload, headers={"Idempotency-Key": "k-1"}
        )
        other_body = await client.post(
            "/api/v1/probe/things",
            json={**payload, "amount_idr": 2},
            headers={"Idempotency-Key": "k-1"},
        )
        without_key = await client.post("/api/v1/probe/things", json=payload)
    assert first.status_code == 201
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert_problem(other_body, 422, "idempotency-key-reused")
    assert without_key.status_code == 201
    async with app.state.db.sessionmaker() as session:
        written = await session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.entity_type == "thing")
        )
    assert written == 2  # the first request and the one without a key


async def test_wrong_password_and_wrong_role(make_app: Any) -> None:
    app = await make_app("hayu")
    await add_account(app, "petugas", ["officer"])
    async with client_for(app) as client:
        wrong = await client.post(
            "/api/v1/auth/token", data={"username": "petugas", "password": "not-it"}
        )
        unknown = await client.post(
            "/api/v1/auth/token", data={"username": "nobody", "password": "not-it"}
        )
        headers = await bearer(client, "petugas")
        me = await client.get("/api/v1/auth/me", headers=headers)
        forbidden = await client.get("/api/v1/audit/events", headers=headers)
        anonymous = await client.get("/api/v1/audit/events")
        garbage = await client.get("/api/v1/auth/me", headers={"Authorization": "Bearer x.y.z"})
    assert_problem(wrong, 401, "unauthorized")
    assert wrong.json()["detail"] == unknown.json()["detail"]  # no hint which one was wrong
    assert me.json()["roles"] == ["officer"]
    assert assert_problem(forbidden, 403, "forbidden")["required_roles"] == ["admin", "auditor"]
    assert_problem(anonymous, 401)
    assert_problem(garbage, 401)


async def test_openapi_declares_the_problem_statuses(make_app: Any) -> None:
    app = await make_app("hayu")
    async with client_for(app) as client:
        spec = (await client.get("/openapi.json")).json()
    token = spec["paths"]["/api/v1/auth/token"]["post"]["responses"]
    events = spec["paths"]["/api/v1/audit/events"]["get"]["responses"]
    assert {"200", "401", "422", "429", "500"} <= set(token)
    assert {"401", "403", "422"} <= set(events)
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    assert events["403"]["content"]["application/problem+json"]["schema"] == problem_ref
    assert token["422"]["content"]["application/problem+json"]["schema"] == problem_ref
    assert "Problem" in spec["components"]["schemas"]


async def test_failed_logins_lock_the_account_for_a_while(make_app: Any) -> None:
    app = await make_app("erk", login_max_failures=3, login_lockout_seconds=120)
    await add_account(app, "198503152010011001", ["employee"], password="right-password")
    async with client_for(app) as client:
        for _ in range(3):
            response = await client.post(
                "/api/v1/auth/token",
                data={"username": "198503152010011001", "password": "wrong"},
            )
            assert_problem(response, 401)
        locked = await client.post(
            "/api/v1/auth/token",
            data={"username": "198503152010011001", "password": "right-password"},
        )
    assert_problem(locked, 429, "too-many-requests")
    assert 100 <= int(locked.headers["retry-after"]) <= 121


async def test_cookie_session_needs_the_csrf_token_on_forms(make_app: Any) -> None:
    app = await make_app("hayu")
    await add_account(app, "kepala", ["approver"], name="Agus")
    async with client_for(app) as client:
        bad = await client.post("/login", data={"username": "kepala", "password": "salah"})
        assert bad.status_code == 401
        assert "salah" in bad.text
        login = await client.post(
            "/login",
            data={"username": "kepala", "password": "password-123", "next": "//evil.example"},
        )
        assert login.status_code == 303
        assert login.headers["location"] == "/"  # never redirected off-site
        cookie = login.cookies[SESSION_COOKIE]
        assert "httponly" in login.headers["set-cookie"].lower()
        assert "samesite=lax" in login.headers["set-cookie"].lower()
        client.cookies.set(SESSION_COOKIE, cookie)
        home = await client.get("/")
        assert "Agus" in home.text
        forged = await client.post("/logout", data={})
        assert forged.status_code == 403
        csrf = app.state.tokens.csrf_token(cookie)
        logout = await client.post("/logout", data={"csrf_token": csrf})
        assert logout.status_code == 303


async def test_request_id_is_echoed_and_generated(make_app: Any) -> None:
    app = await make_app("hayu")
    async with client_for(app) as client:
        given = await client.get("/health", headers={"X-Request-ID": "abcdef123456"})
        generated = await client.get("/health")
        hostile = await client.get("/health", headers={"X-Request-ID": "<script>"})
    assert given.headers["x-request-id"] == "abcdef123456"
    assert len(generated.headers["x-request-id"]) == 32
    assert hostile.headers["x-request-id"] != "<script>"


async def test_audit_events_are_paged_by_keyset(make_app: Any) -> None:
    app = await make_app("sabilulungan")
    for i in range(5):
        await add_account(app, f"user{i}", ["applicant"])
    async with client_for(app) as client:
        await add_account(app, "auditor", ["auditor"])
        headers = await bearer(client, "auditor")
        seen: list[int] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 2, "entity_type": "account"}
            if cursor:
                params["cursor"] = cursor
            page = (await client.get("/api/v1/audit/events", params=params, headers=headers)).json()
            seen.extend(item["id"] for item in page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        bad_cursor = await client.get(
            "/api/v1/audit/events", params={"cursor": "!!!"}, headers=headers
        )
        huge = encode_cursor([2**70])
        overflow = await client.get(
            "/api/v1/audit/events", params={"cursor": huge}, headers=headers
        )
        too_big = await client.get("/api/v1/audit/events", params={"limit": 101}, headers=headers)
    assert len(seen) == 6
    assert seen == sorted(seen, reverse=True)
    assert len(set(seen)) == 6
    assert_problem(bad_cursor, 400, "invalid-cursor")
    assert_problem(overflow, 400, "invalid-cursor")
    assert_problem(too_big, 422)


async def test_concurrent_requests_each_get_their_own_transaction(make_app: Any) -> None:
    app = await make_app("hayu")
    await add_account(app, "petugas", ["officer"])
    async with client_for(app) as client:
        headers = await bearer(client, "petugas")
        responses = await asyncio.gather(
            *(client.get("/api/v1/auth/me", headers=headers) for _ in range(20))
        )
    assert {r.status_code for r in responses} == {200}


async def test_failed_logins_from_one_address_are_throttled_across_accounts(make_app: Any) -> None:
    app = await make_app("hayu", login_max_failures_per_address=4)
    await add_account(app, "pemilik", ["business_owner"])
    async with client_for(app) as client:
        for i in range(4):
            response = await client.post(
                "/api/v1/auth/token", data={"username": f"tebakan{i}", "password": "x"}
            )
            assert_problem(response, 401)
        sprayed = await client.post(
            "/api/v1/auth/token", data={"username": "pemilik", "password": "password-123"}
        )
    assert_problem(sprayed, 429, "too-many-requests")
    assert int(sprayed.headers["retry-after"]) > 0


async def test_overload_is_shed_with_503_and_retry_after(make_app: Any) -> None:
    import asyncio as aio

    release = aio.Event()
    slow = APIRouter()

    @slow.get("/api/v1/probe/slow")
    async def slow_route() -> dict[str, bool]:
        await release.wait()
        return {"ok": True}

    app = await make_app("hayu", extra_routers=[slow], max_in_flight=2, admission_wait_seconds=0.2)
    async with client_for(app) as client:
        held = [aio.create_task(client.get("/api/v1/probe/slow")) for _ in range(2)]
        await aio.sleep(0.1)
        shed = await client.get("/api/v1/probe/slow")
        health = await client.get("/health")
        release.set()
        done = await aio.gather(*held)
    body = assert_problem(shed, 503)
    assert shed.headers["retry-after"] == "2"
    assert body["request_id"] == shed.headers["x-request-id"]
    assert health.status_code == 200  # monitoring always gets through
    assert [r.status_code for r in done] == [200, 200]


async def test_nul_byte_in_text_is_a_422_and_nothing_is_written(make_app: Any) -> None:
    app = await hayu_with_test_routes(make_app)
    async with client_for(app) as client:
        response = await client.post(
            "/api/v1/probe/things", json={"name": "lampu\u0000", "amount_idr": 1}
        )
    model = app.state.models.audit_event
    async with app.state.db.sessionmaker() as session:
        written = await session.scalar(
            select(func.count()).select_from(model).where(model.entity_type == "thing")
        )
    if BACKEND == "postgres":
        assert_problem(response, 422, "invalid-characters")
        assert written == 0
    else:  # SQLite stores the character as it is
        assert response.status_code == 201
        assert written == 1
