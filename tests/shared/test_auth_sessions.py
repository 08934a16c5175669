"""Page sessions keep work: they slide while used, end with "Sesi Anda berakhir", and a form posted
after the end is offered again after the login instead of being lost."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, FastAPI, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse

from shared.auth import SESSION_COOKIE, CurrentPrincipal
from shared.testing import add_account, client_for

HTML = {"Accept": "text/html"}


def form_router() -> APIRouter:
    """A page form like a service's (a proposal, a filing): needs a session and its CSRF token."""
    router = APIRouter()

    @router.post("/uji/usulan")
    async def submit(
        request: Request,
        principal: CurrentPrincipal,
        judul: Annotated[str, Form()],
        uraian: Annotated[str, Form()],
    ) -> HTMLResponse:
        return HTMLResponse(f"diterima dari {principal.username}: {judul} / {uraian}")

    @router.post("/uji/lampiran")
    async def attach(
        principal: CurrentPrincipal,
        jenis: Annotated[str, Form()],
        berkas: Annotated[UploadFile, File()],
    ) -> HTMLResponse:
        return HTMLResponse(f"{jenis}: {berkas.filename}")

    return router


async def page_login(client: httpx.AsyncClient, username: str = "siti") -> str:
    r = await client.post("/login", data={"username": username, "password": "password-123"})
    assert r.status_code == 303, r.text
    return str(r.cookies[SESSION_COOKIE])


def session_token(app: FastAPI, seconds_ago: int, *, login_seconds_ago: int | None = None) -> str:
    """A page-session token as issued `seconds_ago` to the account `siti` (id 1)."""
    tokens = app.state.tokens
    now = int(__import__("time").time())
    issued = now - seconds_ago
    claims = {
        "sub": "siti",
        "uid": 1,
        "roles": ["business_owner"],
        "name": "Siti",
        "unit": None,
        "iss": tokens.issuer,
        "auth": now - (login_seconds_ago if login_seconds_ago is not None else seconds_ago),
        "ep": 0,
        "sid": "a1b2c3",
        "ses": 1,
    }
    token, _ = tokens._sign(claims, issued)
    return str(token)


def exp_of(token: str) -> int:
    import jwt

    return int(jwt.decode(token, options={"verify_signature": False})["exp"])


async def test_a_session_in_use_slides_on_and_keeps_its_csrf_token(make_app: Any) -> None:
    app = await make_app("hayu", session_idle_minutes=60, session_max_hours=12)
    await add_account(app, "siti", ["business_owner"], name="Siti")
    old = session_token(app, seconds_ago=50 * 60)  # logged in 50 minutes ago, 10 minutes left
    async with client_for(app, cookies={SESSION_COOKIE: old}) as client:
        page = await client.get("/")
    renewed = page.cookies.get(SESSION_COOKIE)
    assert page.status_code == 200
    assert renewed is not None
    assert renewed != old
    assert exp_of(renewed) - exp_of(old) >= 49 * 60  # an hour from now, not 10 minutes
    assert app.state.tokens.csrf_token(renewed) == app.state.tokens.csrf_token(old)
    assert "httponly" in page.headers["set-cookie"].lower()


async def test_a_session_ends_at_its_hard_limit_whatever_the_use(make_app: Any) -> None:
    app = await make_app("hayu", session_idle_minutes=60, session_max_hours=8)
    await add_account(app, "siti", ["business_owner"])
    near_end = session_token(app, seconds_ago=5 * 60, login_seconds_ago=8 * 3600 - 120)
    async with client_for(app, cookies={SESSION_COOKIE: near_end}) as client:
        page = await client.get("/")
    renewed = page.cookies.get(SESSION_COOKIE)
    assert renewed is not None
    login_at = int(__import__("time").time()) - (8 * 3600 - 120)
    assert exp_of(renewed) <= login_at + 8 * 3600  # never past 8 hours after the login


async def test_an_ended_session_says_so_on_the_login_page(make_app: Any) -> None:
    app = await make_app("hayu")
    await add_account(app, "siti", ["business_owner"])
    expired = session_token(app, seconds_ago=2 * 3600)
    async with client_for(app, cookies={SESSION_COOKIE: expired}) as client:
        r = await client.get("/berkas", headers=HTML)
        assert r.status_code == 303, r.text
        assert "sesi=berakhir" in r.headers["location"]
        assert "next=%2Fberkas" in r.headers["location"]
        login_page = await client.get(r.headers["location"], headers=HTML)
    assert "Sesi Anda berakhir" in login_page.text


async def test_a_form_posted_after_the_session_ended_is_kept_through_the_login(
    make_app: Any,
) -> None:
    app = await make_app("hayu", extra_routers=[form_router()])
    await add_account(app, "siti", ["business_owner"])
    expired = session_token(app, seconds_ago=2 * 3600)
    fields = {"judul": "Izin reklame Jl. Asia Afrika", "uraian": "Papan 4 x 6 m, 25 isian lain"}
    async with client_for(app, cookies={SESSION_COOKIE: expired}) as client:
        late = await client.post(
            "/uji/usulan",
            data={**fields, "csrf_token": app.state.tokens.csrf_token(expired)},
            headers={**HTML, "Referer": "http://test/uji/formulir"},
        )
        # The login page, not a redirect: it carries the form's text along.
        assert late.status_code == 401, late.text
        assert "Isian Anda disimpan" in late.text
        kept = re.search(r'name="kept_form" value="([^"]+)"', late.text)
        assert kept is not None
        kept_form = __import__("html").unescape(kept.group(1))
        assert json.loads(kept_form) == [[k, v] for k, v in fields.items()]
        assert SESSION_COOKIE in late.headers.get("set-cookie", "")  # the dead cookie is cleared
        client.cookies.clear()
        wrong = await client.post(
            "/login",
            data={
                "username": "siti",
                "password": "salah",
                "kept_form": kept_form,
                "kept_action": "/uji/usulan",
            },
            headers=HTML,
        )
        assert wrong.status_code == 401
        assert "kept_form" in wrong.text  # still kept after a typo in the password
        again = await client.post(
            "/login",
            data={
                "username": "siti",
                "password": "password-123",
                "kept_form": kept_form,
                "kept_action": "/uji/usulan",
                "next": "/uji/formulir",
            },
            headers=HTML,
        )
        assert again.status_code == 200, again.text
        assert "Kirim ulang" in again.text
        assert 'value="Izin reklame Jl. Asia Afrika"' in again.text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', again.text)
        assert csrf is not None
        client.cookies.set(SESSION_COOKIE, again.cookies[SESSION_COOKIE])
        sent = await client.post(
            "/uji/usulan", data={**fields, "csrf_token": csrf.group(1)}, headers=HTML
        )
    assert sent.status_code == 200, sent.text
    assert sent.text == f"diterima dari siti: {fields['judul']} / {fields['uraian']}"


async def test_logging_out_ends_the_session_everywhere(make_app: Any) -> None:
    app = await make_app("hayu")
    await add_account(app, "siti", ["business_owner"], name="Siti")
    async with client_for(app) as laptop, client_for(app) as phone:
        laptop_cookie = await page_login(laptop)
        phone_cookie = await page_login(phone)
        laptop.cookies.set(SESSION_COOKIE, laptop_cookie)
        phone.cookies.set(SESSION_COOKIE, phone_cookie)
        out = await laptop.post(
            "/logout", data={"csrf_token": app.state.tokens.csrf_token(laptop_cookie)}
        )
        assert out.status_code == 303
        replay = await httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://test",
            cookies={SESSION_COOKIE: laptop_cookie},
        ).get("/api/v1/auth/me")
        on_phone = await phone.get("/api/v1/auth/me")
    assert replay.status_code == 401  # a copied cookie is dead after logout
    assert on_phone.status_code == 401  # so is the session on the other device


async def test_an_upload_posted_after_the_session_ended_says_to_choose_the_file_again(
    make_app: Any,
) -> None:
    """Before: the upload ended on "Metode tidak diizinkan" (405) and nothing said what happened.
    Now the login page keeps the text fields and says the attached file must be chosen again."""
    app = await make_app("hayu", extra_routers=[form_router()])
    await add_account(app, "siti", ["business_owner"])
    expired = session_token(app, seconds_ago=2 * 3600)
    async with client_for(app, cookies={SESSION_COOKIE: expired}) as client:
        late = await client.post(
            "/uji/lampiran",
            data={"jenis": "ktp", "csrf_token": app.state.tokens.csrf_token(expired)},
            files={"berkas": ("ktp.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")},
            headers={**HTML, "Referer": "http://test/uji/berkas/7"},
        )
    assert late.status_code == 401, late.text
    assert "Isian Anda disimpan" in late.text
    assert "Berkas yang dilampirkan perlu dipilih ulang setelah masuk." in late.text
    kept = re.search(r'name="kept_form" value="([^"]+)"', late.text)
    assert kept is not None
    assert json.loads(__import__("html").unescape(kept.group(1))) == [["jenis", "ktp"]]
    assert 'value="/uji/berkas/7"' in late.text  # back to the file's page after the login
