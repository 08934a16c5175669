"""Light pages: a first visit (HTML, CSS, scripts, icon) stays under 50 KB as a browser gets it."""

from __future__ import annotations

import re

import httpx
import pytest

from shared.testing import add_account, client_for

BROWSER = {"Accept": "text/html", "Accept-Encoding": "gzip, deflate, br, zstd"}
BUDGET = 50 * 1024
LINKED = re.compile(r'<(?:link|script)\b[^>]*?(?:href|src)="([^"]+)"')
YEAR = 365 * 24 * 3600

# service -> (public pages, (account, roles, pages seen after logging in))
PAGES = {
    "sabilulungan": (
        ["/", "/lacak", "/transparansi", "/daftar", "/login"],
        ("pemohon", ["applicant"], ["/ajukan", "/antrian"]),
    ),
    "hayu": (
        ["/", "/lacak", "/periksa", "/statistik", "/daftar", "/login"],
        ("pemilik", ["business_owner"], ["/lapor", "/berkas"]),
    ),
    "erk": (["/", "/login"], ("pegawai", ["employee"], ["/aktivitas", "/bulan-saya"])),
}


async def _first_visit(client: httpx.AsyncClient, path: str) -> tuple[int, list[str]]:
    """Bytes on the wire for the page and what it links (each file fetched once, uncached)."""
    page = await client.get(path, headers=BROWSER)
    assert page.status_code == 200, (path, page.status_code)
    total = page.num_bytes_downloaded
    linked = [url for url in LINKED.findall(page.text) if url.startswith("/")]
    for url in linked:
        response = await client.get(url, headers=BROWSER)
        assert response.status_code == 200, url
        total += response.num_bytes_downloaded
    return total, linked


@pytest.mark.parametrize("service", PAGES)
async def test_first_visit_of_each_page_is_under_50_kb(make_app, service: str) -> None:
    app = await make_app(service)
    public, (username, roles, private) = PAGES[service]
    await add_account(app, username, roles)
    async with client_for(app) as client:
        weights = {path: await _first_visit(client, path) for path in public}
        login = await client.post("/login", data={"username": username, "password": "password-123"})
        assert login.status_code == 303
        weights |= {path: await _first_visit(client, path) for path in private}
    heavy = {path: size for path, (size, _) in weights.items() if size > BUDGET}
    assert not heavy, f"first visits over 50 KB: {heavy}"
    for path, (_, linked) in weights.items():
        assert any("favicon" in url for url in linked), f"{path} links no icon"
        assert any("htmx.min.js?v=" in url for url in linked), f"{path}: scripts are versioned"


async def test_static_files_are_compressed_versioned_and_cached(make_app) -> None:
    app = await make_app("hayu")
    async with client_for(app) as client:
        page = await client.get("/", headers=BROWSER)
        script = next(u for u in LINKED.findall(page.text) if "htmx.min.js" in u)
        versioned = await client.get(script, headers=BROWSER)
        assert versioned.headers["content-encoding"] == "gzip"
        assert versioned.num_bytes_downloaded < 20_000 < len(versioned.content)
        assert f"max-age={YEAR}" in versioned.headers["cache-control"]
        assert "immutable" in versioned.headers["cache-control"]
        assert "Accept-Encoding" in versioned.headers["vary"]

        # An old or made-up version is not promised for a year: it could be another file's.
        stale = await client.get("/static/htmx.min.js?v=0123456789ab", headers=BROWSER)
        assert stale.headers["cache-control"] == "no-cache"
        plain = await client.get("/static/htmx.min.js", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers
        assert plain.content == versioned.content
        # A browser that has the file is told so without the body.
        again = await client.get(
            "/static/htmx.min.js", headers={"If-None-Match": plain.headers["etag"]}
        )
        assert again.status_code == 304
        assert not again.content

        # The service's own file first, then the shared one; nothing outside the folders.
        assert (await client.get("/static/hayu.css")).status_code == 200
        assert (await client.get("/static/../settings.py")).status_code == 404
        assert (await client.get("/static/tidak-ada.css")).status_code == 404
        assert (await client.post("/static/style.css")).status_code == 405


@pytest.mark.parametrize("service", PAGES)
async def test_no_page_asks_for_a_missing_icon(make_app, service: str) -> None:
    app = await make_app(service)
    async with client_for(app) as client:
        icon = await client.get("/favicon.ico")
        assert icon.status_code == 200
        assert icon.headers["content-type"].startswith("image/svg+xml")
        page = await client.get("/", headers=BROWSER)
        href = re.search(r'<link rel="icon" href="([^"]+)"', page.text)
        assert href, "the page names its icon"
        assert (await client.get(href.group(1))).status_code == 200
