"""Headers, cross-site forms, cookies, /metrics, API docs, PUBLIC_URL and production seed-demo."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy import func, select

from shared.testing import add_account, assert_problem, client_for

KEY = base64.urlsafe_b64encode(b"k" * 32).decode()
SEED = base64.urlsafe_b64encode(b"s" * 32).decode()
PRODUCTION = {
    "environment": "production",
    "secret_key": "a-real-secret-" + "x" * 30,
    "data_key": KEY,
    "signing_seed": SEED,
}


def _client_from(app: FastAPI, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def test_every_answer_carries_the_security_headers(make_app: Any) -> None:
    app = await make_app("hayu")
    async with client_for(app) as client:
        answers = [
            await client.get("/", headers={"accept": "text/html"}),
            await client.get("/login"),
            await client.get("/api/v1/permit-types"),
            await client.get("/tidak-ada"),
            await client.post(
                "/api/v1/applications",
                content=b"{}",
                headers={"content-type": "application/json", "content-length": str(50 * 2**20)},
            ),
        ]
    assert [a.status_code for a in answers] == [200, 200, 200, 404, 413]
    for answer in answers:
        csp = answer.headers["content-security-policy"]
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
        assert directives["script-src"] == "'self'"  # no inline script, no CDN
        assert directives["frame-ancestors"] == "'none'"
        assert "unsafe-inline" not in directives["default-src"]
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["referrer-policy"] == "same-origin"
    page = answers[0].text
    assert "<script>" not in page
    assert "<script src=" in page  # htmx from /static


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "https://penipu.example"},
        {"origin": "null"},
        {"sec-fetch-site": "cross-site", "origin": "https://penipu.example"},
        {"sec-fetch-site": "same-site"},
    ],
    ids=["foreign-origin", "null-origin", "fetch-metadata-cross-site", "fetch-metadata-same-site"],
)
async def test_a_cross_site_login_or_registration_form_is_refused(
    make_app: Any, headers: dict[str, str]
) -> None:
    app = await make_app("hayu")
    await add_account(app, "pemilik", ["business_owner"])
    form = {"username": "pemilik", "password": "password-123"}
    async with client_for(app) as client:
        login = await client.post("/login", data=form, headers=headers)
        assert_problem(login, 403)
        assert "set-cookie" not in login.headers
        register = await client.post(
            "/daftar",
            data={"username": "korban1", "password": "sandi-yang-panjang-1", "full_name": "K"},
            headers=headers,
        )
        assert_problem(register, 403)
    async with app.state.db.sessionmaker() as session:
        model = app.state.models.account
        count = await session.scalar(select(func.count()).select_from(model))
    assert count == 1  # nobody was registered
    # the refusal is an answer of this site like any other: request id and protective headers
    assert login.headers["x-request-id"] == login.json()["request_id"]
    assert login.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in login.headers["content-security-policy"]


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "http://test", "sec-fetch-site": "same-origin"},
        {"origin": "http://test"},
        {"origin": "https://test"},  # behind a TLS-terminating gateway
        {},  # not a browser
    ],
    ids=["fetch-metadata", "origin", "origin-behind-tls", "no-browser-headers"],
)
async def test_the_sites_own_login_form_is_accepted(make_app: Any, headers: dict[str, str]) -> None:
    app = await make_app("hayu")
    await add_account(app, "pemilik", ["business_owner"])
    async with client_for(app) as client:
        login = await client.post(
            "/login", data={"username": "pemilik", "password": "password-123"}, headers=headers
        )
    assert login.status_code == 303, login.text
    assert "sesi" in login.headers["set-cookie"].lower() or login.headers["set-cookie"]


async def test_the_session_cookie_is_secure_when_the_public_url_is_https(make_app: Any) -> None:
    form = {"username": "pemilik", "password": "password-123"}
    app = await make_app("hayu", public_url="https://izin.example.go.id")
    await add_account(app, "pemilik", ["business_owner"])
    async with client_for(app) as client:  # plain http: a gateway terminated TLS
        login = await client.post("/login", data=form)
    assert login.status_code == 303
    assert "secure" in login.headers["set-cookie"].lower()

    plain = await make_app("hayu")
    await add_account(plain, "pemilik", ["business_owner"])
    async with client_for(plain) as client:
        login = await client.post("/login", data=form)
    assert "secure" not in login.headers["set-cookie"].lower()  # local development over http


async def test_metrics_are_for_allowed_networks_or_the_token(make_app: Any) -> None:
    app = await make_app("hayu", metrics_token="rahasia-pemantauan-123")
    async with _client_from(app, "127.0.0.1") as local:
        assert (await local.get("/metrics")).status_code == 200
        proxied = await local.get("/metrics", headers={"x-forwarded-for": "203.0.113.9"})
        assert_problem(proxied, 403)
    async with _client_from(app, "203.0.113.9") as outsider:
        assert_problem(await outsider.get("/metrics"), 403)
        wrong = await outsider.get("/metrics", headers={"authorization": "Bearer salah"})
        assert_problem(wrong, 403)
        right = await outsider.get(
            "/metrics", headers={"authorization": "Bearer rahasia-pemantauan-123"}
        )
        assert right.status_code == 200
        assert "http_requests_total" in right.text
    other = await make_app("hayu", metrics_allowed_networks=["10.0.0.0/8"])
    async with _client_from(other, "10.1.2.3") as scraper:
        assert (await scraper.get("/metrics")).status_code == 200
    async with _client_from(other, "127.0.0.1") as local:
        assert_problem(await local.get("/metrics"), 403)


def test_production_requires_a_public_url() -> None:
    from hayu.settings import Settings

    with pytest.raises(ValidationError, match="HAYU_PUBLIC_URL must be set in production"):
        Settings(**PRODUCTION)
    with pytest.raises(ValidationError, match="absolute http"):
        Settings(**PRODUCTION, public_url="izin.example.go.id")
    with pytest.raises(ValidationError):
        Settings(metrics_allowed_networks=["bukan-jaringan"])
    ok = Settings(**PRODUCTION, public_url="https://izin.example.go.id/")
    assert ok.public_url == "https://izin.example.go.id"


async def test_api_docs_are_off_in_production(tmp_path: Path) -> None:
    from hayu.main import create_app
    from hayu.settings import Settings

    settings = Settings(
        **PRODUCTION,
        public_url="https://izin.example.go.id",
        database_url=f"sqlite:///{tmp_path / 'hayu.db'}",
        background_tasks=False,
    )
    app = create_app(settings)
    async with client_for(app) as client:
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert (await client.get(path)).status_code == 404
    await app.state.db.dispose()


def test_seed_demo_refuses_production(tmp_path: Path) -> None:
    database = tmp_path / "hayu.db"
    env = {
        **os.environ,
        "HAYU_DATABASE_URL": f"sqlite:///{database}",
        "HAYU_PUBLIC_URL": "https://izin.example.go.id",
        **{f"HAYU_{k.upper()}": v for k, v in PRODUCTION.items()},
    }
    result = subprocess.run(
        [sys.executable, "-m", "hayu", "seed-demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "refuses to run in production" in result.stderr
    assert not database.exists()  # nothing was touched


def test_an_answer_keeps_the_protective_headers_it_sets_itself() -> None:
    from shared.security import CSP, HEADERS, BrowserGuard

    guard = BrowserGuard()
    plain = [(b"content-type", b"application/json")]
    guard.add_headers(plain, "/api/v1/x")
    assert plain[1:] == [*HEADERS, (b"content-security-policy", CSP.encode())]
    own = [(b"Content-Security-Policy", b"default-src 'none'"), (b"x-frame-options", b"DENY")]
    guard.add_headers(own, "/api/v1/x")
    names = [name.lower() for name, _ in own]
    assert sorted(names) == sorted(set(names))  # nothing twice, whatever the case
    assert own[0] == (b"Content-Security-Policy", b"default-src 'none'")
    assert {name for name, _ in HEADERS} <= set(names)
    docs: list[tuple[bytes, bytes]] = []
    guard.add_headers(docs, "/docs")  # the API documentation loads its scripts from a CDN
    assert docs == list(HEADERS)
