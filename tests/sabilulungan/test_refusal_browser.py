"""In Chromium at 390 px: a rejected applicant logs in, lands on their own files, opens the file
and sees the reason and the objection (keberatan) route at the top, with the letter to download."""

from __future__ import annotations

from typing import Any

import pytest

from shared.testing import add_account, bearer, client_for

from .conftest import bansos_body

pytestmark = pytest.mark.browser

REASON = "Program bantuan modal usaha tahun ini hanya untuk korban bencana"


async def test_rejected_applicant_sees_reason_and_objection_route_first(
    live_service: Any, page: Any
) -> None:
    live = await live_service("sabilulungan")
    await add_account(live.app, "pemohon", ["applicant"], name="Siti")
    await add_account(live.app, "tatausaha", ["clerk"], name="Tata Usaha")
    async with client_for(live.app) as client:
        created = await client.post(
            "/api/v1/proposals", json=bansos_body(), headers=await bearer(client, "pemohon")
        )
        assert created.status_code == 201, created.text
        pid, code = created.json()["id"], created.json()["tracking_code"]
        rejected = await client.post(
            f"/api/v1/proposals/{pid}/transitions",
            json={"action": "reject", "note": REASON},
            headers=await bearer(client, "tatausaha"),
        )
        assert rejected.status_code == 200, rejected.text

    await page.goto(live.url + "/login")
    await page.locator("#username").fill("pemohon")
    await page.get_by_label("Kata sandi").fill("password-123")
    await page.get_by_role("button", name="Masuk").click()
    await page.wait_for_url(live.url + "/antrian")  # the start page: the applicant's own files
    await page.get_by_role("link", name=code).click()
    await page.wait_for_url(f"{live.url}/usulan/{pid}")

    banner = page.locator("#penolakan")
    await banner.wait_for()
    box = await banner.bounding_box()
    heading = await page.locator("h1").bounding_box()
    assert box is not None
    assert heading is not None
    assert box["y"] < heading["y"]  # above the file's title
    assert box["y"] < 844  # in the first screen of a phone
    text = await banner.inner_text()
    assert REASON in text
    assert "keberatan" in text
    assert "21 hari kerja" in text
    assert "UU 30/2014" in text
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    link = banner.get_by_role("link", name="Unduh surat penolakan (PDF)")
    href = await link.get_attribute("href")
    response = await page.request.get(live.url + str(href))
    assert response.status == 200
    assert (await response.body()).startswith(b"%PDF-")

    # The receipt is one link away and fits the phone's width as well.
    await page.locator("#receipt-link").click()
    await page.wait_for_url(f"{live.url}/usulan/{pid}/tanda-terima")
    assert await page.locator("#receipt-code").inner_text() == code
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
