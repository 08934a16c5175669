"""What people read when something goes wrong: Bahasa Indonesia, the menu kept, their input kept."""

from __future__ import annotations

import re

import pytest
from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field, ValidationError

from shared.pesan import angka, field_errors, label_of
from shared.testing import add_account, client_for

HTML = {"Accept": "text/html"}
# What the framework says in English; none of it may reach a page.
ENGLISH = (
    "Field required",
    "Input should be",
    "valid integer",
    "Not Found",
    "Method Not Allowed",
    "Internal Server Error",
    "Request validation failed",
    "The request is not valid",
    "An unexpected error",
    "String should have",
    "Value error",
    "query.",
    "body.",
    "not found",
    "Missing",
)
MENU = {"sabilulungan": "/transparansi", "hayu": "/statistik", "erk": "/login"}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def assert_indonesian(text: str) -> None:
    found = [phrase for phrase in ENGLISH if phrase in text]
    assert not found, f"English framework text on the page: {found}"


def _text(html: str) -> str:
    """What a person reads: the HTML without its tags, attributes and stylesheet names."""
    return re.sub(r"<[^>]+>", " ", html)


async def test_a_bad_query_value_shows_the_page_itself_with_an_indonesian_message(make_app):
    app = await make_app("sabilulungan")
    async with client_for(app) as client:
        response = await client.get("/transparansi?tahun=abc", headers=HTML)
        wrong_year = await client.get("/transparansi?tahun=1900", headers=HTML)
        api = await client.get("/api/v1/public/ledger?fiscal_year=abc")
    assert response.status_code == 422
    assert "<title>Transparansi" in response.text  # the page itself, not an error page
    assert 'role="alert"' in response.text
    assert "Tahun: tulis angka bulat" in response.text
    assert "abc" in response.text  # says what was typed and that it was not used
    assert '<nav class="main"' in response.text
    assert_indonesian(_text(response.text))
    assert "Tahun: tidak boleh kurang dari 2000" in wrong_year.text
    assert_indonesian(_text(wrong_year.text))
    # The API keeps its problem documents in English for programs.
    assert api.headers["content-type"].startswith("application/problem+json")


async def test_a_form_the_framework_refuses_comes_back_kept_with_messages_by_the_fields(make_app):
    app = await make_app("erk")
    await add_account(app, "198503152010011001", ["employee"])
    async with client_for(app) as client:
        login = await client.post(
            "/login", data={"username": "198503152010011001", "password": "password-123"}
        )
        assert login.status_code == 303
        page = await client.get("/sasaran", headers=HTML)
        token = CSRF.search(page.text)
        assert token
        # No `judul` at all (a field the page's form always sends, left out by a broken client
        # or an edited page): the framework refuses it before the page's own checks.
        response = await client.post(
            "/sasaran",
            data={"csrf_token": token.group(1), "tahun": "2027", "jumlah": "12"},
            headers={**HTML, "Referer": "http://test/sasaran"},
        )
    assert response.status_code == 422
    html = response.text
    assert_indonesian(_text(html))
    assert '<a href="#isian-judul">Judul: wajib diisi</a>' in html
    assert 'id="isian-judul" name="judul" aria-describedby="isian-judul-salah"' in html
    assert 'aria-invalid="true"' in html
    # What was typed is kept and sent again with the corrected field.
    assert '<input type="hidden" name="tahun" value="2027">' in html
    assert '<input type="hidden" name="jumlah" value="12">' in html
    assert 'action="/sasaran"' in html
    assert f'name="csrf_token" value="{token.group(1)}"' in html
    assert '<nav class="main"' in html
    assert "/bulan-saya" in html  # e-RK's menu


async def test_a_refused_form_never_echoes_a_password(make_app):
    app = await make_app("hayu")
    async with client_for(app) as client:
        response = await client.post(
            "/daftar",
            data={"username": "x" * 80, "password": "rahasia-sekali-123", "full_name": "Siti"},
            headers=HTML,
        )
    assert response.status_code == 422
    assert "rahasia-sekali-123" not in response.text
    assert "Nama pengguna: terlalu panjang, maksimal 64 karakter" in response.text
    assert 'type="password"' in response.text
    assert 'value="Siti"' in response.text
    assert_indonesian(_text(response.text))


@pytest.mark.parametrize("service", ["sabilulungan", "hayu", "erk"])
async def test_an_empty_login_form_is_answered_on_the_login_page(make_app, service: str):
    app = await make_app(service)
    async with client_for(app) as client:
        response = await client.post("/login", data={"username": "budi"}, headers=HTML)
    assert response.status_code == 422
    assert "kata sandi." in response.text
    assert 'value="budi"' in response.text  # the name typed is kept
    assert_indonesian(_text(response.text))


def _broken_pages() -> APIRouter:
    router = APIRouter()

    @router.get("/halaman-rusak")
    async def broken() -> HTMLResponse:
        raise RuntimeError("a bug")

    return router


@pytest.mark.parametrize("service", ["sabilulungan", "hayu", "erk"])
async def test_error_pages_are_indonesian_and_keep_the_service_menu(make_app, service: str):
    app = await make_app(service, extra_routers=[_broken_pages()])
    async with client_for(app) as client:
        missing = await client.get("/tidak-ada", headers=HTML)
        wrong_method = await client.put("/login", headers=HTML)
        crashed = await client.get("/halaman-rusak", headers=HTML)
    for response, status, title in (
        (missing, 404, "Halaman tidak ditemukan"),
        (wrong_method, 405, "Metode tidak diizinkan"),
        (crashed, 500, "Terjadi kesalahan"),
    ):
        assert response.status_code == status
        assert f"<h1>{title}</h1>" in response.text
        assert '<nav class="main"' in response.text
        assert MENU[service] in response.text, "the service's menu is on the error page"
        assert_indonesian(_text(response.text))
    assert "a bug" not in crashed.text
    assert "nomor permintaan" in crashed.text


class _Amount(BaseModel):
    amount_idr: int = Field(ge=1, le=1_000_000_000_000_000)
    tahun: int = Field(ge=2000, le=2100)
    kode: str = Field(max_length=64)


def test_numbers_in_messages_are_written_the_indonesian_way():
    assert angka(1_000_000_000_000_000) == "1.000.000.000.000.000"
    assert angka(150_000_000) == "150.000.000"
    assert angka(2026) == "2026"  # a year stays a year
    assert angka(1234567.5) == "1.234.567,50"
    with pytest.raises(ValidationError) as caught:
        _Amount(amount_idr=10**16, tahun=1999, kode="x" * 65_000)
    texts = [str(e) for e in field_errors(caught.value, lambda loc: (str(loc[0]), str(loc[0])))]
    assert "amount_idr: tidak boleh lebih dari 1.000.000.000.000.000" in texts
    assert "tahun: tidak boleh kurang dari 2000" in texts
    assert "kode: terlalu panjang, maksimal 64 karakter" in texts
    assert label_of("full_name") == "Nama lengkap"
    assert label_of("nomor_rekening") == "Nomor rekening"
