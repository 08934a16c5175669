"""The shared pages in a real browser: login, the logged-in layout, logout."""

from __future__ import annotations

from typing import Any

import pytest

from shared.testing import add_account

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("service", ["sabilulungan", "hayu", "erk"])
async def test_login_and_logout_with_the_keyboard(
    live_service: Any, page: Any, service: str
) -> None:
    live = await live_service(service)
    await add_account(live.app, "pengguna1", ["auditor"], password="sandi-rahasia-1", name="Rina")
    await page.goto(live.url + "/login")
    assert await page.locator("html").get_attribute("lang") == "id"
    await page.get_by_label("Kata sandi").fill("salah-sekali")
    await page.locator("#username").fill("pengguna1")
    await page.get_by_role("button", name="Masuk").click()
    await page.wait_for_load_state()
    assert await page.get_by_role("alert").inner_text() == "Nama pengguna atau kata sandi salah."
    await page.get_by_label("Kata sandi").fill("sandi-rahasia-1")
    await page.get_by_label("Kata sandi").press("Enter")
    # The login lands on the service's start page (its home page where it has none).
    await page.wait_for_url(lambda url: url.startswith(live.url) and "/login" not in url)
    assert "Rina" in await page.locator("header").inner_text()
    await page.get_by_role("button", name="Keluar").click()
    await page.wait_for_url(live.url + "/")
    assert await page.locator("header").get_by_role("link", name="Masuk").count() == 1
    audit = await page.goto(live.url + "/audit")
    assert audit is not None
    assert audit.status == 200
    assert "Jejak audit" in await page.locator("h1").inner_text()
