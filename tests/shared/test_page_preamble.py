"""`shared.pages`: the one page-action preamble the three services' pages use.

Anonymous visitors of a signed-in page go to the login page with the page kept in `next`; a role
guard answers 403 with an Indonesian page; a refused form comes back with the Indonesian message
and nothing written (tests/hayu/test_pages.py, tests/sabilulungan/test_pages.py).
"""

from __future__ import annotations

import pytest

from shared.testing import add_account, client_for

# (service, signed-in page) for each service; the pages are on `shared.pages.page_router()`.
SIGNED_IN_PAGES = [
    ("hayu", "GET", "/lapor"),
    ("hayu", "GET", "/berkas"),
    ("hayu", "GET", "/berkas/1"),
    ("hayu", "GET", "/antrean"),
    ("hayu", "POST", "/berkas/1/aksi"),
    ("sabilulungan", "GET", "/ajukan"),
    ("sabilulungan", "GET", "/antrian"),
    ("sabilulungan", "GET", "/usulan/1"),
    ("sabilulungan", "POST", "/usulan/1/aksi"),
    ("erk", "GET", "/aktivitas"),
]


@pytest.mark.parametrize(("service", "method", "path"), SIGNED_IN_PAGES)
async def test_anonymous_visitor_goes_to_login_with_the_page_kept(make_app, service, method, path):
    app = await make_app(service)
    async with client_for(app) as client:
        response = await client.request(method, path)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/login?next={path}"


async def test_hayu_queue_refuses_a_business_owner_in_indonesian(make_app):
    app = await make_app("hayu")
    await add_account(app, "siti", ["business_owner"])
    async with client_for(app) as client:
        login = await client.post("/login", data={"username": "siti", "password": "password-123"})
        assert login.status_code == 303
        page = await client.get("/antrean")
    assert page.status_code == 403
    assert "Antrean hanya untuk petugas." in page.text
