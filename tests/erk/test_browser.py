"""The pages in a real headless Chromium, on a phone-sized screen, without JavaScript."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn

from erk.models import Activity

from .conftest import CHIEF, STAFF, STAFF2, Erk

pytestmark = pytest.mark.browser
TODAY = dt.date(2025, 3, 12)
PHONE = {"width": 375, "height": 740}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def served(erk: Erk) -> AsyncIterator[tuple[Erk, str]]:
    """The app on a real port, served on the test's own event loop."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(erk.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield erk, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def _fits_phone(page: object) -> None:
    overflow = await page.evaluate(  # type: ignore[attr-defined]
        "document.documentElement.scrollWidth - window.innerWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px on a phone"


async def test_employee_and_supervisor_in_the_browser(
    served: tuple[Erk, str], browser: Any
) -> None:
    erk, base = served
    await erk.tree()
    erk.at(TODAY)
    assert (await erk.log(STAFF, TODAY - dt.timedelta(days=1), 90, "Rapat staf")).status_code == 201
    await erk.login(STAFF)
    await erk.login(CHIEF)
    staff = await browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = await staff.new_page()
    await page.goto(f"{base}/aktivitas")
    await page.get_by_label("NIP").fill(STAFF)
    await page.get_by_label("Kata sandi").fill("sandi-awal-123")
    await page.get_by_role("button", name="Masuk").click()
    # First login: the temporary password must be changed before anything else.
    assert page.url.endswith("/ganti-sandi")
    await page.get_by_label("Kata sandi saat ini").fill("sandi-awal-123")
    await page.get_by_label("Kata sandi baru (paling sedikit 8 karakter)").fill("rahasia-99")
    await page.get_by_label("Ulangi kata sandi baru").fill("rahasia-99")
    await page.get_by_role("button", name="Simpan kata sandi").click()
    assert page.url.endswith("/aktivitas")
    await _fits_phone(page)
    await page.get_by_label("Uraian kegiatan").fill("Menyusun telaah staf")
    await page.get_by_label("Lama (menit)").fill("120")
    await page.get_by_role("button", name="Simpan aktivitas").click()
    assert "Aktivitas tersimpan" in await page.content()
    # Yesterday's entry, one tap away.
    await page.get_by_role("button", name="Salin").first.click()
    assert "tercatat 210 dari batas 450 menit" in await page.content()

    chief = await browser.new_context(viewport=PHONE, java_script_enabled=False)
    page2 = await chief.new_page()
    await page2.goto(f"{base}/login")
    await page2.get_by_label("NIP").fill(CHIEF)
    await page2.get_by_label("Kata sandi").fill("sandi-awal-123")
    await page2.get_by_role("button", name="Masuk").click()
    await page2.goto(f"{base}/verifikasi")
    # Forced password change applies to the chief too.
    assert page2.url.endswith("/ganti-sandi")
    await page2.get_by_label("Kata sandi saat ini").fill("sandi-awal-123")
    await page2.get_by_label("Kata sandi baru (paling sedikit 8 karakter)").fill("rahasia-88")
    await page2.get_by_label("Ulangi kata sandi baru").fill("rahasia-88")
    await page2.get_by_role("button", name="Simpan kata sandi").click()
    await page2.goto(f"{base}/verifikasi")
    boxes = page2.locator('input[name="aktivitas"]')
    assert await boxes.count() == 3
    # Nothing is ticked until the supervisor chooses; "Pilih semua" ticks every entry.
    assert await page2.locator('input[name="aktivitas"]:checked').count() == 0
    await _fits_phone(page2)
    await page2.locator("#pilih-semua").click()
    assert await page2.locator('input[name="aktivitas"]:checked').count() == 3
    await page2.get_by_role("button", name="Setujui yang dipilih").click()
    assert "3 aktivitas disetujui" in await page2.content()

    await page.goto(f"{base}/bulan-saya?bulan=2025-03")
    content = await page.content()
    assert "Mengapa jumlahnya demikian" in content
    assert await page.locator("td.tone-sebagian").count() == 2
    await _fits_phone(page)
    await staff.close()
    await chief.close()


async def test_admin_recap_and_imports_in_the_browser(
    served: tuple[Erk, str], browser: Any
) -> None:
    erk, base = served
    await erk.tree()
    erk.at(TODAY)
    context = await browser.new_context(viewport=PHONE, locale="id-ID")
    page = await context.new_page()
    await page.goto(f"{base}/login")
    await page.get_by_label("NIP").fill("bkpsdm")
    await page.get_by_label("Kata sandi").fill("password-123")
    await page.get_by_role("button", name="Masuk").click()
    await page.goto(f"{base}/rekap?bulan=2025-02")
    assert "Kinerja per unit" in await page.content()
    assert await page.locator("ul.bars li").count() >= 3
    await _fits_phone(page)
    await page.goto(f"{base}/impor")
    await page.get_by_label("Berkas CSV kehadiran").set_input_files(
        files=[
            {
                "name": "absen.csv",
                "mimeType": "text/csv",
                "buffer": b"nip,date,status\n123,2025-03-01,hadir\n",
            }
        ]
    )
    await page.get_by_role("button", name="Impor kehadiran").click()
    content = await page.content()
    assert "tidak ada data yang diimpor" in content
    assert await page.locator("table tbody tr").count() == 1
    await context.close()


async def _signed_in(erk: Erk, browser: Any, base: str, nip: str, viewport: dict[str, int]) -> Any:
    """A phone-sized page of `nip`, past the first login's forced password change."""
    await erk.login(nip)  # the temporary password an admin reset gives
    context = await browser.new_context(viewport=viewport, java_script_enabled=False)
    page = await context.new_page()
    await page.goto(f"{base}/login")
    await page.get_by_label("NIP").fill(nip)
    await page.get_by_label("Kata sandi").fill("sandi-awal-123")
    await page.get_by_role("button", name="Masuk").click()
    await page.goto(f"{base}/aktivitas")
    assert page.url.endswith("/ganti-sandi")
    await page.get_by_label("Kata sandi saat ini").fill("sandi-awal-123")
    await page.get_by_label("Kata sandi baru (paling sedikit 8 karakter)").fill("rahasia-77")
    await page.get_by_label("Ulangi kata sandi baru").fill("rahasia-77")
    await page.get_by_role("button", name="Simpan kata sandi").click()
    return page


async def test_hr_closes_a_month_from_the_page_after_seeing_what_is_pending(
    served: tuple[Erk, str], browser: Any
) -> None:
    erk, base = served
    await erk.tree()
    erk.at(dt.date(2025, 11, 27))
    for day in (dt.date(2025, 11, 26), dt.date(2025, 11, 27)):
        assert (await erk.log(STAFF, day, 120)).status_code == 201
    erk.at(dt.date(2025, 12, 11))  # past the entry cut-off and the verification deadline
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = await context.new_page()
    await page.goto(f"{base}/login")
    await page.get_by_label("NIP").fill("bkpsdm")
    await page.get_by_label("Kata sandi").fill("password-123")
    await page.get_by_role("button", name="Masuk").click()
    await page.get_by_role("link", name="Tutup bulan").first.click()
    # Days without attendance first (nobody has a record: 6 employees x 20 working days).
    assert await page.locator("#tanpa-kehadiran").inner_text() == "120 (6 pegawai)"
    assert await page.locator("#tertunda").inner_text() == "2"
    await _fits_phone(page)
    # Closing needs the knowing tick while items are pending (the browser checks `required`).
    await page.get_by_role("button", name="Tutup bulan November 2025").click()
    assert "sudah ditutup" not in await page.content()
    assert await page.locator("#tertunda").inner_text() == "2"
    await page.get_by_label("Saya mengerti; tutup bulan walau masih ada yang tertunda").check()
    await page.get_by_role("button", name="Tutup bulan November 2025").click()
    assert (
        "Bulan November 2025 ditutup; 2 aktivitas tertunda tidak dihitung; 120 hari kerja "
        "tanpa catatan kehadiran dibekukan."
    ) in await page.content()
    assert "Bulan ini sudah ditutup." in await page.content()
    await context.close()
    # HR's other screens fit a 360 px phone too.
    narrow = await browser.new_context(viewport={"width": 360, "height": 740})
    page = await narrow.new_page()
    await page.goto(f"{base}/login")
    await page.get_by_label("NIP").fill("bkpsdm")
    await page.get_by_label("Kata sandi").fill("password-123")
    await page.get_by_role("button", name="Masuk").click()
    for path in ("/akun", "/unit", "/pelaksana-tugas", "/impor", "/tutup-bulan"):
        await page.goto(f"{base}{path}")
        assert "<h1>" in await page.content()
        await _fits_phone(page)
    await narrow.close()


async def test_a_supervisor_verifies_with_filters_on_a_phone(
    served: tuple[Erk, str], browser: Any
) -> None:
    erk, base = served
    await erk.tree()
    erk.at(TODAY)
    day = TODAY - dt.timedelta(days=1)
    for nip, text in ((STAFF, "Menyusun notula"), (STAFF, "Rapat staf"), (STAFF2, "Entri arsip")):
        assert (await erk.log(nip, day, 60, text)).status_code == 201
    page = await _signed_in(erk, browser, base, CHIEF, {"width": 390, "height": 844})
    # The start page says what waits, and fits the phone.
    await page.goto(f"{base}/")
    assert await page.locator("#menunggu-verifikasi").inner_text() == "3"
    await _fits_phone(page)
    await page.goto(f"{base}/verifikasi")
    assert await page.locator('input[name="aktivitas"]').count() == 3
    await page.locator("#pegawai").select_option(label=f"Pegawai {STAFF2[-3:]}")
    await page.locator("#tanggal").fill(day.isoformat())
    await page.get_by_role("button", name="Saring").click()
    boxes = page.locator('input[name="aktivitas"]')
    assert await boxes.count() == 1
    assert await page.locator('input[name="aktivitas"]:checked').count() == 0
    assert "Entri arsip" in await page.locator("ul.verify-list").inner_text()
    await _fits_phone(page)
    await boxes.first.check()
    await page.get_by_role("button", name="Setujui yang dipilih").click()
    assert "1 aktivitas disetujui" in await page.content()
    await page.goto(f"{base}/verifikasi")
    assert await page.locator('input[name="aktivitas"]').count() == 2
    await page.context.close()


async def test_an_employee_corrects_a_rejected_entry_in_the_browser(
    served: tuple[Erk, str], browser: Any
) -> None:
    erk, base = served
    await erk.tree()
    erk.at(TODAY)
    day = TODAY - dt.timedelta(days=1)
    r = await erk.log(STAFF, day, 90, "Kegiatan tanpa rincian")
    assert r.status_code == 201
    activity = r.json()["id"]
    r = await erk.client.post(
        f"/api/v1/activities/{activity}/verify",
        json={"decision": "rejected", "note": "Sebutkan dokumen yang disusun"},
        headers=await erk.login(CHIEF),
    )
    assert r.status_code == 200, r.text
    page = await _signed_in(erk, browser, base, STAFF, PHONE)
    await page.goto(f"{base}/aktivitas?tanggal={day.isoformat()}")
    assert "Catatan atasan: Sebutkan dokumen yang disusun" in await page.content()
    await page.get_by_text("Perbaiki").click()
    await page.locator(f"#uraian-{activity}").fill("Menyusun telaah staf tentang arsip")
    await page.locator(f"#menit-{activity}").fill("75")
    await page.get_by_role("button", name="Kirim perbaikan").click()
    assert "Aktivitas diperbarui dan menunggu verifikasi lagi." in await page.content()
    assert "Menunggu" in await page.locator("ul.entries").first.inner_text()
    await _fits_phone(page)
    await page.context.close()
    async with erk.app.state.db.sessionmaker() as session:
        row = await session.get(Activity, activity)
        assert row is not None
        assert (row.status, row.minutes) == ("submitted", 75)
