"""A long activity description on the verification page of a 390 px phone: the supervisor reads
all of it, wrapped, with nothing cut off and nothing scrolling sideways."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from .conftest import CHIEF, STAFF, Erk
from .test_browser import _fits_phone, _signed_in, served  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser
TODAY = dt.date(2025, 3, 12)
PHONE = {"width": 390, "height": 844}

# About 300 characters, with a link of 80 characters that has no place to break.
DESCRIPTION = (
    "Menyusun telaah staf tentang penataan arsip dinamis bidang: daftar arsip aktif dan "
    "inaktif tahun 2023-2024, usulan jadwal retensi, serta rekomendasi pemindahan arsip ke record "
    "center; rujukan: "
    "https://jdih.bandungkab.go.id/dokumen/PerbupNomor12Tahun2025TentangTataKelolaKearsipan.pdf"
)


async def test_a_long_description_wraps_on_a_phone(
    served: tuple[Erk, str],  # noqa: F811
    browser: Any,
) -> None:
    assert 280 <= len(DESCRIPTION) <= 320
    erk, base = served
    await erk.tree()
    erk.at(TODAY)
    r = await erk.log(STAFF, TODAY - dt.timedelta(days=1), 120, DESCRIPTION)
    assert r.status_code == 201, r.text
    activity = r.json()["id"]
    page = await _signed_in(erk, browser, base, CHIEF, PHONE)
    await page.goto(f"{base}/verifikasi")
    item = page.locator("ul.verify-list li").filter(has=page.locator(f"#a{activity}"))
    assert await item.count() == 1
    text = item.locator("p.wrap")
    assert await text.is_visible()
    # All of it is in the page, word for word.
    assert " ".join((await text.inner_text()).split()) == DESCRIPTION
    sizes = await text.evaluate(
        """p => {
            const li = p.closest('li');
            const box = p.getBoundingClientRect();
            return {
                right: box.right,
                left: box.left,
                pScroll: p.scrollWidth, pClient: p.clientWidth,
                pScrollHeight: p.scrollHeight, pClientHeight: p.clientHeight,
                liScroll: li.scrollWidth, liClient: li.clientWidth,
                lines: Math.round(box.height / parseFloat(getComputedStyle(p).lineHeight)),
                viewport: window.innerWidth,
            };
        }"""
    )
    # The text wraps onto several lines inside the item, and the item inside the screen.
    assert sizes["lines"] >= 4, sizes
    assert sizes["pScroll"] <= sizes["pClient"], sizes
    assert sizes["pScrollHeight"] <= sizes["pClientHeight"], sizes
    assert sizes["liScroll"] <= sizes["liClient"], sizes
    assert sizes["left"] >= 0, sizes
    assert sizes["right"] <= sizes["viewport"], sizes
    await _fits_phone(page)
    await page.context.close()
