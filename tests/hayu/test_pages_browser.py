"""HAYU's pages in headless Chromium: filing, upload, tracking, verification, queue, statistics."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from hayu_factories import NIK, filing

from shared.testing import add_account, bearer

pytestmark = pytest.mark.browser


async def _login(page: Any, url: str, username: str, password: str = "password-123") -> None:
    await page.goto(url + "/login")
    await page.locator("#username").fill(username)
    await page.get_by_label("Kata sandi").fill(password)
    await page.get_by_role("button", name="Masuk").click()
    await page.wait_for_load_state()


async def _fill_filing(page: Any, capital: str, permit: str = "SS") -> None:
    await page.get_by_label("Jenis perizinan").select_option(permit)
    await page.get_by_label("Nama usaha").fill("Warung Sari Rasa")
    await page.get_by_label("Nama pemilik").fill("Siti Rahmawati")
    await page.get_by_label("NIK pemilik").fill(NIK)
    await page.get_by_label("Nomor telepon").fill("081234567890")
    await page.get_by_label("Kode KBLI 2020").fill("56102")
    await page.get_by_label("Alamat usaha").fill("Jl. Merdeka No. 10")
    await page.get_by_label("Kode wilayah (kecamatan atau desa)").fill("32.73.01")
    await page.get_by_label("Modal usaha di luar tanah dan bangunan (rupiah)").fill(capital)
    await page.get_by_label("Jumlah tenaga kerja").fill("3")


async def test_owner_registers_files_below_threshold_and_downloads_certificate(
    live_service: Any, page: Any
) -> None:
    live = await live_service("hayu")
    await page.goto(live.url + "/daftar")
    await page.get_by_label("Nama lengkap").fill("Siti Rahmawati")
    await page.get_by_label("Nama pengguna").fill("siti")
    await page.get_by_label("Kata sandi").fill("rahasia-siti-1")
    await page.get_by_role("button", name="Daftar").click()
    await page.wait_for_load_state()
    assert await page.get_by_role("heading", level=1).inner_text() == "Pendaftaran berhasil"
    await page.get_by_role("link", name="Masuk sekarang").click()
    await page.wait_for_url(re.compile(r".*/login.*"))
    await page.locator("#username").fill("siti")
    await page.get_by_label("Kata sandi").fill("rahasia-siti-1")
    await page.get_by_role("button", name="Masuk").click()
    await page.wait_for_url(live.url + "/lapor")

    await _fill_filing(page, "499999999")
    await page.get_by_role("button", name="Periksa").click()
    await page.wait_for_load_state()
    decision = page.locator("#keputusan")
    assert "Langsung terdaftar" in await decision.inner_text()
    await page.get_by_role("button", name="Daftarkan sekarang").click()
    await page.wait_for_url(re.compile(r".*/berkas/\d+$"))
    assert "Terdaftar" in await page.locator("main").inner_text()
    href = await page.get_by_role("link", name="Unduh sertifikat (PDF)").get_attribute("href")
    pdf = await page.request.get(live.url + href)
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert (await pdf.body()).startswith(b"%PDF")

    await page.get_by_role("link", name="Halaman verifikasi").click()
    await page.wait_for_load_state()
    verdict = page.locator(".verdict")
    assert "AKTIF" in await verdict.inner_text()
    color = await verdict.evaluate("e => getComputedStyle(e).backgroundColor")
    assert color == "rgb(20, 108, 46)"  # green


async def test_above_threshold_upload_track_queue_and_revoked_verification(
    live_service: Any, page: Any, browser: Any
) -> None:
    live = await live_service("hayu")
    await add_account(live.app, "siti", ["business_owner"])
    await add_account(live.app, "petugas", ["officer"], name="Budi")
    await _login(page, live.url, "siti")
    await page.goto(live.url + "/lapor")
    await _fill_filing(page, "750000000")
    await page.get_by_role("button", name="Periksa").click()
    await page.wait_for_load_state()
    assert "Perlu mengajukan izin" in await page.locator("#keputusan").inner_text()
    await page.get_by_role("button", name="Ajukan permohonan").click()
    await page.wait_for_url(re.compile(r".*/berkas/\d+$"))
    await page.get_by_label("Jenis dokumen").select_option("ktp")
    await page.get_by_label("Berkas (PDF, JPEG atau PNG)").set_input_files(
        files=[{"name": "ktp.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%%EOF\n"}]
    )
    await page.get_by_role("button", name="Unggah").click()
    await page.wait_for_load_state()
    assert "sudah diunggah" in await page.locator("main").inner_text()
    tracking = await page.get_by_role("link", name=re.compile(r"^HY-")).inner_text()

    officer = await browser.new_context(locale="id-ID", viewport={"width": 390, "height": 844})
    officer_page = await officer.new_page()
    await _login(officer_page, live.url, "petugas")
    await officer_page.goto(live.url + "/antrean")
    assert "Warung Sari Rasa" in await officer_page.locator("main").inner_text()
    await officer_page.get_by_role("button", name="Terima berkas dan mulai verifikasi").click()
    await officer_page.wait_for_url(live.url + "/antrean")
    await officer.close()

    await page.goto(live.url + "/lacak")
    await page.get_by_label("Kode lacak").fill(tracking.lower())
    await page.get_by_role("button", name="Lacak").click()
    await page.wait_for_load_state()
    steps = page.locator("ol.timeline li")
    assert await steps.count() == 2
    assert "Verifikasi dokumen" in await steps.nth(1).inner_text()
    assert NIK not in await page.content()

    # A registration revoked over the API shows red on the verification page.
    async with httpx.AsyncClient(base_url=live.url) as client:
        await add_account(live.app, "kepala", ["approver"])
        owner = await bearer(client, "siti")
        created = (
            await client.post("/api/v1/applications", json=filing(capital_idr=1), headers=owner)
        ).json()
        approver = await bearer(client, "kepala")
        await client.post(
            f"/api/v1/applications/{created['id']}/transitions",
            json={"action": "revoke", "note": "Alamat fiktif"},
            headers=approver,
        )
    await page.goto(live.url + "/periksa")
    await page.get_by_label("Nomor sertifikat atau izin").fill(created["registration_number"])
    await page.get_by_role("button", name="Periksa").click()
    await page.wait_for_load_state()
    verdict = page.locator(".verdict")
    assert "DICABUT" in await verdict.inner_text()
    color = await verdict.evaluate("e => getComputedStyle(e).backgroundColor")
    assert color == "rgb(164, 22, 26)"  # red


async def test_statistics_page_draws_the_chart(live_service: Any, page: Any) -> None:
    live = await live_service("hayu")
    await page.goto(live.url + "/statistik")
    assert await page.locator("h1").inner_text() == "Statistik layanan perizinan"
    rows = page.locator(".chart-row")
    assert await rows.count() == 3  # REG-UMK, SS, REKLAME: SIUP and IUI left the defaults
    width = await page.locator(".chart-sla").first.evaluate("e => e.getBoundingClientRect().width")
    assert width > 0


NO_OVERFLOW = "document.documentElement.scrollWidth <= window.innerWidth"


async def test_filing_errors_in_indonesian_linked_to_fields_without_javascript(
    live_service: Any, browser: Any
) -> None:
    live = await live_service("hayu")
    await add_account(live.app, "siti", ["business_owner"])
    context = await browser.new_context(
        locale="id-ID", viewport={"width": 390, "height": 844}, java_script_enabled=False
    )
    page = await context.new_page()
    await _login(page, live.url, "siti")
    await page.goto(live.url + "/lapor")
    await _fill_filing(page, "Rp 750.000.000")
    await page.get_by_label("NIK pemilik").fill("12345")
    await page.get_by_label("Nomor telepon").fill("12")
    await page.get_by_role("button", name="Periksa").click()
    await page.wait_for_load_state()

    summary = page.locator("#kesalahan")
    text = await summary.inner_text()
    assert "NIK pemilik: harus tepat 16 angka" in text
    assert "Nomor telepon: bukan nomor telepon Indonesia yang valid" in text
    assert "Modal usaha" not in text  # "Rp 750.000.000" is understood
    assert not re.search(r"\b(must|should|valid integer|String)\b", text)
    assert await summary.get_by_role("link", name=re.compile("NIK pemilik")).get_attribute(
        "href"
    ) == ("#nik")
    assert await page.locator("#nik").get_attribute("aria-invalid") == "true"
    assert await page.locator("#name").get_attribute("aria-invalid") is None
    assert await page.get_by_label("Nama usaha").input_value() == "Warung Sari Rasa"
    assert await page.evaluate(NO_OVERFLOW)
    await context.close()


async def test_phone_layout_has_no_horizontal_overflow(live_service: Any, page: Any) -> None:
    live = await live_service("hayu")
    await add_account(live.app, "siti", ["business_owner"])
    async with httpx.AsyncClient(base_url=live.url) as client:
        owner = await bearer(client, "siti")
        created = (
            await client.post("/api/v1/applications", json=filing(capital_idr=1), headers=owner)
        ).json()
        await client.post(
            "/api/v1/applications", json=filing(capital_idr=900_000_000), headers=owner
        )
    await _login(page, live.url, "siti")
    long_number = "00001/SS/3273/DPMPTSP/XI/2026-TIDAK-ADA-NOMOR-SEPANJANG-INI"
    for path in (
        "/",
        "/lapor",
        "/berkas",
        "/statistik",
        f"/lacak?kode={created['tracking_code']}",
        f"/verify/{created['registration_number']}",
        f"/verify/{long_number}",
    ):
        await page.goto(live.url + path)
        assert await page.evaluate(NO_OVERFLOW), path
        assert await page.locator("h1").count() == 1, path
    # On a phone the list of files is a stack of cards, each value labelled.
    await page.goto(live.url + "/berkas")
    cell = page.locator("td[data-label='Kode lacak']").first
    assert await cell.evaluate("e => getComputedStyle(e).display") == "block"
    assert await cell.evaluate("e => getComputedStyle(e, '::before').content") == '"Kode lacak"'


async def test_officer_opens_the_owners_uploads_and_a_lowercase_number_checks_active(
    live_service: Any, page: Any, browser: Any
) -> None:
    live = await live_service("hayu")
    await add_account(live.app, "siti", ["business_owner"])
    await add_account(live.app, "petugas", ["officer"], name="Budi")
    await _login(page, live.url, "siti")

    # a self-report below the line: registered at once
    await page.goto(live.url + "/lapor")
    await _fill_filing(page, "100000000", permit="REG-UMK")
    await page.get_by_role("button", name="Periksa").click()
    await page.wait_for_load_state()
    await page.get_by_role("button", name="Daftarkan sekarang").click()
    await page.wait_for_url(re.compile(r".*/berkas/\d+$"))
    main_text = await page.locator("main").inner_text()
    number = re.search(r"REG-\d{4}-\d{4}-\d{6}", main_text)
    assert number, main_text

    # a permit with an upload; typing a word in the KBLI field suggests codes (htmx)
    from hayu import reference
    from hayu.models import KbliCode

    async with live.app.state.db.sessionmaker.begin() as session:
        await reference.replace_reference(
            session,
            KbliCode,
            [
                {"code": "56102", "title": "RUMAH/WARUNG MAKAN", "category": "I"},
                {"code": "73100", "title": "PERIKLANAN", "category": "M"},
            ],
        )
    await page.goto(live.url + "/lapor")
    await page.get_by_label("Kode KBLI 2020").fill("warung")
    await page.locator("#kbli-saran strong").first.wait_for()
    assert "56102" in await page.locator("#kbli-saran").inner_text()
    await _fill_filing(page, "750000000", permit="REKLAME")
    await page.get_by_role("button", name="Periksa").click()
    await page.wait_for_load_state()
    await page.get_by_role("button", name="Ajukan permohonan").click()
    await page.wait_for_url(re.compile(r".*/berkas/\d+$"))
    file_url = page.url
    await page.get_by_label("Jenis dokumen").select_option("ktp")
    await page.get_by_label("Berkas (PDF, JPEG atau PNG)").set_input_files(
        files=[{"name": "ktp.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%%EOF\n"}]
    )
    await page.get_by_role("button", name="Unggah").click()
    await page.wait_for_load_state()

    officer = await browser.new_context(locale="id-ID")
    officer_page = await officer.new_page()
    await _login(officer_page, live.url, "petugas")
    await officer_page.goto(file_url)
    href = await officer_page.get_by_role("link", name="ktp.pdf").get_attribute("href")
    opened = await officer_page.request.get(live.url + href)
    assert opened.status == 200
    assert (await opened.body()).startswith(b"%PDF")
    await officer.close()

    await page.goto(live.url + "/periksa")
    await page.get_by_label("Nomor sertifikat atau izin").fill(number.group(0).lower())
    await page.get_by_role("button", name="Periksa").click()
    await page.wait_for_load_state()
    assert "AKTIF" in await page.locator(".verdict").inner_text()


async def test_a_filing_sent_after_the_session_ended_is_kept_through_the_login(
    live_service: Any, page: Any
) -> None:
    """The owner fills the long form, her session ends before she presses "Periksa" (here: the
    browser's cookie is replaced by the same session issued two hours ago), she logs in again
    and sends the very same form without typing it again."""
    import time

    import jwt

    from shared.auth import SESSION_COOKIE

    live = await live_service("hayu")
    await add_account(live.app, "siti", ["business_owner"])
    await _login(page, live.url, "siti")
    await page.goto(live.url + "/lapor")
    await _fill_filing(page, "750000000")
    cookie = next(c for c in await page.context.cookies() if c["name"] == SESSION_COOKIE)
    claims = jwt.decode(cookie["value"], options={"verify_signature": False})
    two_hours_ago = int(time.time()) - 2 * 3600
    stale, _ = live.app.state.tokens._sign({**claims, "auth": two_hours_ago}, two_hours_ago)
    await page.context.add_cookies([{**cookie, "value": stale}])

    await page.get_by_role("button", name="Periksa").click()
    await page.wait_for_load_state()
    assert "Isian Anda disimpan" in await page.locator("main").inner_text()
    await page.locator("#username").fill("siti")
    await page.get_by_label("Kata sandi").fill("password-123")
    await page.get_by_role("button", name="Masuk").click()
    await page.wait_for_load_state()
    await page.get_by_role("button", name="Kirim ulang").click()
    await page.wait_for_load_state()
    # The form arrived whole: the decision for Rp750 juta, the business name as typed.
    assert "Perlu mengajukan izin" in await page.locator("#keputusan").inner_text()
    assert await page.get_by_label("Nama usaha").input_value() == "Warung Sari Rasa"
    await page.get_by_role("button", name="Ajukan permohonan").click()
    await page.wait_for_url(re.compile(r".*/berkas/\d+$"))
    assert "Warung Sari Rasa" in await page.locator("main").inner_text()
