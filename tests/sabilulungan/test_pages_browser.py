"""Sabilulungan's pages in headless Chromium on a phone-sized screen, without writing any JS."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from sabilulungan import issued
from sabilulungan.config import EVALUATION_CHECKLIST
from sabilulungan.dependencies import context_of
from sabilulungan.models import IssuedDocument
from shared.testing import add_account, bearer, client_for

pytestmark = pytest.mark.browser

YEAR = dt.date.today().year + 1
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EVALUATION = dict.fromkeys(EVALUATION_CHECKLIST, True)


def _organization(name: str) -> dict[str, Any]:
    return {
        "type": "organization",
        "name": name,
        "legal_entity_number": "AHU-0012345.AH.01.04.2019",
        "npwp": "01.234.567.8-901.000",
        "address": "Jl. Braga No. 1, Bandung",
        "region_code": "32.73.01.1001",
        "phone": "0224201111",
        "bank_account": "1234567890123",
        "board_members": [
            {"name": "Ketua", "nik": "3273010101900001", "position": "Ketua"},
            {"name": "Sekretaris", "nik": "3273014505850002", "position": "Sekretaris"},
        ],
    }


async def _complete(client: Any, pid: int, headers: dict[str, str]) -> None:
    """Upload every document the proposal's category requires."""
    r = await client.get(f"/api/v1/proposals/{pid}", headers=headers)
    assert r.status_code == 200, r.text
    for item in r.json()["missing_documents"]:
        r = await client.post(
            f"/api/v1/proposals/{pid}/documents",
            data={"item": item},
            files={"file": ("berkas.pdf", PDF, "application/pdf")},
            headers=headers,
        )
        assert r.status_code == 201, r.text


async def _login(page: Any, url: str, username: str, next_path: str = "/") -> None:
    await page.goto(f"{url}/login?next={next_path}")
    await page.locator("#username").fill(username)
    await page.get_by_label("Kata sandi").fill("password-123")
    await page.get_by_role("button", name="Masuk").click()
    await page.wait_for_url(url + next_path)


async def test_apply_upload_track_queue_and_transparency(
    live_service: Any, page: Any, tmp_path: Any
) -> None:
    live = await live_service("sabilulungan")
    for username, roles, unit in (
        ("pemohon", ["applicant"], None),
        ("tatausaha", ["clerk"], None),
        ("tapd", ["tapd"], None),
    ):
        await add_account(live.app, username, roles, name=username, unit=unit)
    async with client_for(live.app) as client:
        tapd = await bearer(client, "tapd")
        r = await client.post(
            "/api/v1/budgets",
            json={"fiscal_year": YEAR, "kind": "bansos", "ceiling_idr": 80_000_000},
            headers=tapd,
        )
        assert r.status_code == 201

    await _login(page, live.url, "pemohon", "/ajukan")
    await page.get_by_label("Jenis bantuan").select_option("bansos")
    await page.get_by_label("Tujuan bansos (wajib untuk bansos)").select_option(
        "pemberdayaan_sosial"
    )
    # Bansos is selective: the social risk comes from the category's configured list.
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
    assert "Usulan diterima" in await page.get_by_role("status").first.inner_text()
    code = (await page.locator("#tracking-code").inner_text()).strip()

    upload = tmp_path / "surat.pdf"
    upload.write_bytes(PDF)
    await page.get_by_label("Jenis dokumen").select_option("proposal_letter")
    await page.get_by_label("Berkas (PDF, JPG atau PNG)").set_input_files(str(upload))
    await page.get_by_role("button", name="Unggah").click()
    await page.wait_for_load_state()
    assert "Berkas diunggah." in await page.locator("main").inner_text()
    # The rest of what this recipient category requires, through the same page form.
    pid = int(re.search(r"/usulan/(\d+)", page.url).group(1))  # type: ignore[union-attr]
    async with client_for(live.app) as client:
        r = await client.get(f"/api/v1/proposals/{pid}", headers=await bearer(client, "tatausaha"))
        assert r.status_code == 200, r.text
        missing = r.json()["missing_documents"]
    for item in missing:
        await page.get_by_label("Jenis dokumen").select_option(item)
        await page.get_by_label("Berkas (PDF, JPG atau PNG)").set_input_files(str(upload))
        await page.get_by_role("button", name="Unggah").click()
        await page.wait_for_load_state()
        assert "Berkas diunggah." in await page.locator("main").inner_text()

    await page.goto(live.url + "/lacak")
    await page.get_by_label("Kode pelacakan").fill(code.lower())
    await page.get_by_role("button", name="Lacak").click()
    await page.wait_for_url(re.compile("/lacak/"))
    assert await page.locator("#status").inner_text() == "Pemeriksaan kelengkapan"
    assert await page.locator("#holder").inner_text() == "Tata Usaha"

    await page.get_by_role("button", name="Keluar").click()
    await page.wait_for_url(live.url + "/")  # the logout has landed before the next login
    await _login(page, live.url, "tatausaha", "/antrian")
    await page.get_by_role("link", name=code).click()
    await page.get_by_role("button", name="Berkas lengkap").click()
    await page.wait_for_url(re.compile(r"aksi=verify_completeness"))
    assert "Penunjukan OPD" in await page.locator("#status").inner_text()

    await page.goto(f"{live.url}/transparansi?tahun={YEAR}")
    bar = page.get_by_role("img", name=re.compile("Pagu Rp80.000.000"))
    assert await bar.count() == 1
    table = await page.locator("table").inner_text()
    # An individual is named on the public ledger only once a Keputusan names them.
    assert "Pemohon perorangan" in table
    assert "Rp2.500.000" in table
    assert "Ibu Rukmini" not in table
    assert "Dahlia" not in table
    assert "3273015203800003" not in await page.content()


async def test_nphd_verification_page_opens_from_the_qr(live_service: Any, page: Any) -> None:
    live = await live_service("sabilulungan")
    people = {
        "pemohon": ["applicant"],
        "tatausaha": ["clerk"],
        "koordinator": ["coordinator"],
        "opd": ["opd_evaluator"],
        "tapd": ["tapd"],
        "kepala": ["head"],
    }
    async with client_for(live.app) as client:
        h = {}
        for username, roles in people.items():
            unit = "DINSOS" if username == "opd" else None
            await add_account(live.app, username, roles, name=username, unit=unit)
            h[username] = await bearer(client, username)
        await client.post(
            "/api/v1/budgets",
            json={"fiscal_year": YEAR, "kind": "hibah", "ceiling_idr": 80_000_000},
            headers=h["tapd"],
        )
        body = {
            "kind": "hibah",
            "fiscal_year": YEAR,
            "title": "Gedung serbaguna",
            "purpose": "Pembangunan gedung serbaguna",
            "requested_amount_idr": 10_000_000,
            "budget_lines": [{"description": "Bahan", "amount_idr": 10_000_000}],
            "applicant": _organization("Perkumpulan Warga Sauyunan"),
        }
        r = await client.post("/api/v1/proposals", json=body, headers=h["pemohon"])
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
        await _complete(client, pid, h["tatausaha"])
        steps = [
            ("tatausaha", {"action": "verify_completeness"}),
            ("koordinator", {"action": "assign_opd", "opd_code": "DINSOS"}),
            ("opd", {"action": "recommend", "amount_idr": 10_000_000, "checklist": EVALUATION}),
            ("tapd", {"action": "consider", "amount_idr": 9_000_000}),
            ("kepala", {"action": "approve", "decree_number": "400/KEP.9/2027"}),
            ("kepala", {"action": "sign_agreement", "agreement_number": "NPHD/9/2027"}),
        ]
        for who, step in steps:
            r = await client.post(f"/api/v1/proposals/{pid}/transitions", json=step, headers=h[who])
            assert r.status_code == 200, r.text
    async with live.app.state.db.sessionmaker() as session:
        from sqlalchemy import select

        doc = (await session.execute(select(IssuedDocument))).scalar_one()
    qr = urlsplit(issued.verify_url(context_of(live.app.state), live.url, doc))
    response = await page.goto(f"{live.url}{qr.path}?{qr.query}")
    assert response is not None
    assert response.status == 200
    text = await page.locator("main").inner_text()
    assert "asli dan tercatat" in text
    assert "Tanda tangan digital QR sah" in text
    assert "Rp9.000.000" in text
    assert "Perkumpulan Warga Sauyunan" in text


NO_OVERFLOW = "document.documentElement.scrollWidth <= window.innerWidth"


async def test_apply_errors_in_indonesian_linked_to_fields_without_javascript(
    live_service: Any, browser: Any
) -> None:
    live = await live_service("sabilulungan")
    await add_account(live.app, "pemohon", ["applicant"], name="pemohon")
    context = await browser.new_context(
        locale="id-ID", viewport={"width": 390, "height": 844}, java_script_enabled=False
    )
    page = await context.new_page()
    await _login(page, live.url, "pemohon", "/ajukan")
    await page.get_by_label("Jenis bantuan").select_option("bansos")
    await page.get_by_label("Judul usulan").fill("Bantuan alat bantu dengar")
    await page.get_by_label("Tujuan penggunaan dana").fill("Alat bantu dengar untuk lansia")
    await page.get_by_label("Jumlah yang diusulkan").fill("2.500.000")
    await page.get_by_label("Uraian 1").fill("Alat bantu dengar")
    await page.get_by_label("Jumlah 1 (Rp)").fill("2.500.000")
    await page.get_by_label("Pemohon adalah").select_option("individual")
    await page.get_by_label("Nama pemohon").fill("Ibu Rukmini")
    await page.get_by_label("NIK (wajib untuk perorangan)").fill("32730152")
    await page.get_by_label("Alamat", exact=True).fill("Jl. Dahlia No. 9, Bandung")
    await page.get_by_label("Kode wilayah desa/kelurahan").fill("32.73.01.1001")
    await page.get_by_label("Nomor telepon").fill("12")
    await page.get_by_role("button", name="Kirim usulan").click()
    await page.wait_for_load_state()

    summary = page.locator("#kesalahan")
    text = await summary.inner_text()
    assert "NIK: harus tepat 16 angka" in text
    assert "Nomor telepon: bukan nomor telepon Indonesia yang valid" in text
    assert not re.search(r"\b(must|should|String|Value error)\b", text)
    link = summary.get_by_role("link", name=re.compile("Nomor telepon"))
    assert await link.get_attribute("href") == "#phone"
    assert await page.locator("#phone").get_attribute("aria-invalid") == "true"
    assert await page.get_by_label("Judul usulan").input_value() == "Bantuan alat bantu dengar"
    assert await page.get_by_label("Jumlah 1 (Rp)").input_value() == "2.500.000"
    assert await page.evaluate(NO_OVERFLOW)
    await context.close()


async def test_ledger_and_queue_fit_a_phone(live_service: Any, page: Any) -> None:
    live = await live_service("sabilulungan")
    for username, roles in (("pemohon", ["applicant"]), ("tapd", ["tapd"]), ("kepala", ["head"])):
        await add_account(live.app, username, roles, name=username)
    async with client_for(live.app) as client:
        tapd = await bearer(client, "tapd")
        await client.post(
            "/api/v1/budgets",
            json={"fiscal_year": YEAR, "kind": "hibah", "ceiling_idr": 80_000_000},
            headers=tapd,
        )
        body = {
            "kind": "hibah",
            "fiscal_year": YEAR,
            "title": "Renovasi gedung serbaguna perkumpulan warga",
            "purpose": "Renovasi",
            "requested_amount_idr": 125_000_000,
            "budget_lines": [{"description": "Bahan", "amount_idr": 125_000_000}],
            "applicant": _organization("Perkumpulan Warga Sauyunan Sejahtera Bersama"),
        }
        pemohon = await bearer(client, "pemohon")
        r = await client.post("/api/v1/proposals", json=body, headers=pemohon)
        assert r.status_code == 201, r.text

    await page.goto(f"{live.url}/transparansi?tahun={YEAR}")
    assert await page.evaluate(NO_OVERFLOW)
    amount = page.locator("td[data-label='Diusulkan']").first
    assert await amount.inner_text() == "Rp125.000.000"
    # An amount is never broken in the middle: it stays on one line.
    line = await amount.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)")
    assert await amount.evaluate("e => e.getBoundingClientRect().height") < 2 * line + 16

    await _login(page, live.url, "kepala", "/antrian")
    assert await page.title() == "Antrian kerja — Kota Contoh"
    # The annex is issued from a list of decree numbers (none approved yet), never a typed one.
    assert await page.locator("#decree_number").count() == 0
    assert await page.locator("main #annex-title").count() == 1
    assert await page.evaluate(NO_OVERFLOW)
