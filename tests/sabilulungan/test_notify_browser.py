"""A citizen registers with an e-mail address in Chromium, receives the verification mail in a
real local SMTP server (aiosmtpd), opens its link, files a proposal, and is mailed on the
submission and on each stage change an official makes (issue 16, "Done when")."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urljoin

import pytest

from sabilulungan import tasks
from shared.app import seal_once
from shared.notify_testing import (
    Inbox,
    senders,
    smtp_server_fixture,  # noqa: F401  (the smtp_server fixture)
    smtp_settings,
)
from shared.testing import add_account, bearer, client_for

from .test_pages_browser import _complete

pytestmark = pytest.mark.browser

YEAR = dt.date.today().year + 1
EMAIL = "ibu.rukmini@surel.example"


async def _deliver(live: Any, chosen: dict[str, Any]) -> None:
    await seal_once(live.app)
    _, failed = await tasks.notify_once(live.app, chosen)
    assert failed == 0


async def test_a_citizen_registers_verifies_files_and_is_told_of_each_step(
    live_service: Any, page: Any, smtp_server: tuple[Inbox, int]
) -> None:
    inbox, port = smtp_server
    live = await live_service("sabilulungan")
    settings = live.app.state.settings.model_copy(
        update={**smtp_settings(port), "public_url": live.url}
    )
    live.app.state.settings = settings  # the notifier runs in the twin, linking to the server
    chosen = senders(settings)
    for username, roles, unit in (
        ("tatausaha", ["clerk"], None),
        ("koordinator", ["coordinator"], None),
        ("opd", ["opd_evaluator"], "DINSOS"),
        ("tapd", ["tapd"], None),
    ):
        await add_account(live.app, username, roles, name=username, unit=unit)
    async with client_for(live.app) as client:
        r = await client.post(
            "/api/v1/budgets",
            json={"fiscal_year": YEAR, "kind": "bansos", "ceiling_idr": 80_000_000},
            headers=await bearer(client, "tapd"),
        )
        assert r.status_code == 201, r.text

    # registration with e-mail: a confirmation page, not an empty login page
    await page.goto(live.url + "/login")
    await page.get_by_role("link", name="Daftar di sini").click()
    await page.get_by_label("Nama lengkap atau nama organisasi").fill("Ibu Rukmini")
    await page.get_by_label("Nama pengguna").fill("rukmini")
    await page.get_by_label("Kata sandi (minimal 10 karakter)").fill("kata-sandi-rahasia")
    await page.get_by_label(re.compile("^E-mail")).fill(EMAIL)
    await page.get_by_label(re.compile("^Nomor telepon")).fill("081234567890")
    await page.get_by_role("button", name="Daftar").click()
    await page.wait_for_load_state()
    assert await page.get_by_role("heading", level=1).inner_text() == "Pendaftaran berhasil"
    assert "tautan konfirmasi" in await page.locator("main").inner_text()

    await _deliver(live, chosen)
    assert inbox.subjects(EMAIL) == ["Konfirmasi alamat e-mail Anda"]
    await page.goto(inbox.link(EMAIL, "/verifikasi-email"))
    assert "sudah terkonfirmasi" in await page.get_by_role("status").first.inner_text()

    await page.get_by_role("link", name="Masuk").last.click()
    await page.locator("#username").fill("rukmini")
    await page.get_by_label("Kata sandi").fill("kata-sandi-rahasia")
    await page.get_by_role("button", name="Masuk").click()
    await page.wait_for_load_state()
    await page.goto(live.url + "/ajukan")
    await page.get_by_label("Jenis bantuan").select_option("bansos")
    await page.get_by_label("Tujuan bansos (wajib untuk bansos)").select_option(
        "pemberdayaan_sosial"
    )
    # bansos is selective: the recipient's social risk is required (the form refuses without it)
    await page.get_by_label(
        "Risiko sosial yang dihadapi penerima (wajib untuk bansos)"
    ).select_option("disabilitas")
    await page.get_by_label("Judul usulan").fill("Bantuan alat bantu dengar")
    await page.get_by_label("Tujuan penggunaan dana").fill("Alat bantu dengar untuk lansia")
    await page.get_by_label("Jumlah yang diusulkan").fill("2.500.000")
    await page.get_by_label("Uraian 1").fill("Alat bantu dengar")
    await page.get_by_label("Jumlah 1 (Rp)").fill("2.500.000")
    await page.get_by_label("Pemohon adalah").select_option("individual")
    await page.get_by_label("Nama pemohon").fill("Ibu Rukmini")
    await page.get_by_label("NIK (wajib untuk perorangan)").fill("3273015203800003")
    await page.get_by_label("Alamat", exact=True).fill("Jl. Dahlia No. 9, Bandung")
    await page.get_by_label("Kode wilayah desa/kelurahan").fill("32.73.01.1001")
    await page.get_by_label("Nomor telepon").fill("081234567890")
    await page.get_by_role("button", name="Kirim usulan").click()
    await page.wait_for_url(re.compile(r"/usulan/\d+"))
    code = (await page.locator("#tracking-code").inner_text()).strip()
    pid = int(re.search(r"/usulan/(\d+)", page.url).group(1))  # type: ignore[union-attr]

    # the receipt, offered right after submitting, names the code and who holds the file
    await page.locator("#receipt-button").click()
    await page.wait_for_url(re.compile(rf"/usulan/{pid}/tanda-terima$"))
    assert (await page.locator("#receipt-code").inner_text()).strip() == code
    assert (await page.locator("#receipt-holder").inner_text()).strip() == "Tata Usaha"
    pdf_href = await page.get_by_role("link", name="Unduh PDF").get_attribute("href")
    pdf = await page.request.get(urljoin(page.url, pdf_href or ""))  # with the page's session
    assert pdf.status == 200
    assert (await pdf.body()).startswith(b"%PDF")
    await page.get_by_role("link", name="Kembali ke berkas").click()
    await page.wait_for_url(re.compile(rf"/usulan/{pid}$"))

    await _deliver(live, chosen)
    assert inbox.subjects(EMAIL)[-1] == f"Berkas {code} telah diterima"

    # each official's step reaches the citizen's inbox, naming the stage it moved to
    async with client_for(live.app) as client:
        clerk = await bearer(client, "tatausaha")
        await _complete(client, pid, clerk)
        steps = [
            ("tatausaha", {"action": "verify_completeness"}, "Penunjukan OPD"),
            ("koordinator", {"action": "assign_opd", "opd_code": "DINSOS"}, "Evaluasi OPD"),
            (
                "opd",
                {"action": "return_for_revision", "note": "Lampirkan surat keterangan"},
                "Perbaikan oleh pemohon",
            ),
        ]
        for who, step, stage in steps:
            r = await client.post(
                f"/api/v1/proposals/{pid}/transitions",
                json=step,
                headers=await bearer(client, who),
            )
            assert r.status_code == 200, r.text
            before = len(inbox.to(EMAIL))
            await _deliver(live, chosen)
            mails = inbox.to(EMAIL)
            assert len(mails) == before + 1
            assert stage in Inbox.body(mails[-1])
            assert code in str(mails[-1]["Subject"])
    assert inbox.subjects(EMAIL)[-1] == f"Berkas {code} perlu diperbaiki"

    # the link in the last mail opens the file's page for its owner
    link = re.search(r"http://\S+/usulan/\d+", Inbox.body(inbox.to(EMAIL)[-1]))
    assert link is not None
    await page.goto(link.group(0))
    assert "Perbaikan oleh pemohon" in await page.locator("#status").inner_text()

    # the citizen turns e-mail off on the settings page: the next step sends nothing
    await page.get_by_role("link", name="Pengaturan notifikasi").click()
    await page.get_by_label("Kirim lewat e-mail").uncheck()
    await page.get_by_role("button", name="Simpan").click()
    await page.wait_for_load_state()
    assert "tersimpan" in await page.locator("main").inner_text()
    async with client_for(live.app) as client:  # the page session is not needed any more
        r = await client.post(
            f"/api/v1/proposals/{pid}/transitions",
            json={"action": "withdraw"},
            headers=await bearer(client, "rukmini", "kata-sandi-rahasia"),
        )
        assert r.status_code == 200, r.text
    before = len(inbox.mails)
    await _deliver(live, chosen)
    assert len(inbox.mails) == before
